import { UsageError } from '../../core/errors.ts';
import { DopplerTap } from './fading.ts';
import { GaussianSource, subSeed } from './gaussian.ts';
import { AnalyticSignal, HILBERT_DELAY } from './hilbert.ts';

/**
 * HF channel simulator (issue #15): real 8 kHz modem audio in, real audio out, seeded.
 *
 * SNR convention (FreeDV's, codec2 `ch`): SNR = S / (N0 · B) with S the mean power of the signal
 * while it is transmitted, N0 the one-sided noise power spectral density and B = 3000 Hz. Real white
 * noise of variance σ² sampled at Fs spreads over 0…Fs/2, so N0 = σ² / (Fs/2) and
 *     σ² = S · (Fs/2) / (B · 10^(SNR/10))   — at Fs = 8000 Hz: σ² = S · (4/3) / 10^(SNR/10).
 * Noise is added everywhere (also between bursts, as a receiver hears it).
 *
 * Fading (Watterson, ITU-R F.1487): two paths of equal mean power (E|h|² = 1/2 each, so the mean
 * received power equals the sent power and the SNR is relative to it), the second delayed; each
 * path gain a complex Gaussian process with a Gaussian Doppler spectrum of the set spread (2σ),
 * applied to the analytic signal of the audio: y = Re{h1(t)·a(t) + h2(t)·a(t − τ)} + n(t). The
 * Hilbert filter delays faded output by {@link HILBERT_DELAY} samples (7.9 ms); AWGN has no delay.
 */

export type HfChannelKind = 'awgn' | 'good' | 'poor';

export interface WattersonProfile {
  /** Delay of the second path, ms. */
  delayMs: number;
  /** Doppler spread of each path (2σ), Hz. */
  dopplerSpreadHz: number;
}

/** CCIR / ITU-R F.1487 mid-latitude "good" and "poor" conditions. */
export const CCIR_PROFILES: Readonly<Record<'good' | 'poor', Readonly<WattersonProfile>>> = Object.freeze({
  good: Object.freeze({ delayMs: 0.5, dopplerSpreadHz: 0.1 }),
  poor: Object.freeze({ delayMs: 2, dopplerSpreadHz: 1 }),
});

/** FreeDV's noise bandwidth for SNR figures, Hz. */
export const FREEDV_NOISE_BANDWIDTH_HZ = 3000;

export interface HfChannelOptions {
  kind: HfChannelKind;
  /** Signal-to-noise ratio in `noiseBandwidthHz`, dB. Infinity = no noise. */
  snrDb: number;
  /**
   * Mean power (mean square, in input sample units²) of the signal while transmitting: the
   * reference of the SNR. Required: measure a burst of the modem in use with {@link meanPower}.
   */
  signalPower: number;
  seed: number;
  /** Default 8000. */
  sampleRateHz: number;
  /** Default 3000 (FreeDV). */
  noiseBandwidthHz: number;
  /**
   * The output is scaled so that signal + noise has this RMS (int16 units), keeping low-SNR audio
   * clear of int16 clipping (peaks ≈ 6.5 σ at the default 5000). A gain does not change the SNR.
   */
  outputRms: number;
  /** Overrides the profile of `good` / `poor`. */
  profile?: WattersonProfile;
}

export const DEFAULT_HF_CHANNEL_OPTIONS: Readonly<Omit<HfChannelOptions, 'signalPower' | 'profile'>> = Object.freeze({
  kind: 'awgn',
  snrDb: 0,
  seed: 1,
  sampleRateHz: 8000,
  noiseBandwidthHz: FREEDV_NOISE_BANDWIDTH_HZ,
  outputRms: 5000,
});

/** Mean square of `x` (the S of the SNR when `x` is one burst of signal only). */
export function meanPower(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return x.length ? s / x.length : 0;
}

/** Noise variance for `snrDb` in `noiseBandwidthHz` at `sampleRateHz` (see the module comment). */
export function noiseVarianceForSnr(signalPower: number, snrDb: number, sampleRateHz = 8000, noiseBandwidthHz = FREEDV_NOISE_BANDWIDTH_HZ): number {
  if (snrDb === Infinity) return 0;
  return (signalPower * (sampleRateHz / 2)) / (noiseBandwidthHz * 10 ** (snrDb / 10));
}

export interface HfChannelStats {
  samples: number;
  /** Output samples clipped to int16 by {@link HfChannel.processInt16}. */
  clipped: number;
}

/** A streaming, seeded HF channel; `process` consecutive chunks of one transmission stream. */
export class HfChannel {
  readonly options: Readonly<HfChannelOptions>;
  /** Noise standard deviation before the output gain, input units. */
  noiseSigma: number;
  /** Output gain applied to signal + noise. */
  gain: number;
  private snr: number;
  /** Samples between input and output (0 for AWGN). */
  readonly delaySamples: number;
  private readonly noise: GaussianSource;
  private readonly fading?: { analytic: AnalyticSignal; taps: [DopplerTap, DopplerTap]; delay: number; lineRe: Float64Array; lineIm: Float64Array };
  private readonly s: HfChannelStats = { samples: 0, clipped: 0 };

