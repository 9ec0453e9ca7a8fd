import type { MonoAudio } from '../../audio/pcm.ts';
import { hzToMel, idct2, melToHz, mfcc } from '../../audio/spectrum/index.ts';
import { trackF0 } from '../prosody/index.ts';

export interface EnvelopeMatchOptions {
  /** Largest boost or cut, dB. Default 12. */
  maxGainDb: number;
  /** Fraction of the cepstral difference applied, 0..1. Default 1. */
  strength: number;
  /** FIR length, taps (odd). Default 257. */
  taps: number;
}

export const DEFAULT_ENVELOPE_MATCH_OPTIONS: Readonly<EnvelopeMatchOptions> = Object.freeze({ maxGainDb: 12, strength: 1, taps: 257 });

const NUM_FILTERS = 26;

/** Mean mel-cepstrum c1..cN over voiced frames (the speaker analysis measures it the same way). */
export function voicedCepstralMean(audio: MonoAudio, count: number): number[] {
  const ceps = mfcc(audio, { numCoeffs: count + 1, frameMs: 25, hopMs: 10 });
  const f0 = trackF0(audio).f0Hz;
  const sum = new Float64Array(count);
  let n = 0;
  for (let f = 0; f < f0.length; f++) {
    if (!(f0[f]! > 0)) continue;
    const c = ceps[Math.max(0, Math.min(ceps.length - 1, f - 1))];
    if (!c) continue;
    for (let k = 0; k < count; k++) sum[k] += c[k + 1]!;
    n++;
  }
  return Array.from(sum, (s) => (n ? s / n : 0));
}

/**
 * Moves the long-term spectral envelope of synthesized speech towards a speaker's: the difference
 * between the target and the actual mean mel-cepstrum (c1..cN, c0 = level left alone) becomes a
 * smooth gain curve over the mel bands, applied by a linear-phase FIR filter (delay compensated).
 * This is the "correct the spectral envelope" step of timbre rendering; gains are clamped so a bad
 * profile cannot ruin intelligibility.
 */
export function matchCepstralMean(audio: MonoAudio, targetCeps: readonly number[], options: Partial<EnvelopeMatchOptions> = {}): MonoAudio {
  const o = { ...DEFAULT_ENVELOPE_MATCH_OPTIONS, ...options };
  if (audio.samples.length < audio.sampleRateHz * 0.2 || targetCeps.length === 0) return audio;
  const actual = voicedCepstralMean(audio, targetCeps.length);
  const delta = [0, ...targetCeps.map((t, k) => (t - actual[k]!) * o.strength)];
  // Natural-log band energies → dB amplitude gain per mel band.
  const bandLogGain = idct2(delta, NUM_FILTERS);
  const maxLn = (o.maxGainDb / 10) * Math.LN10;
  const sr = audio.sampleRateHz;
  const lo = hzToMel(0);
  const hi = hzToMel(sr / 2);
  const centers = Array.from({ length: NUM_FILTERS }, (_, m) => melToHz(lo + ((hi - lo) * (m + 1)) / (NUM_FILTERS + 1)));
  const half = (o.taps - 1) / 2;
  const fftBins = half + 1;
  const amp = new Float64Array(fftBins);
  for (let k = 0; k < fftBins; k++) {
    const hz = (k * sr) / (2 * half);
    let g: number;
    if (hz <= centers[0]!) g = bandLogGain[0]!;
    else if (hz >= centers[NUM_FILTERS - 1]!) g = bandLogGain[NUM_FILTERS - 1]!;
    else {
      let m = 0;
      while (centers[m + 1]! < hz) m++;
      const u = (hzToMel(hz) - hzToMel(centers[m]!)) / (hzToMel(centers[m + 1]!) - hzToMel(centers[m]!));
      g = bandLogGain[m]! * (1 - u) + bandLogGain[m + 1]! * u;
    }
    amp[k] = Math.exp(Math.max(-maxLn, Math.min(maxLn, g)) / 2);
  }
  // Zero-phase impulse response by the inverse real DFT, Hann-windowed, centred at `half`.
  const h = new Float64Array(o.taps);
  const N = 2 * half;
  for (let n = -half; n <= half; n++) {
    let s = amp[0]!;
    for (let k = 1; k < fftBins - 1; k++) s += 2 * amp[k]! * Math.cos((2 * Math.PI * k * n) / N);
    s += amp[fftBins - 1]! * Math.cos(Math.PI * n);
    h[n + half] = (s / N) * (0.5 + 0.5 * Math.cos((Math.PI * n) / (half + 1)));
  }
  const x = audio.samples;
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    let s = 0;
    const a = Math.max(0, i - half);
    const b = Math.min(x.length - 1, i + half);
    for (let j = a; j <= b; j++) s += x[j]! * h[i - j + half]!;
    y[i] = s;
  }
  return { samples: y, sampleRateHz: sr };
}
