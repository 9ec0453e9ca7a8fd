import { describe, expect, it } from 'vitest';
import { MixedRadixFft } from '../../../src/engines/asr/whisper/dft.ts';
import {
  periodicHann,
  slaneyHzToMel,
  slaneyMelToHz,
  whisperLogMel,
  whisperMelFilters,
  whisperPowerSpectrogram,
  WHISPER_N_FRAMES,
} from '../../../src/engines/asr/whisper/log-mel.ts';

const SR = 16000;
const N_MELS = 80;

// ---- The published recipe, written again independently: direct DFT, dense librosa-style filters. ----

function refMelMatrix(): number[][] {
  // librosa.filters.mel(sr=16000, n_fft=400, n_mels=80): Slaney scale, norm='slaney'.
  const hzToMel = (f: number) => (f < 1000 ? (3 * f) / 200 : 15 + (27 * Math.log(f / 1000)) / Math.log(6.4));
  const melToHz = (m: number) => (m < 15 ? (200 * m) / 3 : 1000 * Math.exp(((m - 15) * Math.log(6.4)) / 27));
  const top = hzToMel(8000);
  const melF = Array.from({ length: N_MELS + 2 }, (_, i) => melToHz((top * i) / (N_MELS + 1)));
  const fft = Array.from({ length: 201 }, (_, k) => (k * 8000) / 200);
  return Array.from({ length: N_MELS }, (_, i) => {
    const enorm = 2 / (melF[i + 2]! - melF[i]!);
    return fft.map((f) => {
      const lower = (f - melF[i]!) / (melF[i + 1]! - melF[i]!);
      const upper = (melF[i + 2]! - f) / (melF[i + 2]! - melF[i + 1]!);
      return Math.max(0, Math.min(lower, upper)) * enorm;
    });
  });
}

/** Reference log-mel, [mel][frame]; frames whose window is all zeros are skipped (their power is 0). */
function refLogMel(audio: Float32Array): number[][] {
  const x = new Float64Array(480000);
  x.set(audio.subarray(0, 480000));
  const padded = new Float64Array(480000 + 400);
  for (let i = 0; i < padded.length; i++) {
    const j = i - 200;
    padded[i] = x[j < 0 ? -j : j >= 480000 ? 2 * 479999 - j : j]!;
  }
  const mel = refMelMatrix();
  const logs: number[][] = Array.from({ length: N_MELS }, () => new Array<number>(3000).fill(-10));
  for (let t = 0; t < 3000; t++) {
    const frame = Array.from({ length: 400 }, (_, n) => padded[t * 160 + n]! * (0.5 - 0.5 * Math.cos((2 * Math.PI * n) / 400)));
    if (frame.every((v) => v === 0)) continue;
    const power = Array.from({ length: 201 }, (_, k) => {
      let re = 0;
      let im = 0;
      for (let n = 0; n < 400; n++) {
        re += frame[n]! * Math.cos((2 * Math.PI * k * n) / 400);
        im -= frame[n]! * Math.sin((2 * Math.PI * k * n) / 400);
      }
      return re * re + im * im;
    });
    for (let m = 0; m < N_MELS; m++) logs[m]![t] = Math.log10(Math.max(1e-10, mel[m]!.reduce((s, w, k) => s + w * power[k]!, 0)));
  }
  const max = Math.max(...logs.map((r) => Math.max(...r)));
  return logs.map((r) => r.map((v) => (Math.max(v, max - 8) + 4) / 4));
}

function at(feat: Float32Array, mel: number, frame: number): number {
  return feat[mel * WHISPER_N_FRAMES + frame]!;
}

function sine(freqHz: number, seconds: number, amplitude = 0.5): Float32Array {
  return Float32Array.from({ length: Math.round(seconds * SR) }, (_, i) => amplitude * Math.sin((2 * Math.PI * freqHz * i) / SR));
}