  constructor(options: Partial<HfChannelOptions> & { signalPower: number }) {
    const o: HfChannelOptions = { ...DEFAULT_HF_CHANNEL_OPTIONS, ...options };
    if (!(o.signalPower > 0)) throw new UsageError('HfChannel: signalPower must be > 0 (measure a burst with meanPower)');
    if (Number.isNaN(o.snrDb)) throw new UsageError('HfChannel: snrDb must be a number');
    if (o.kind !== 'awgn' && o.kind !== 'good' && o.kind !== 'poor') throw new UsageError(`HfChannel: unknown channel ${String(o.kind)}: use awgn, good or poor`);
    this.options = Object.freeze(o);
    this.snr = o.snrDb;
    this.noise = new GaussianSource(subSeed(o.seed, 0));
    const variance = noiseVarianceForSnr(o.signalPower, o.snrDb, o.sampleRateHz, o.noiseBandwidthHz);
    this.noiseSigma = Math.sqrt(variance);
    this.gain = o.outputRms / Math.sqrt(o.signalPower + variance);
    if (o.kind === 'awgn') {
      this.delaySamples = 0;
      return;
    }
    const p = o.profile ?? CCIR_PROFILES[o.kind];
    const delay = Math.round((p.delayMs * o.sampleRateHz) / 1000);
    const tap = (stream: number) => new DopplerTap({ dopplerSpreadHz: p.dopplerSpreadHz, sampleRateHz: o.sampleRateHz, power: 0.5, seed: subSeed(o.seed, stream) });
    this.fading = { analytic: new AnalyticSignal(), taps: [tap(1), tap(2)], delay, lineRe: new Float64Array(delay), lineIm: new Float64Array(delay) };
    this.delaySamples = HILBERT_DELAY;
  }

  /** The SNR now, dB in the noise bandwidth (options.snrDb until {@link setSnrDb}). */
  get snrDb(): number {
    return this.snr;
  }

  /** Changes the SNR from the next sample on (conditions changing mid-call); noise and fading continue. */
  setSnrDb(snrDb: number): void {
    if (Number.isNaN(snrDb)) throw new UsageError('HfChannel: snrDb must be a number');
    const o = this.options;
    const variance = noiseVarianceForSnr(o.signalPower, snrDb, o.sampleRateHz, o.noiseBandwidthHz);
    this.snr = snrDb;
    this.noiseSigma = Math.sqrt(variance);
    this.gain = o.outputRms / Math.sqrt(o.signalPower + variance);
  }

  get stats(): Readonly<HfChannelStats> {
    return { ...this.s };
  }

  /** Channel output for the next chunk of input (same length), before int16 conversion. */
  process(x: ArrayLike<number>): Float64Array {
    const n = x.length;
    const y = new Float64Array(n);
    if (this.fading) this.fade(x, y);
    else for (let i = 0; i < n; i++) y[i] = x[i]!;
    const sigma = this.noiseSigma;
    const g = this.gain;
    for (let i = 0; i < n; i++) y[i] = (y[i]! + (sigma > 0 ? sigma * this.noise.next() : 0)) * g;
    this.s.samples += n;
    return y;
  }

  /** {@link process} rounded to int16 (clipped samples counted in `stats.clipped`). */
  processInt16(x: ArrayLike<number>): Int16Array {
    const y = this.process(x);
    const out = new Int16Array(y.length);
    for (let i = 0; i < y.length; i++) {
      const v = Math.round(y[i]!);
      if (v > 32767 || v < -32768) this.s.clipped++;
      out[i] = Math.max(-32768, Math.min(32767, v));
    }
    return out;
  }

  private fade(x: ArrayLike<number>, y: Float64Array): void {
    const f = this.fading!;
    const n = x.length;
    const re = new Float64Array(n);
    const im = new Float64Array(n);
    f.analytic.process(x, re, im);
    const h1r = new Float64Array(n);
    const h1i = new Float64Array(n);
    const h2r = new Float64Array(n);
    const h2i = new Float64Array(n);
    f.taps[0].fill(h1r, h1i);
    f.taps[1].fill(h2r, h2i);
    const d = f.delay;
    for (let i = 0; i < n; i++) {
      // a(t − τ): from the delay line for the first d samples of the chunk, then from this chunk.
      const dr = i < d ? f.lineRe[i]! : re[i - d]!;
      const di = i < d ? f.lineIm[i]! : im[i - d]!;
      y[i] = h1r[i]! * re[i]! - h1i[i]! * im[i]! + (h2r[i]! * dr - h2i[i]! * di);
    }
    if (d > 0) {
      // Keep the last d analytic samples (with older line content when the chunk is shorter than d).
      const allRe = new Float64Array(d + n);
      const allIm = new Float64Array(d + n);
      allRe.set(f.lineRe);
      allRe.set(re, d);
      allIm.set(f.lineIm);
      allIm.set(im, d);
      f.lineRe.set(allRe.subarray(n));
      f.lineIm.set(allIm.subarray(n));
    }
  }
}
