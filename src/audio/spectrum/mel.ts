import type { MonoAudio } from '../pcm.ts';
import { UsageError } from '../../core/errors.ts';
import { DEFAULT_STFT_OPTIONS, stft, type StftOptions } from './stft.ts';

/** HTK mel scale: 2595·log10(1 + f/700). */
export function hzToMel(hz: number): number {
  return 2595 * Math.log10(1 + hz / 700);
}

/** Inverse of {@link hzToMel}. */
export function melToHz(mel: number): number {
  return 700 * (10 ** (mel / 2595) - 1);
}

/** Triangular mel filterbank: one weight row (fftSize/2+1 bins) per filter. */
export interface MelFilterbank {
  weights: Float64Array[];
  /** Centre frequency of each filter, Hz. */
  centersHz: Float64Array;
}

/**
 * HTK-style triangular filters equally spaced on the mel scale between lowHz and highHz, peak 1
 * (unnormalized area), evaluated at the FFT bin frequencies.
 */
export function melFilterbank(numFilters: number, fftSize: number, sampleRateHz: number, lowHz = 0, highHz = sampleRateHz / 2): MelFilterbank {
  if (!Number.isInteger(numFilters) || numFilters < 1) throw new UsageError(`melFilterbank: numFilters ${numFilters} must be ≥ 1`);
  if (!(highHz > lowHz) || highHz > sampleRateHz / 2 + 1e-9) throw new UsageError(`melFilterbank: bad band ${lowHz}..${highHz} Hz`);
  const bins = (fftSize >> 1) + 1;
  const lo = hzToMel(lowHz);
  const hi = hzToMel(highHz);
  const edgesHz = new Float64Array(numFilters + 2);
  for (let i = 0; i < numFilters + 2; i++) edgesHz[i] = melToHz(lo + ((hi - lo) * i) / (numFilters + 1));
  const weights: Float64Array[] = [];
  const centersHz = new Float64Array(numFilters);
  for (let m = 0; m < numFilters; m++) {
    const l = edgesHz[m]!;
    const c = edgesHz[m + 1]!;
    const r = edgesHz[m + 2]!;
    centersHz[m] = c;
    const row = new Float64Array(bins);
    for (let k = 0; k < bins; k++) {
      const f = (k * sampleRateHz) / fftSize;
      if (f > l && f <= c) row[k] = (f - l) / (c - l);
      else if (f > c && f < r) row[k] = (r - f) / (r - c);
    }
    weights.push(row);
  }
  return { weights, centersHz };
}

/** Options of {@link logMelSpectrogram}. */
export interface LogMelOptions extends StftOptions {
  /** Number of mel filters. Default 26. */
  numFilters: number;
  /** Lower band edge, Hz. Default 0. */
  lowHz: number;
  /** Upper band edge, Hz; 0 = Nyquist. Default 0. */
  highHz: number;
  /** Floor added before the log (energy units). Default 1e-10. */
  floor: number;
}

export const DEFAULT_LOG_MEL_OPTIONS: Readonly<LogMelOptions> = Object.freeze({
  ...DEFAULT_STFT_OPTIONS,
  preemphasis: 0.97,
  numFilters: 26,
  lowHz: 0,
  highHz: 0,
  floor: 1e-10,
});

/** Natural-log mel filterbank energies, one Float32Array (numFilters) per frame. */
export function logMelSpectrogram(audio: MonoAudio, options: Partial<LogMelOptions> = {}): Float32Array[] {
  const o = { ...DEFAULT_LOG_MEL_OPTIONS, ...options };
  const spec = stft(audio, o);
  const fb = melFilterbank(o.numFilters, spec.fftSize, audio.sampleRateHz, o.lowHz, o.highHz > 0 ? o.highHz : audio.sampleRateHz / 2);
  return spec.frames.map((p) => {
    const out = new Float32Array(o.numFilters);
    for (let m = 0; m < o.numFilters; m++) {
      const w = fb.weights[m]!;
      let e = 0;
      for (let k = 0; k < w.length; k++) if (w[k]! !== 0) e += w[k]! * p[k]!;
      out[m] = Math.log(e + o.floor);
    }
    return out;
  });
}
