import { resample } from '../../../audio/resample.ts';
import { trackF0 } from '../../prosody/index.ts';

/**
 * Median F0 of synthesized speech, Hz (YIN on a 16 kHz copy), or undefined when fewer than 10
 * frames are voiced.
 */
export function medianF0Hz(samples: Float32Array, sampleRateHz: number): number | undefined {
  const audio = sampleRateHz === 16000 ? { samples, sampleRateHz } : resample({ samples, sampleRateHz }, 16000);
  const f0 = Array.from(trackF0(audio).f0Hz).filter((x) => x > 0).sort((a, b) => a - b);
  return f0.length >= 10 ? f0[f0.length >> 1] : undefined;
}

/**
 * Raises (factor > 1) or lowers the pitch by playing the waveform faster or slower: the output has
 * length/factor samples. Formants move by the same factor. The caller synthesizes `factor` times
 * longer first so the duration comes out unchanged (a VITS length scale does exactly that).
 */
export function shiftByResampling(samples: Float32Array, sampleRateHz: number, factor: number): Float32Array {
  if (factor === 1 || samples.length === 0) return samples;
  return resample({ samples, sampleRateHz: sampleRateHz * factor }, sampleRateHz).samples;
}

/** The pitch factor that moves `haveHz` to `wantHz`, limited to ±`maxSemitones`. */
export function pitchFactor(haveHz: number, wantHz: number, maxSemitones: number): number {
  const st = 12 * Math.log2(wantHz / haveHz);
  const clamped = Math.max(-maxSemitones, Math.min(maxSemitones, st));
  return 2 ** (clamped / 12);
}
