import { UsageError } from '../../../core/errors.ts';
import { MixedRadixFft } from './dft.ts';

/** Whisper's input rate, Hz. */
export const WHISPER_SAMPLE_RATE_HZ = 16_000;
/** STFT size (25 ms), samples. */
export const WHISPER_N_FFT = 400;
/** STFT hop (10 ms), samples. */
export const WHISPER_HOP_SAMPLES = 160;
/** One encoder window: 30 s, samples. */
export const WHISPER_CHUNK_SAMPLES = 30 * WHISPER_SAMPLE_RATE_HZ;
/** Mel frames per 30 s window. */
export const WHISPER_N_FRAMES = WHISPER_CHUNK_SAMPLES / WHISPER_HOP_SAMPLES;

/** Options of {@link whisperLogMel}. */
export interface WhisperMelOptions {
  /** Mel bands: 80 (tiny … large-v2) or 128 (large-v3). Default 80. */
  numMels: number;
  /** Output frames; the audio is zero-padded or trimmed to `numFrames · 160` samples. Default 3000 (30 s). */
  numFrames: number;
}

export const DEFAULT_WHISPER_MEL_OPTIONS: Readonly<WhisperMelOptions> = Object.freeze({ numMels: 80, numFrames: WHISPER_N_FRAMES });

/** Periodic Hann window (torch.hann_window(n), periodic=True): 0.5 − 0.5·cos(2πi/n). */
export function periodicHann(length: number): Float64Array {
  const w = new Float64Array(length);
  for (let i = 0; i < length; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / length);
  return w;
}

// Slaney's Auditory Toolbox mel scale (librosa htk=False): linear below 1 kHz, logarithmic above.
const F_SP = 200 / 3;
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP;
const LOG_STEP = Math.log(6.4) / 27;

/** Slaney mel of a frequency in Hz (librosa.hz_to_mel, htk=False). */
export function slaneyHzToMel(hz: number): number {
  return hz >= MIN_LOG_HZ ? MIN_LOG_MEL + Math.log(hz / MIN_LOG_HZ) / LOG_STEP : hz / F_SP;
}

/** Inverse of {@link slaneyHzToMel}, Hz. */
export function slaneyMelToHz(mel: number): number {
  return mel >= MIN_LOG_MEL ? MIN_LOG_HZ * Math.exp(LOG_STEP * (mel - MIN_LOG_MEL)) : F_SP * mel;
}

/** A sparse mel filter: weights for FFT bins `firstBin .. firstBin + weights.length − 1`. */
export interface MelFilter {
  firstBin: number;
  weights: Float64Array;
  /** The filter's lower, centre and upper frequency, Hz. */
  edgesHz: [number, number, number];
}

/**
 * The mel filterbank Whisper uses: librosa.filters.mel(sr, n_fft, n_mels) with fmin 0, fmax sr/2,
 * Slaney mel scale and Slaney area normalization (each triangle scaled by 2 / its width in Hz).
 */
export function whisperMelFilters(numMels = 80, nFft = WHISPER_N_FFT, sampleRateHz = WHISPER_SAMPLE_RATE_HZ): MelFilter[] {
  if (!Number.isInteger(numMels) || numMels < 1) throw new UsageError(`whisperMelFilters: numMels ${numMels} must be an integer ≥ 1`);
  const bins = (nFft >> 1) + 1;
  const maxMel = slaneyHzToMel(sampleRateHz / 2);
  const melHz = new Float64Array(numMels + 2);
  for (let i = 0; i < numMels + 2; i++) melHz[i] = slaneyMelToHz((maxMel * i) / (numMels + 1));
  const filters: MelFilter[] = [];
  for (let m = 0; m < numMels; m++) {
    const lo = melHz[m]!;
    const c = melHz[m + 1]!;
    const hi = melHz[m + 2]!;
    const enorm = 2 / (hi - lo);
    const row: number[] = [];
    let firstBin = -1;
    for (let k = 0; k < bins; k++) {
      const f = (k * sampleRateHz) / nFft;
      const w = Math.max(0, Math.min((f - lo) / (c - lo), (hi - f) / (hi - c)));
      if (w > 0) {
        if (firstBin < 0) firstBin = k;
        row[k - firstBin] = w * enorm;
      } else if (firstBin >= 0) break;
    }
    filters.push({ firstBin: Math.max(0, firstBin), weights: Float64Array.from(row, (v) => v ?? 0), edgesHz: [lo, c, hi] });
  }
  return filters;
}

