import type { MonoAudio } from '../pcm.ts';
import { UsageError } from '../../core/errors.ts';
import { nextPowerOfTwo, powerSpectrum } from './fft.ts';

/** Framing options shared by the STFT, mel and MFCC front ends. */
export interface StftOptions {
  /** Analysis window length, ms. Default 25. */
  frameMs: number;
  /** Hop between frame starts, ms. Default 10. */
  hopMs: number;
  /** FFT size; 0 = next power of two ≥ the window length. Default 0. */
  fftSize: number;
  /** Pre-emphasis coefficient applied before windowing (0 = off). Default 0. */
  preemphasis: number;
}

export const DEFAULT_STFT_OPTIONS: Readonly<StftOptions> = Object.freeze({ frameMs: 25, hopMs: 10, fftSize: 0, preemphasis: 0 });

/** Periodic-free (symmetric) Hann window of `length` samples. */
export function hannWindow(length: number): Float64Array {
  const w = new Float64Array(length);
  if (length === 1) { w[0] = 1; return w; }
  for (let i = 0; i < length; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (length - 1));
  return w;
}

/** Power spectrogram: one Float64Array (fftSize/2+1 bins) per frame. */
export interface PowerSpectrogram {
  frames: Float64Array[];
  fftSize: number;
  sampleRateHz: number;
  hopMs: number;
  frameMs: number;
}

/** Number of frames for `numSamples`: frames start every hop while a full window fits (at least 1 if any sample). */
export function frameCount(numSamples: number, windowSamples: number, hopSamples: number): number {
  if (numSamples <= 0) return 0;
  if (numSamples < windowSamples) return 1;
  return 1 + Math.floor((numSamples - windowSamples) / hopSamples);
}

/**
 * Short-time power spectrum with a Hann window. The last partial window is dropped (a signal
 * shorter than one window gives one zero-padded frame).
 */
export function stft(audio: MonoAudio, options: Partial<StftOptions> = {}): PowerSpectrogram {
  const o = { ...DEFAULT_STFT_OPTIONS, ...options };
  if (!(o.frameMs > 0) || !(o.hopMs > 0)) throw new UsageError(`stft: frameMs ${o.frameMs} and hopMs ${o.hopMs} must be > 0`);
  const sr = audio.sampleRateHz;
  const win = Math.max(1, Math.round((o.frameMs * sr) / 1000));
  const hop = Math.max(1, Math.round((o.hopMs * sr) / 1000));
  const n = o.fftSize > 0 ? o.fftSize : nextPowerOfTwo(win);
  if (n < win) throw new UsageError(`stft: fftSize ${n} is shorter than the window (${win} samples)`);
  const x = audio.samples;
  const w = hannWindow(win);
  const count = frameCount(x.length, win, hop);
  const frames: Float64Array[] = [];
  const buf = new Float64Array(win);
  for (let f = 0; f < count; f++) {
    const start = f * hop;
    for (let i = 0; i < win; i++) {
      const idx = start + i;
      let v = idx < x.length ? x[idx]! : 0;
      if (o.preemphasis !== 0) v -= o.preemphasis * (idx - 1 >= 0 && idx - 1 < x.length ? x[idx - 1]! : 0);
      buf[i] = v * w[i]!;
    }
    frames.push(powerSpectrum(buf, n));
  }
  return { frames, fftSize: n, sampleRateHz: sr, hopMs: o.hopMs, frameMs: o.frameMs };
}
