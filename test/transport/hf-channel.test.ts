import { describe, expect, it } from 'vitest';
import { AnalyticSignal, DopplerTap, HfChannel, HILBERT_DELAY, meanPower, noiseVarianceForSnr } from '../../src/transport/hf/index.ts';
import { UsageError } from '../../src/core/errors.ts';

const FS = 8000;

/** In-place radix-2 FFT (N a power of two). */
function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const a = (-2 * Math.PI) / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = Math.cos(a * k);
        const wi = Math.sin(a * k);
        const xr = re[i + k + len / 2]! * wr - im[i + k + len / 2]! * wi;
        const xi = re[i + k + len / 2]! * wi + im[i + k + len / 2]! * wr;
        re[i + k + len / 2] = re[i + k]! - xr;
        im[i + k + len / 2] = im[i + k]! - xi;
        re[i + k] = re[i + k]! + xr;
        im[i + k] = im[i + k]! + xi;
      }
    }
  }
}

/** Power of the real signal `x` inside [loHz, hiHz), from averaged periodograms (rectangular, N=1024). */
function bandPower(x: Float64Array, loHz: number, hiHz: number): number {
  const n = 1024;
  let total = 0;
  let segs = 0;
  for (let s = 0; s + n <= x.length; s += n, segs++) {
    const re = Float64Array.from(x.subarray(s, s + n));
    const im = new Float64Array(n);
    fft(re, im);
    for (let k = 1; k < n / 2; k++) {
      const f = (k * FS) / n;
      if (f >= loHz && f < hiHz) total += (2 * (re[k]! ** 2 + im[k]! ** 2)) / (n * n);
    }
  }
  return total / segs;
}

const tone = (hz: number, amp: number, n: number) => Float64Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / FS));

/** A modem-like signal: 16 tones 500–2375 Hz with seeded phases (OFDM-ish crest factor). */
function multitone(n: number): Float64Array {
  const phases = Array.from({ length: 16 }, (_, k) => (k * 2.399) % (2 * Math.PI));
  return Float64Array.from({ length: n }, (_, i) => phases.reduce((s, p, k) => s + 900 * Math.cos((2 * Math.PI * (500 + 125 * k) * i) / FS + p), 0));
}

describe('HF channel: AWGN in a 3 kHz noise bandwidth', () => {
  it('noise variance follows σ² = S·(Fs/2)/(3000·10^(SNR/10))', () => {
    expect(noiseVarianceForSnr(3, 0)).toBeCloseTo(4, 12);
    expect(noiseVarianceForSnr(1, 10)).toBeCloseTo(4 / 30, 12);
    expect(noiseVarianceForSnr(1, Infinity)).toBe(0);
  });

  for (const [name, signal] of [
    ['sine', tone(1234, 5000, FS * 30)],
    ['multitone', multitone(FS * 30)],
  ] as const) {
    for (const snrDb of [-6, 0, 8]) {
      it(`${name} at ${snrDb} dB: noise measured in a 3 kHz band (FFT) gives the set SNR ±0.2 dB`, () => {
        const S = meanPower(signal);
        const ch = new HfChannel({ kind: 'awgn', snrDb, signalPower: S, seed: 11 });
        const y = ch.process(signal);
        const noise = y.map((v, i) => v / ch.gain - signal[i]!);
        const measured = 10 * Math.log10(S / bandPower(noise, 300, 3300));
        expect(Math.abs(measured - snrDb)).toBeLessThan(0.2);
      });
    }
  }

  it('scales the output to the set RMS and stays clear of int16 clipping at −10 dB', () => {
    const signal = multitone(FS * 5);
    const ch = new HfChannel({ kind: 'awgn', snrDb: -10, signalPower: meanPower(signal), seed: 2 });
    const y = ch.processInt16(signal);
    expect(Math.sqrt(meanPower(y))).toBeGreaterThan(4800);
    expect(Math.sqrt(meanPower(y))).toBeLessThan(5200);
    expect(ch.stats.clipped).toBe(0);
  });

  it('is seeded: same seed same output, other seed different; chunking does not matter', () => {
    const signal = multitone(FS);
    const run = (seed: number, chunk: number) => {
      const ch = new HfChannel({ kind: 'poor', snrDb: 3, signalPower: meanPower(signal), seed });
      const parts: number[] = [];
      for (let i = 0; i < signal.length; i += chunk) parts.push(...ch.processInt16(signal.subarray(i, i + chunk)));
      return parts;
    };
    expect(run(4, 8000)).toEqual(run(4, 8000));
    expect(run(4, 8000)).toEqual(run(4, 7)); // chunks shorter than the path delay, too
    expect(run(5, 8000)).not.toEqual(run(4, 8000));
  });

  it('refuses a missing signal power and unknown channels', () => {
    expect(() => new HfChannel({ signalPower: 0 })).toThrow(UsageError);
    expect(() => new HfChannel({ signalPower: 1, kind: 'moderate' as 'good' })).toThrow(UsageError);
  });
});

