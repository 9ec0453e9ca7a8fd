import type { MonoAudio } from '../pcm.ts';
import { UsageError } from '../../core/errors.ts';
import { DEFAULT_LOG_MEL_OPTIONS, logMelSpectrogram, type LogMelOptions } from './mel.ts';

/** Options of {@link mfcc}. */
export interface MfccOptions extends LogMelOptions {
  /** Cepstral coefficients per frame including c0. Default 13. */
  numCoeffs: number;
}

export const DEFAULT_MFCC_OPTIONS: Readonly<MfccOptions> = Object.freeze({ ...DEFAULT_LOG_MEL_OPTIONS, numCoeffs: 13 });

/**
 * Orthonormal DCT-II of `x`, first `count` coefficients:
 * c_k = s_k Σ x_n cos(π k (n+½)/N), s_0 = √(1/N), s_k = √(2/N).
 */
export function dct2(x: ArrayLike<number>, count: number = x.length): Float64Array {
  const n = x.length;
  const out = new Float64Array(count);
  for (let k = 0; k < count; k++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i]! * Math.cos((Math.PI * k * (i + 0.5)) / n);
    out[k] = s * (k === 0 ? Math.sqrt(1 / n) : Math.sqrt(2 / n));
  }
  return out;
}

/** Inverse of the orthonormal {@link dct2} (DCT-III), `length` output samples from the given coefficients. */
export function idct2(c: ArrayLike<number>, length: number): Float64Array {
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    let s = 0;
    for (let k = 0; k < c.length; k++) s += c[k]! * (k === 0 ? Math.sqrt(1 / length) : Math.sqrt(2 / length)) * Math.cos((Math.PI * k * (i + 0.5)) / length);
    out[i] = s;
  }
  return out;
}

/**
 * Mel-frequency cepstral coefficients: pre-emphasis, Hann-windowed STFT, HTK mel filterbank,
 * natural log, orthonormal DCT-II. One Float32Array (numCoeffs, c0 first) per frame.
 * Defaults: 13 coeffs, 25 ms window, 10 ms hop, 26 filters, pre-emphasis 0.97.
 */
export function mfcc(audio: MonoAudio, options: Partial<MfccOptions> = {}): Float32Array[] {
  const o = { ...DEFAULT_MFCC_OPTIONS, ...options };
  if (!Number.isInteger(o.numCoeffs) || o.numCoeffs < 1 || o.numCoeffs > o.numFilters) {
    throw new UsageError(`mfcc: numCoeffs ${o.numCoeffs} must be 1..numFilters (${o.numFilters})`);
  }
  return logMelSpectrogram(audio, o).map((lm) => Float32Array.from(dct2(lm, o.numCoeffs)));
}