/**
 * Whisper's |STFT|²: centred frames (reflect padding of n_fft/2 on both sides, as torch.stft
 * center=True), periodic Hann, 400-point DFT, hop 160; the last frame is dropped as Whisper does.
 * @param samples 16 kHz audio (at least 201 samples for the reflection)
 * @returns `frames` × 201 bins, frame-major
 */
export function whisperPowerSpectrogram(samples: Float32Array): { frames: number; bins: number; power: Float64Array } {
  const n = samples.length;
  const half = WHISPER_N_FFT >> 1;
  if (n <= half) throw new UsageError(`whisperPowerSpectrogram: needs more than ${half} samples, got ${n}`);
  const frames = Math.floor(n / WHISPER_HOP_SAMPLES);
  const bins = half + 1;
  const power = new Float64Array(frames * bins);
  const fft = new MixedRadixFft(WHISPER_N_FFT);
  const window = periodicHann(WHISPER_N_FFT);
  const frame = new Float64Array(WHISPER_N_FFT);
  const out = new Float64Array(bins);
  for (let t = 0; t < frames; t++) {
    const start = t * WHISPER_HOP_SAMPLES - half;
    let energy = 0;
    for (let i = 0; i < WHISPER_N_FFT; i++) {
      let j = start + i;
      if (j < 0) j = -j;
      else if (j >= n) j = 2 * (n - 1) - j;
      const v = samples[j]! * window[i]!;
      frame[i] = v;
      energy += v * v;
    }
    // A silent frame has an all-zero spectrum (the padded tail of every short phrase).
    if (energy === 0) continue;
    fft.powerSpectrum(frame, out);
    power.set(out, t * bins);
  }
  return { frames, bins, power };
}

/**
 * Whisper's log-mel features for one window, exactly the published recipe (openai/whisper audio.py,
 * transformers WhisperFeatureExtractor): pad/trim to 30 s, {@link whisperPowerSpectrogram},
 * {@link whisperMelFilters}, log10(max(x, 1e-10)), clamp below at (max − 8), then (x + 4) / 4.
 * The max is taken over this window (as the Hugging Face extractor does).
 * @param samples 16 kHz mono audio in [-1, 1]
 * @returns `numMels × numFrames` values, mel-major: the `input_features` tensor [1, numMels, numFrames]
 */
export function whisperLogMel(samples: Float32Array, options: Partial<WhisperMelOptions> = {}): Float32Array {
  const o = { ...DEFAULT_WHISPER_MEL_OPTIONS, ...options };
  if (!Number.isInteger(o.numFrames) || o.numFrames < 2) throw new UsageError(`whisperLogMel: numFrames ${o.numFrames} must be an integer ≥ 2`);
  const total = o.numFrames * WHISPER_HOP_SAMPLES;
  const padded = new Float32Array(total);
  padded.set(samples.subarray(0, total));
  const spec = whisperPowerSpectrogram(padded);
  const filters = whisperMelFilters(o.numMels);
  const out = new Float32Array(o.numMels * o.numFrames);
  const logs = new Float64Array(out.length);
  let max = -Infinity;
  for (let m = 0; m < o.numMels; m++) {
    const { firstBin, weights } = filters[m]!;
    for (let t = 0; t < spec.frames; t++) {
      const base = t * spec.bins + firstBin;
      let e = 0;
      for (let k = 0; k < weights.length; k++) e += weights[k]! * spec.power[base + k]!;
      const v = Math.log10(Math.max(e, 1e-10));
      logs[m * o.numFrames + t] = v;
      if (v > max) max = v;
    }
  }
  const floor = max - 8;
  for (let i = 0; i < out.length; i++) out[i] = (Math.max(logs[i]!, floor) + 4) / 4;
  return out;
}
