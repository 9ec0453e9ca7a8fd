import { describe, expect, it } from 'vitest';
import { EnergyVad, segmentSpeech, segmentSpeechStream } from '../../src/audio/vad.ts';

/** Noise floor with tone bursts at given [start, end) seconds. */
function signal(seconds: number, bursts: Array<[number, number]>): Int16Array {
  const pcm = new Int16Array(seconds * 16000);
  let seed = 1;
  for (let i = 0; i < pcm.length; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const t = i / 16000;
    const on = bursts.some(([a, b]) => t >= a && t < b);
    pcm[i] = Math.round(((seed / 2 ** 32) - 0.5) * 60 + (on ? 8000 * Math.sin(2 * Math.PI * 200 * t) : 0));
  }
  return pcm;
}

describe('energy VAD', () => {
  it('finds phrases separated by pauses, with padding', () => {
    const segs = segmentSpeech(signal(8, [[1, 2.5], [3.5, 5]]));
    expect(segs).toHaveLength(2);
    // Bursts at 1.0–2.5 s and 3.5–5.0 s, padded by DEFAULT_VAD_OPTIONS.paddingMs (100 ms).
    expect(segs[0]!.startMs).toBeCloseTo(900, -2);
    expect(segs[0]!.endMs).toBeCloseTo(2600, -2);
    expect(segs[1]!.startMs).toBeCloseTo(3400, -2);
  });

  it('keeps short pauses inside a phrase and splits phrases over the maximum', () => {
    expect(segmentSpeech(signal(6, [[1, 2], [2.2, 3]]))).toHaveLength(1);
    const long = segmentSpeech(signal(30, [[1, 25]]), { maxPhraseMs: 10_000 });
    expect(long.length).toBeGreaterThanOrEqual(3);
    for (const s of long) expect(s.endMs - s.startMs).toBeLessThanOrEqual(10_400);
  });

  it('streams: a phrase is reported as soon as its trailing silence is long enough', () => {
    const pcm = signal(6, [[1, 2]]);
    const vad = new EnergyVad();
    const cut = Math.round(2.6 * 16000);
    expect(vad.push(pcm.subarray(0, Math.round(2.3 * 16000)))).toHaveLength(0);
    expect(vad.push(pcm.subarray(Math.round(2.3 * 16000), cut))).toHaveLength(1);
  });

  it('streaming form over async chunks gives the same phrases as the whole-file form', async () => {
    const pcm = signal(8, [[1, 2.5], [3.5, 5]]);
    async function* chunks() {
      for (let i = 0; i < pcm.length; i += 777) yield pcm.subarray(i, i + 777);
    }
    const got = [];
    for await (const s of segmentSpeechStream(chunks())) got.push(s);
    expect(got).toEqual(segmentSpeech(pcm));
    expect(got).toHaveLength(2);
  });

  it('offers the phrase as tentative after 100 ms of silence; it equals the final phrase unless speech resumes', () => {
    const pcm = signal(8, [[1, 2], [2.3, 3], [4, 5]]);
    const vad = new EnergyVad();
    const tentatives: Array<{ atMs: number; seg: { startMs: number; endMs: number } }> = [];
    const finals: Array<{ startMs: number; endMs: number }> = [];
    const finalAtMs: number[] = [];
    for (let i = 0; i < pcm.length; i += 160) {
      const ended = vad.push(pcm.subarray(i, i + 160));
      finals.push(...ended);
      for (const _ of ended) finalAtMs.push((i + 160) / 16);
      const t = vad.takeTentative();
      if (t) tentatives.push({ atMs: (i + 160) / 16, seg: t });
      expect(vad.takeTentative()).toBeUndefined(); // offered once
    }
    finals.push(...vad.flush());
    expect(finals).toHaveLength(2);
    // 2.0 s: a tentative end that speech at 2.3 s makes stale; 3.0 s and 5.0 s: confirmed ones.
    expect(tentatives).toHaveLength(3);
    expect(tentatives[0]!.atMs).toBeGreaterThanOrEqual(2100);
    expect(tentatives[0]!.atMs).toBeLessThan(2300);
    expect(finals.map((f) => JSON.stringify(f))).not.toContain(JSON.stringify(tentatives[0]!.seg));
    expect(tentatives[1]!.seg).toEqual(finals[0]);
    expect(tentatives[2]!.seg).toEqual(finals[1]);
    // Offered minSilenceMs − tentativeSilenceMs (350 − 100 ms) before the phrase is final.
    expect(finalAtMs[0]! - tentatives[1]!.atMs).toBe(250);
  });
});