describe('Whisper log-mel front end', () => {
  it('Slaney mel scale: linear below 1 kHz, log above, invertible', () => {
    expect(slaneyHzToMel(1000)).toBeCloseTo(15, 12);
    expect(slaneyHzToMel(500)).toBeCloseTo(7.5, 12);
    expect(slaneyHzToMel(6400)).toBeCloseTo(42, 12);
    for (const f of [0, 37, 999, 1000, 4321, 8000]) expect(slaneyMelToHz(slaneyHzToMel(f))).toBeCloseTo(f, 8);
  });

  it('filterbank equals the dense librosa formula', () => {
    const ref = refMelMatrix();
    const fb = whisperMelFilters(80);
    expect(fb).toHaveLength(80);
    for (let m = 0; m < 80; m++) {
      const dense = new Array<number>(201).fill(0);
      fb[m]!.weights.forEach((w, i) => (dense[fb[m]!.firstBin + i] = w));
      for (let k = 0; k < 201; k++) expect(dense[k]).toBeCloseTo(ref[m]![k]!, 12);
    }
    // Filter 0 peaks at one 80-mel step: 45.245/81 mel · 200/3 Hz/mel ≈ 37.24 Hz.
    expect(fb[0]!.edgesHz[1]).toBeCloseTo((slaneyHzToMel(8000) / 81) * (200 / 3), 9);
    expect(whisperMelFilters(128)).toHaveLength(128);
  });

  it('400-point DFT equals the direct sum', () => {
    const fft = new MixedRadixFft(400);
    const x = Array.from({ length: 400 }, (_, n) => Math.sin(n * 0.37) + 0.25 * Math.cos(n * n * 0.011));
    const p = fft.powerSpectrum(x);
    for (const k of [0, 1, 7, 99, 150, 200]) {
      let re = 0;
      let im = 0;
      for (let n = 0; n < 400; n++) {
        re += x[n]! * Math.cos((2 * Math.PI * k * n) / 400);
        im -= x[n]! * Math.sin((2 * Math.PI * k * n) / 400);
      }
      expect(p[k]).toBeCloseTo(re * re + im * im, 8);
    }
  });

  it('silence: every value sits at the floor, (log10(1e-10) + 4) / 4 = -1.5', () => {
    const f = whisperLogMel(new Float32Array(16000));
    expect(f).toHaveLength(80 * 3000);
    expect(f.every((v) => v === -1.5)).toBe(true);
  });

  it('matches the reference recipe on a short noisy sine (pad to 30 s, reflect edges, clamp)', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
    const x = sine(440, 0.25, 0.3).map((v) => v + 0.05 * rnd());
    const f = whisperLogMel(x);
    const ref = refLogMel(x);
    let maxErr = 0;
    for (let m = 0; m < 80; m++) for (let t = 0; t < 3000; t++) maxErr = Math.max(maxErr, Math.abs(at(f, m, t) - ref[m]![t]!));
    expect(maxErr).toBeLessThan(1e-5);
    // Beyond the audio (plus one window) everything is the clamp floor max − 8.
    const max = f.reduce((a, b) => Math.max(a, b), -Infinity);
    expect(at(f, 10, 100)).toBeCloseTo(max - 2, 6);
  });

  it('1 kHz sine: the loudest band contains 1 kHz and the frame energy obeys Parseval', () => {
    const x = sine(1000, 1, 0.5);
    const f = whisperLogMel(x);
    const fb = whisperMelFilters(80);
    const frame = 50;
    let best = 0;
    for (let m = 1; m < 80; m++) if (at(f, m, frame) > at(f, best, frame)) best = m;
    const [lo, , hi] = fb[best]!.edgesHz;
    expect(lo).toBeLessThan(1000);
    expect(hi).toBeGreaterThan(1000);

    const spec = whisperPowerSpectrogram(x);
    const w = periodicHann(400);
    const p = spec.power.subarray(frame * 201, frame * 201 + 201);
    let oneSided = p[0]! + p[200]!;
    for (let k = 1; k < 200; k++) oneSided += 2 * p[k]!;
    let timeEnergy = 0;
    for (let n = 0; n < 400; n++) timeEnergy += (x[frame * 160 - 200 + n]! * w[n]!) ** 2;
    expect(oneSided / 400).toBeCloseTo(timeEnergy, 9);
    // Σ(w·x)² ≈ A²/2 · Σw² = 0.125 · 150 for a steady sine.
    expect(timeEnergy).toBeGreaterThan(0.125 * 150 * 0.98);
    expect(timeEnergy).toBeLessThan(0.125 * 150 * 1.02);
  });

  it('chirp: the loudest band rises monotonically', () => {
    const seconds = 3;
    const f0 = 200;
    const f1 = 6000;
    const x = Float32Array.from({ length: seconds * SR }, (_, i) => {
      const t = i / SR;
      return 0.5 * Math.sin(2 * Math.PI * (f0 * t + ((f1 - f0) * t * t) / (2 * seconds)));
    });
    const f = whisperLogMel(x);
    const peaks: number[] = [];
    for (let t = 5; t < seconds * 100 - 5; t += 5) {
      let best = 0;
      for (let m = 1; m < 80; m++) if (at(f, m, t) > at(f, best, t)) best = m;
      peaks.push(best);
    }
    for (let i = 1; i < peaks.length; i++) expect(peaks[i]).toBeGreaterThanOrEqual(peaks[i - 1]!);
    expect(peaks[0]).toBeLessThan(10);
    expect(peaks.at(-1)).toBeGreaterThan(65);
  });

  it('hand-computed frame: a constant signal c puts (200c)² in bin 0 and (100c)² in bin 1 only', () => {
    // Periodic Hann = 0.5 − 0.25·e^{jθn} − 0.25·e^{−jθn}: its DFT is 200 at bin 0 and −100 at bins ±1.
    const c = 0.5;
    const x = new Float32Array(480000).fill(c);
    const spec = whisperPowerSpectrogram(x);
    const p = spec.power.subarray(1500 * 201, 1501 * 201);
    expect(p[0]).toBeCloseTo(10000, 6);
    expect(p[1]).toBeCloseTo(2500, 6);
    for (let k = 2; k < 201; k++) expect(p[k]).toBeLessThan(1e-12);
    // Bin 1 is 40 Hz. Slaney points step d = (15 + 27·ln 8/ln 6.4)/81 mel = d·200/3 Hz.
    const stepHz = ((15 + (27 * Math.log(8)) / Math.log(6.4)) / 81) * (200 / 3);
    const mel0 = ((2 * stepHz - 40) / stepHz) * (2 / (2 * stepHz)) * 2500; // falling edge of filter 0
    const mel1 = ((40 - stepHz) / stepHz) * (2 / (2 * stepHz)) * 2500; // rising edge of filter 1
    const top = Math.log10(mel0);
    const f = whisperLogMel(x);
    expect(at(f, 0, 1500)).toBeCloseTo((top + 4) / 4, 5);
    expect(at(f, 1, 1500)).toBeCloseTo((Math.max(Math.log10(mel1), top - 8) + 4) / 4, 5);
    expect(at(f, 40, 1500)).toBeCloseTo((top - 8 + 4) / 4, 5);
  });
});
