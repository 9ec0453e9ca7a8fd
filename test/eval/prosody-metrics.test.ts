import { describe, expect, it } from 'vitest';
import { compareF0, warpAnchors, warpF0, wordDurationCorrelation } from '../../src/eval/prosody-metrics.ts';

describe('prosody metrics', () => {
  it('a contour compared with itself: corr 1, zero error', () => {
    const f0 = Float32Array.from({ length: 100 }, (_, i) => (i % 10 === 0 ? 0 : 120 * 2 ** (Math.sin(i / 8) / 6)));
    const c = compareF0(f0, f0);
    expect(c.corr).toBeCloseTo(1, 6);
    expect(c.rmseSemitones).toBeCloseTo(0, 6);
    expect(c.frames).toBe(90);
  });

  it('an octave shift: corr 1, rmse 12 st, shape rmse 0, median error +12 st', () => {
    const f0 = Float32Array.from({ length: 50 }, (_, i) => 100 + i);
    const c = compareF0(f0, f0.map((x) => 2 * x));
    expect(c.corr).toBeCloseTo(1, 6);
    expect(c.rmseSemitones).toBeCloseTo(12, 6);
    expect(c.rmseShapeSemitones).toBeCloseTo(0, 6);
    expect(c.medianErrorSemitones).toBeCloseTo(12, 6);
  });

  it('warping by word boundaries undoes a tempo change', () => {
    // Original: rising ramp over 1000 ms; decoded: same ramp played at half speed (2000 ms).
    const ref = Float32Array.from({ length: 100 }, (_, i) => 100 + i);
    const dec = Float32Array.from({ length: 200 }, (_, i) => 100 + i / 2);
    const anchors = warpAnchors([{ startMs: 0, endMs: 500 }, { startMs: 500, endMs: 1000 }], [{ startMs: 0, endMs: 1000 }, { startMs: 1000, endMs: 2000 }], 1000, 2000);
    const warped = warpF0(dec, 10, anchors, 100);
    const c = compareF0(ref, warped);
    expect(c.rmseSemitones).toBeLessThan(0.05);
    // Without warping the comparison is worse.
    expect(compareF0(ref, dec.subarray(0, 100)).rmseSemitones).toBeGreaterThan(1);
  });

  it('word duration correlation', () => {
    const a = [{ startMs: 0, endMs: 100 }, { startMs: 100, endMs: 400 }, { startMs: 400, endMs: 600 }];
    const b = a.map((w) => ({ startMs: w.startMs * 2, endMs: w.endMs * 2 }));
    expect(wordDurationCorrelation(a, b)).toBeCloseTo(1, 6);
  });
});