describe('HF channel: Watterson fading', () => {
  it('the analytic signal of a cosine is cos + j·sin, delayed by the Hilbert filter', () => {
    const x = tone(1000, 1, 2000).map((_, i) => Math.cos((2 * Math.PI * 1000 * i) / FS));
    const re = new Float64Array(x.length);
    const im = new Float64Array(x.length);
    new AnalyticSignal().process(x, re, im);
    for (let i = 200; i < x.length; i++) {
      const ph = (2 * Math.PI * 1000 * (i - HILBERT_DELAY)) / FS;
      expect(Math.abs(re[i]! - Math.cos(ph))).toBeLessThan(1e-3);
      expect(Math.abs(im[i]! - Math.sin(ph))).toBeLessThan(1e-3);
    }
  });

  for (const spreadHz of [0.1, 1]) {
    it(`a path gain with ${spreadHz} Hz Doppler spread has a Gaussian spectrum of 2σ = spread ±20 % and the set power`, () => {
      const tap = new DopplerTap({ dopplerSpreadHz: spreadHz, sampleRateHz: FS, power: 0.5, seed: 9 });
      const n = 512;
      const psd = new Float64Array(n);
      let power = 0;
      const segs = 300;
      for (let s = 0; s < segs; s++) {
        const re = new Float64Array(n);
        const im = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          const [a, b] = tap.nextTapSample();
          const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
          power += a * a + b * b;
          re[i] = a * w;
          im[i] = b * w;
        }
        fft(re, im);
        for (let k = 0; k < n; k++) psd[k]! += re[k]! ** 2 + im[k]! ** 2;
      }
      let m0 = 0;
      let m2 = 0;
      let inside1Sigma = 0;
      for (let k = 0; k < n; k++) {
        const f = ((k < n / 2 ? k : k - n) * tap.tapRateHz) / n;
        m0 += psd[k]!;
        m2 += f * f * psd[k]!;
        if (Math.abs(f) <= spreadHz / 2) inside1Sigma += psd[k]!;
      }
      const twoSigma = 2 * Math.sqrt(m2 / m0);
      expect(Math.abs(twoSigma - spreadHz) / spreadHz).toBeLessThan(0.2);
      // Gaussian shape: 68 % of the power within ±σ (a flat or Lorentzian spectrum of the same σ is not).
      expect(inside1Sigma / m0).toBeGreaterThan(0.6);
      expect(inside1Sigma / m0).toBeLessThan(0.76);
      expect(power / (n * segs)).toBeGreaterThan(0.45);
      expect(power / (n * segs)).toBeLessThan(0.55);
    });
  }

  it('CCIR poor: mean received power equals the sent power (±0.3 dB over 120 s) and the signal really fades', () => {
    const signal = tone(1500, 5000, FS * 120);
    const S = meanPower(signal);
    const ch = new HfChannel({ kind: 'poor', snrDb: Infinity, signalPower: S, seed: 21 });
    const y = ch.process(signal).map((v) => v / ch.gain);
    expect(Math.abs(10 * Math.log10(meanPower(y) / S))).toBeLessThan(0.3);
    // Rayleigh-like: 100 ms windows spread over > 15 dB (a static channel stays within a fraction of a dB).
    const windows: number[] = [];
    for (let i = 0; i + 800 <= y.length; i += 800) windows.push(10 * Math.log10(meanPower(y.subarray(i, i + 800)) / S));
    windows.sort((a, b) => a - b);
    expect(windows[windows.length - 1]! - windows[Math.floor(windows.length * 0.05)]!).toBeGreaterThan(10);
    expect(windows[Math.floor(windows.length * 0.05)]!).toBeLessThan(-8);
  });

  it('CCIR poor: the two paths are 2 ms apart (frequency-selective: notches across the band)', () => {
    // Two equal paths τ apart notch every 1/τ = 500 Hz: the gain of tones 250 Hz apart differs a lot.
    const ch = new HfChannel({ kind: 'poor', snrDb: Infinity, signalPower: 1, seed: 3, profile: { delayMs: 2, dopplerSpreadHz: 0.01 } });
    const sig = Float64Array.from({ length: FS * 2 }, (_, i) => Math.cos((2 * Math.PI * 1000 * i) / FS) + Math.cos((2 * Math.PI * 1250 * i) / FS));
    const y = ch.process(sig).map((v) => v / ch.gain);
    const p1000 = bandPower(y.subarray(FS), 950, 1050);
    const p1250 = bandPower(y.subarray(FS), 1200, 1300);
    expect(Math.abs(10 * Math.log10(p1000 / p1250))).toBeGreaterThan(3);
  });
});
