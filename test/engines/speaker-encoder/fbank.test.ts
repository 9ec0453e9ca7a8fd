import { describe, expect, it } from 'vitest';
import { FBANK_LOG_FLOOR, kaldiFbank, kaldiFrameCount, kaldiMelBanks } from '../../../src/engines/speaker/neural/fbank.ts';

const SR = 16000;

function seededNoise(n: number, seed: number, amp: number): Int16Array {
  let s = seed >>> 0;
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = Math.round(((s / 2 ** 32) * 2 - 1) * amp);
  }
  return out;
}

/** One Kaldi fbank frame computed step by step with plain loops, straight from the Kaldi recipe. */
function handFrame(x: ArrayLike<number>, start: number): number[] {
  const N = 400;
  const frame: number[] = [];
  for (let i = 0; i < N; i++) frame.push(x[start + i]!);
  // 1. remove DC
  const mean = frame.reduce((a, b) => a + b, 0) / N;
  for (let i = 0; i < N; i++) frame[i] = frame[i]! - mean;
  // 2. pre-emphasis 0.97, first sample against itself
  const pre: number[] = [frame[0]! - 0.97 * frame[0]!];
  for (let i = 1; i < N; i++) pre.push(frame[i]! - 0.97 * frame[i - 1]!);
  // 3. Povey window
  for (let i = 0; i < N; i++) pre[i] = pre[i]! * Math.pow(0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (N - 1)), 0.85);
  // 4. 512-point DFT by definition, power
  const power: number[] = [];
  for (let k = 0; k <= 256; k++) {
    let re = 0;
    let im = 0;
    for (let n = 0; n < N; n++) {
      re += pre[n]! * Math.cos((2 * Math.PI * k * n) / 512);
      im -= pre[n]! * Math.sin((2 * Math.PI * k * n) / 512);
    }
    power.push(re * re + im * im);
  }
  // 5. 80 triangles on 1127·ln(1 + f/700) between 20 Hz and 8 kHz, FFT bins 0..255
  const mel = (f: number) => 1127 * Math.log(1 + f / 700);
  const lo = mel(20);
  const hi = mel(8000);
  const d = (hi - lo) / 81;
  const out: number[] = [];
  for (let m = 0; m < 80; m++) {
    const l = lo + m * d, c = lo + (m + 1) * d, r = lo + (m + 2) * d;
    let e = 0;
    for (let k = 0; k < 256; k++) {
      const z = mel((k * SR) / 512);
      const w = Math.max(0, Math.min((z - l) / (c - l), (r - z) / (r - c)));
      e += w * power[k]!;
    }
    out.push(Math.log(Math.max(e, 1.1920928955078125e-7)));
  }
  return out;
}

describe('Kaldi fbank', () => {
  it('matches a hand-computed frame (no CMN), int16 and float input alike', () => {
    const n = 400 + 160 * 3;
    const x = seededNoise(n, 7, 3000);
    for (let i = 0; i < n; i++) x[i] = x[i]! + Math.round(4000 * Math.sin((2 * Math.PI * 440 * i) / SR)) + 300; // DC offset too
    const f = kaldiFbank(x, { meanNormalize: false });
    expect(f.numFrames).toBe(4);
    expect(f.numBins).toBe(80);
    for (const frameIdx of [0, 3]) {
      const want = handFrame(x, frameIdx * 160);
      for (let m = 0; m < 80; m++) expect(f.data[frameIdx * 80 + m]).toBeCloseTo(want[m]!, 3);
    }
    const asFloat = Float32Array.from(x, (v) => v / 32768);
    const g = kaldiFbank(asFloat, { meanNormalize: false });
    for (let i = 0; i < g.data.length; i++) expect(g.data[i]).toBeCloseTo(f.data[i]!, 3);
  });

  it('frame count is 1 + floor((N − 400) / 160), zero below one window', () => {
    for (const n of [0, 399, 400, 559, 560, 16000, 16001]) {
      const want = n < 400 ? 0 : 1 + Math.floor((n - 400) / 160);
      expect(kaldiFrameCount(n, 400, 160)).toBe(want);
      expect(kaldiFbank(new Int16Array(n)).numFrames).toBe(want);
    }
  });

  it('a sine peaks in the mel bin whose centre is nearest its frequency', () => {
    const banks = kaldiMelBanks(80, 512, SR, 20, 0);
    for (const hz of [300, 1000, 3000, 6000]) {
      const x = Int16Array.from({ length: 16000 }, (_, i) => Math.round(10000 * Math.sin((2 * Math.PI * hz * i) / SR)));
      const f = kaldiFbank(x, { meanNormalize: false });
      const row = f.data.subarray(50 * 80, 51 * 80);
      const peak = row.indexOf(Math.max(...row));
      // the bin whose triangle weights the sine's FFT bin most
      const k = Math.round((hz * 512) / SR);
      let best = 0;
      for (let m = 1; m < 80; m++) if (banks[m]![k]! > banks[best]![k]!) best = m;
      expect(Math.abs(peak - best)).toBeLessThanOrEqual(1);
    }
  });

  it('silence sits on the log floor; CMN zeroes each bin mean', () => {
    const s = kaldiFbank(new Int16Array(4000), { meanNormalize: false });
    for (const v of s.data) expect(v).toBeCloseTo(Math.log(FBANK_LOG_FLOOR), 5);
    const x = seededNoise(8000, 3, 2000);
    const c = kaldiFbank(x);
    for (let m = 0; m < 80; m++) {
      let sum = 0;
      for (let t = 0; t < c.numFrames; t++) sum += c.data[t * 80 + m]!;
      expect(Math.abs(sum / c.numFrames)).toBeLessThan(1e-4);
    }
    const raw = kaldiFbank(x, { meanNormalize: false });
    expect(raw.data[0]).not.toBeCloseTo(c.data[0]!, 2);
  });
});
