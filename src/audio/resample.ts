import type { MonoAudio, Pcm16k } from './pcm.ts';
import { PCM16K_RATE_HZ } from './pcm.ts';

/** Modified Bessel function of the first kind, order 0 (Kaiser windows). */
export function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 50; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
    if (term < 1e-12 * sum) break;
  }
  return sum;
}

/** Kaiser β for a stop-band attenuation of `attenuationDb` (Kaiser's formula). */
function kaiserBeta(attenuationDb: number): number {
  if (attenuationDb > 50) return 0.1102 * (attenuationDb - 8.7);
  if (attenuationDb >= 21) return 0.5842 * (attenuationDb - 21) ** 0.4 + 0.07886 * (attenuationDb - 21);
  return 0;
}

export interface ResampleOptions {
  /** Filter half-length in zero crossings of the (lower-rate) sinc. Default 24. */
  halfTaps: number;
  /** Stop-band attenuation, dB. Default 80. */
  attenuationDb: number;
  /** Cut-off as a fraction of the lower Nyquist frequency. Default 0.86 (the Kaiser transition band then ends near the Nyquist frequency). */
  cutoff: number;
}

export const DEFAULT_RESAMPLE_OPTIONS: Readonly<ResampleOptions> = Object.freeze({ halfTaps: 24, attenuationDb: 80, cutoff: 0.86 });

/**
 * Band-limited resampling by a Kaiser-windowed sinc, for any ratio (48k→16k, 44.1k→16k, 8k→16k …).
 * The filter's cut-off sits below the lower of the two Nyquist frequencies, so downsampling does
 * not alias. Output length = round(input length × ratio).
 */
export function resample(audio: MonoAudio, targetRateHz: number, options: Partial<ResampleOptions> = {}): MonoAudio {
  const o = { ...DEFAULT_RESAMPLE_OPTIONS, ...options };
  const inRate = audio.sampleRateHz;
  if (inRate === targetRateHz) return { samples: audio.samples.slice(), sampleRateHz: targetRateHz };
  if (!(targetRateHz > 0)) throw new RangeError(`target rate must be > 0 Hz, got ${targetRateHz}`);
  const x = audio.samples;
  const ratio = targetRateHz / inRate;
  const outLen = Math.round(x.length * ratio);
  const out = new Float32Array(outLen);
  // Filter cut-off in input-sample units (cycles per input sample).
  const fc = (o.cutoff * Math.min(1, ratio)) / 2;
  const halfWidth = o.halfTaps / (2 * fc); // in input samples: halfTaps zero crossings each side
  const beta = kaiserBeta(o.attenuationDb);
  const i0beta = besselI0(beta);
  // Tabulate the windowed sinc finely and interpolate linearly: fast and accurate to ~-90 dB.
  const TABLE_STEPS = 512;
  const tableLen = Math.ceil(halfWidth * TABLE_STEPS) + 2;
  const table = new Float64Array(tableLen);
  for (let i = 0; i < tableLen; i++) {
    const t = i / TABLE_STEPS;
    const r = t / halfWidth;
    if (r >= 1) break;
    const sinc = t === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * t) / (Math.PI * t);
    table[i] = sinc * (besselI0(beta * Math.sqrt(1 - r * r)) / i0beta);
  }
  const kernel = (t: number): number => {
    const a = Math.abs(t) * TABLE_STEPS;
    const i = Math.floor(a);
    if (i + 1 >= tableLen) return 0;
    const f = a - i;
    return (table[i] as number) * (1 - f) + (table[i + 1] as number) * f;
  };
  const reach = Math.ceil(halfWidth);
  for (let n = 0; n < outLen; n++) {
    const center = n / ratio;
    const lo = Math.max(0, Math.floor(center) - reach);
    const hi = Math.min(x.length - 1, Math.floor(center) + reach);
    let acc = 0;
    for (let k = lo; k <= hi; k++) acc += (x[k] as number) * kernel(center - k);
    out[n] = acc;
  }
  return { samples: out, sampleRateHz: targetRateHz };
}

/** 16 kHz signed 16-bit PCM for the recognizer (resampled if needed, clipped). */
export function toPcm16k(audio: MonoAudio): Pcm16k {
  const a = audio.sampleRateHz === PCM16K_RATE_HZ ? audio : resample(audio, PCM16K_RATE_HZ);
  const out = new Int16Array(a.samples.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.max(-32768, Math.min(32767, Math.round((a.samples[i] as number) * 32768)));
  return out;
}

/** Float mono audio from 16-bit PCM. */
export function fromPcm16(pcm: Int16Array, sampleRateHz: number): MonoAudio {
  const s = new Float32Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) s[i] = (pcm[i] as number) / 32768;
  return { samples: s, sampleRateHz };
}

/** A slice of audio between two times, ms (clamped to the audio). */
export function sliceMs(audio: MonoAudio, startMs: number, endMs: number): MonoAudio {
  const a = Math.max(0, Math.round((startMs / 1000) * audio.sampleRateHz));
  const b = Math.min(audio.samples.length, Math.round((endMs / 1000) * audio.sampleRateHz));
  return { samples: audio.samples.slice(a, Math.max(a, b)), sampleRateHz: audio.sampleRateHz };
}
