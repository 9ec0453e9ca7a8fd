import { expect, it } from 'vitest';
import { resample } from '../../src/audio/index.ts';
import { trackF0 } from '../../src/engines/prosody/index.ts';
import type { TtsEngine } from '../../src/engines/tts/types.ts';
import { InvalidStateError } from '../../src/core/errors.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const st = (hz: number) => 12 * Math.log2(hz);

/** Capabilities an engine claims for the accuracy part. */
export interface TtsAccuracyCaps { f0Contour: boolean; wordDurations: boolean; medianToleranceSt: number }

/** What every TTS engine must do: the structural part, then the accuracy part. */
export function ttsConformance(make: () => Promise<TtsEngine>, caps: TtsAccuracyCaps): void {
  ttsStructuralConformance(make);
  ttsAccuracyConformance(make, caps);
}

/**
 * Structure only (no speech knowledge): a sane sample rate, non-empty audio, one word entry per
 * input word with increasing times inside the audio, `rate` changes the length, odd text, abort
 * and close. Engines verified only with fixture models (Piper) pass this part.
 */
export function ttsStructuralConformance(make: () => Promise<TtsEngine>): void {
  it('speaks text with increasing, non-overlapping word times inside the audio', async () => {
    const tts = await make();
    try {
      const r = await tts.synthesize({ text: 'the radio is on channel sixteen' });
      const durMs = (r.samples.length / r.sampleRateHz) * 1000;
      expect(durMs).toBeGreaterThan(800);
      expect(r.words).toHaveLength(6);
      let last = 0;
      for (const w of r.words) {
        expect(w.startMs).toBeGreaterThanOrEqual(last);
        expect(w.endMs).toBeGreaterThan(w.startMs);
        last = w.endMs;
      }
      expect(last).toBeLessThanOrEqual(durMs + 1);
      const rms = Math.sqrt(r.samples.reduce((s, x) => s + x * x, 0) / r.samples.length);
      expect(rms).toBeGreaterThan(0.01);
    } finally {
      await tts.close();
    }
  });

  it('a faster rate gives shorter audio; a pre-aborted signal rejects', async () => {
    const tts = await make();
    try {
      const text = 'we will meet at the harbour in the morning';
      const slow = await tts.synthesize({ text });
      const fast = await tts.synthesize({ text, rate: 1.5 });
      expect(Number.isInteger(slow.sampleRateHz) && slow.sampleRateHz >= 8000).toBe(true);
      expect(fast.sampleRateHz).toBe(slow.sampleRateHz);
      expect(fast.samples.length).toBeLessThan(slow.samples.length * 0.85);
      expect(fast.samples.length).toBeGreaterThan(0);
      const ac = new AbortController();
      ac.abort();
      await expect(tts.synthesize({ text }, ac.signal)).rejects.toThrow();
    } finally {
      await tts.close();
    }
  });

  it('handles quotes, digits and odd characters, and refuses use after close', async () => {
    const tts = await make();
    const r = await tts.synthesize({ text: 'He said "12 knots" \\ o\'clock; ok?' });
    expect(r.samples.length).toBeGreaterThan(0);
    expect((await tts.synthesize({ text: '   ' })).samples.length).toBe(0);
    await tts.close();
    await tts.close();
    await expect(tts.synthesize({ text: 'hello' })).rejects.toBeInstanceOf(InvalidStateError);
  });
}

/** Speech accuracy: median pitch, and (per capability) frame F0 contours and word durations. */
export function ttsAccuracyConformance(make: () => Promise<TtsEngine>, caps: TtsAccuracyCaps): void {
  it(`moves its median pitch to the requested F0 (within ${caps.medianToleranceSt} semitones)`, async () => {
    const tts = await make();
    try {
      for (const target of [110, 220]) {
        const r = await tts.synthesize({ text: 'we sail at dawn and return before the storm', f0MedianHz: target });
        const f0 = Array.from(trackF0(resample(r, 16000)).f0Hz).filter((x) => x > 0);
        expect(Math.abs(st(median(f0)) - st(target))).toBeLessThan(caps.medianToleranceSt);
      }
    } finally {
      await tts.close();
    }
  });

  if (caps.f0Contour) {
    it('follows a frame-level F0 contour (median error ≤ 0.5 semitone on voiced frames)', async () => {
      const tts = await make();
      try {
        // ±4 semitone sine around 180 Hz, period 1 s, absolute time base, 10 ms frames.
        const contour = Float32Array.from({ length: 400 }, (_, i) => 180 * 2 ** ((4 * Math.sin((2 * Math.PI * i) / 100)) / 12));
        const r = await tts.synthesize({ text: 'many men were waiting in the warm morning rain', f0Hz: contour, f0FrameMs: 10, f0TimeBase: 'absolute' });
        const got = trackF0(resample(r, 16000)).f0Hz;
        const errs: number[] = [];
        for (let i = 0; i < Math.min(got.length, contour.length); i++) if (got[i]! > 0) errs.push(Math.abs(st(got[i]!) - st(contour[i]!)));
        expect(errs.length).toBeGreaterThan(50);
        expect(median(errs)).toBeLessThan(0.5);
      } finally {
        await tts.close();
      }
    });
  }

  if (caps.wordDurations) {
    it('imposes word durations within one 5 ms frame per phone', async () => {
      const tts = await make();
      try {
        const want = [300, 600, 250, 900];
        const r = await tts.synthesize({ text: 'keep the radio open', wordDurationsMs: want, pausesAfterMs: [0, 200, 0, 0] });
        r.words.forEach((w, i) => expect(Math.abs(w.endMs - w.startMs - want[i]!)).toBeLessThanOrEqual(30));
        expect(r.words[2]!.startMs - r.words[1]!.endMs).toBeGreaterThanOrEqual(190);
      } finally {
        await tts.close();
      }
    });
  }
}
