import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/core/errors.ts';
import { dct2, hannWindow, hzToMel, idct2, logMelSpectrogram, melFilterbank, melToHz, mfcc, powerSpectrum, realFft, stft } from '../../../src/audio/spectrum/index.ts';

const SR = 16000;
function sine(freqHz: number, n: number, amp = 0.5): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = amp * Math.sin((2 * Math.PI * freqHz * i) / SR);
  return x;
}

describe('fft', () => {
  it('DC input puts all energy in bin 0', () => {
    const { re, im } = realFft(new Float64Array(8).fill(1), 8);
    expect(re[0]).toBeCloseTo(8, 12);
    for (let k = 1; k < re.length; k++) { expect(Math.abs(re[k]!)).toBeLessThan(1e-12); expect(Math.abs(im[k]!)).toBeLessThan(1e-12); }
  });
  it('matches a direct DFT on a random vector', () => {
    let s = 12345;
    const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    const x = Array.from({ length: 32 }, rnd);
    const { re, im } = realFft(x, 32);
    for (let k = 0; k <= 16; k++) {
      let r = 0, i = 0;
      for (let n = 0; n < 32; n++) { r += x[n]! * Math.cos((2 * Math.PI * k * n) / 32); i -= x[n]! * Math.sin((2 * Math.PI * k * n) / 32); }
      expect(re[k]).toBeCloseTo(r, 9);
      expect(im[k]).toBeCloseTo(i, 9);
    }
  });
  it('a bin-centred sine peaks at its bin with power (N·A/2)²', () => {
    const n = 512;
    const x = sine((SR * 32) / n, n, 1);
    const p = powerSpectrum(x, n);
    let best = 0;
    for (let k = 1; k < p.length; k++) if (p[k]! > p[best]!) best = k;
    expect(best).toBe(32);
    expect(p[32]! / (n / 2) ** 2).toBeCloseTo(1, 6); // float32 input: relative check
  });
  it('rejects non power-of-two sizes', () => {
    expect(() => realFft([1, 2, 3], 3)).toThrow(UsageError);
  });
});

describe('stft', () => {
  it('Hann window endpoints are 0 and centre 1', () => {
    const w = hannWindow(401);
    expect(w[0]).toBeCloseTo(0, 12);
    expect(w[200]).toBeCloseTo(1, 12);
  });
  it('frames a 1 s signal into 98 frames of 257 bins and finds a 1 kHz peak', () => {
    const spec = stft({ samples: sine(1000, SR), sampleRateHz: SR });
    expect(spec.frames.length).toBe(1 + Math.floor((SR - 400) / 160));
    expect(spec.fftSize).toBe(512);
    const p = spec.frames[10]!;
    let best = 0;
    for (let k = 0; k < p.length; k++) if (p[k]! > p[best]!) best = k;
    expect(best).toBe(32); // 1000 Hz / (16000/512) = 32
  });
});

describe('mel', () => {
  it('HTK formula: 1000 Hz ≈ 1000 mel, inverse round-trips', () => {
    expect(hzToMel(1000)).toBeCloseTo(999.99, 1);
    expect(melToHz(hzToMel(3456))).toBeCloseTo(3456, 6);
  });
  it('filters peak at 1, are ordered, and interior bins are covered by overlapping triangles summing to 1', () => {
    const fb = melFilterbank(26, 512, SR);
    expect(fb.weights.length).toBe(26);
    for (let m = 1; m < 26; m++) expect(fb.centersHz[m]!).toBeGreaterThan(fb.centersHz[m - 1]!);
    // Between the first and the last centre, adjacent triangles sum to exactly 1 at every bin.
    const lo = Math.ceil((fb.centersHz[0]! * 512) / SR) + 1;
    const hi = Math.floor((fb.centersHz[25]! * 512) / SR) - 1;
    for (let k = lo; k <= hi; k++) {
      let s = 0;
      for (const w of fb.weights) s += w[k]!;
      expect(s).toBeCloseTo(1, 9);
    }
    for (const w of fb.weights) expect(Math.max(...w)).toBeLessThanOrEqual(1);
  });
  it('log-mel of a 1 kHz sine is highest in the filter whose centre is nearest 1 kHz', () => {
    const lm = logMelSpectrogram({ samples: sine(1000, 8000), sampleRateHz: SR }, { preemphasis: 0 });
    const fb = melFilterbank(26, 512, SR);
    const row = lm[5]!;
    let best = 0;
    for (let m = 0; m < row.length; m++) if (row[m]! > row[best]!) best = m;
    let nearest = 0;
    for (let m = 0; m < 26; m++) if (Math.abs(fb.centersHz[m]! - 1000) < Math.abs(fb.centersHz[nearest]! - 1000)) nearest = m;
    expect(Math.abs(best - nearest)).toBeLessThanOrEqual(1);
  });
});

describe('mfcc', () => {
  it('DCT-II is orthonormal: constant → only c0 = √N·v, idct inverts', () => {
    const c = dct2(new Float64Array(26).fill(2));
    expect(c[0]).toBeCloseTo(2 * Math.sqrt(26), 9);
    for (let k = 1; k < 26; k++) expect(Math.abs(c[k]!)).toBeLessThan(1e-9);
    const x = Float64Array.from({ length: 10 }, (_, i) => Math.sin(i));
    const back = idct2(dct2(x), 10);
    for (let i = 0; i < 10; i++) expect(back[i]).toBeCloseTo(x[i]!, 9);
  });
  it('returns 13 coefficients per 10 ms frame, c0 tracks loudness (+6 dB → c0 + ln4·√26)', () => {
    // A floor far below every filter's energy, so the log is exactly the log energy.
    const a = mfcc({ samples: sine(440, SR, 0.1), sampleRateHz: SR }, { floor: 1e-30 });
    const b = mfcc({ samples: sine(440, SR, 0.2), sampleRateHz: SR }, { floor: 1e-30 });
    expect(a.length).toBe(98);
    expect(a[0]!.length).toBe(13);
    // Doubling amplitude multiplies every filter energy by 4: c0 rises by ln(4)·√26, others unchanged.
    expect(b[20]![0]! - a[20]![0]!).toBeCloseTo(Math.log(4) * Math.sqrt(26), 2);
    expect(b[20]![3]! - a[20]![3]!).toBeCloseTo(0, 3);
  });
  it('rejects numCoeffs > numFilters', () => {
    expect(() => mfcc({ samples: sine(440, 1000), sampleRateHz: SR }, { numCoeffs: 30 })).toThrow(UsageError);
  });
});
