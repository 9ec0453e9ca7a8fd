import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeWavFile } from '../../src/audio/index.ts';
import { AudioError } from '../../src/core/errors.ts';
import { WavLoopEndpoint } from '../../src/daemon/wav-endpoint.ts';

async function collect(it: AsyncIterable<Int16Array>): Promise<Int16Array> {
  const parts: Int16Array[] = [];
  for await (const c of it) parts.push(c.slice());
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe('WAV-loop endpoint', () => {
  it('plays the recording N times with gaps, then a second of silence', async () => {
    const pcm = new Int16Array(1000).map((_, i) => i + 1);
    const ep = new WavLoopEndpoint(pcm, { loops: 2, gapMs: 100, realtime: false, chunkMs: 20 });
    const got = await collect(ep.mic);
    expect(got.length).toBe(2 * (1000 + 1600) + 16000);
    expect(Array.from(got.subarray(0, 1000))).toEqual(Array.from(pcm));
    expect(Array.from(got.subarray(2600, 3600))).toEqual(Array.from(pcm));
    expect(got.subarray(1000, 2600).every((v) => v === 0)).toBe(true);
    expect(ep.loopsPlayed).toBe(2);
  });

  it('keeps the microphone open with silence after stopSpeaking() until stop()', async () => {
    const ep = new WavLoopEndpoint(new Int16Array(320).fill(100), { loops: Infinity, gapMs: 0, realtime: false, chunkMs: 20 });
    let n = 0;
    let quiet = 0;
    for await (const c of ep.mic) {
      n++;
      if (n === 5) ep.stopSpeaking();
      if (n > 6 && c.every((v) => v === 0)) quiet++;
      if (quiet === 10) ep.stop();
    }
    expect(quiet).toBeGreaterThanOrEqual(10);
  });

  it('collects what it hears in a bounded ring and the transcripts', async () => {
    const ep = new WavLoopEndpoint(new Int16Array(10), { keepHeardSeconds: 1 });
    await ep.play(new Float32Array(16000 * 3).fill(0.5), 16000);
    await ep.play(new Float32Array(8000).fill(0.25), 8000);
    expect(ep.heardMs).toBeCloseTo(4000, 0);
    const recent = ep.recentAudio();
    expect(recent.length).toBe(16000);
    expect(recent[recent.length - 100]).toBeCloseTo(0.25, 2);
    ep.event({ type: 'transcript', direction: 'in', text: 'HELLO', atMs: 1 });
    ep.event({ type: 'transcript', direction: 'out', text: 'WORLD', atMs: 2 });
    expect(ep.heard).toEqual(['HELLO']);
    expect(ep.sent).toEqual(['WORLD']);
  });

  it('refuses files over the size limit and non-WAV files with typed errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stcts-wavep-'));
    const wav = join(dir, 'a.wav');
    await writeWavFile(wav, { samples: new Float32Array(16000), sampleRateHz: 16000 });
    const big = await WavLoopEndpoint.fromFile(wav, { maxWavBytes: 1000 }).catch((e) => e);
    expect(big).toBeInstanceOf(AudioError);
    expect(big.code).toBe('too_large');
    writeFileSync(join(dir, 'b.wav'), 'not a wav at all');
    const bad = await WavLoopEndpoint.fromFile(join(dir, 'b.wav')).catch((e) => e);
    expect(bad).toBeInstanceOf(AudioError);
    expect(bad.code).toBe('not_wav');
    expect((await WavLoopEndpoint.fromFile(wav)).id).toBe('wav');
  });
});
