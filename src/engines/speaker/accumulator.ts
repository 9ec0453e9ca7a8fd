import type { MonoAudio } from '../../audio/pcm.ts';
import { mfcc, nextPowerOfTwo, powerSpectrum, hannWindow } from '../../audio/spectrum/index.ts';
import { InvalidStateError, UsageError } from '../../core/errors.ts';
import { CepstralGaussian } from './cepstral-gaussian.ts';
import type { SpeakerProfile } from '../../codec/speaker/profile.ts';
import { detectPauses, frameEnergyDb, percentile, syllableNuclei, trackF0 } from '../prosody/index.ts';
import { formantsFromLpc, lpc, NEUTRAL_FORMANTS_HZ } from './formants.ts';

/** Options of {@link SpeakerProfileAccumulator}. */
export interface SpeakerAnalysisOptions {
  /** Mel-cepstral coefficients kept (c1..cN). Default 12. */
  numCepstra: number;
  /** Voiced F0 frames kept for the percentiles (later frames are sub-sampled in). Default 6000 (60 s). */
  maxF0Frames: number;
  /** Analyse formants on every n-th voiced frame (LPC is the costly part). Default 4. */
  formantFrameStride: number;
  /** Cepstra (c1..cN) of the speaker-turn model {@link SpeakerProfileAccumulator.turnModel}; at most numCepstra. Default 8. */
  turnCepstra: number;
  /** Frames of the turn model: those within this many dB of the chunk's loudest (speech, not the pauses' noise floor). Default 25. */
  turnFloorDb: number;
}

export const DEFAULT_SPEAKER_ANALYSIS_OPTIONS: Readonly<SpeakerAnalysisOptions> = Object.freeze({ numCepstra: 12, maxF0Frames: 6000, formantFrameStride: 4, turnCepstra: 8, turnFloorDb: 25 });

const TILT_LO_HZ = 200;
const TILT_HI_HZ = 4000;

/**
 * Builds a {@link SpeakerProfile} incrementally: call {@link add} with each chunk of speech (any
 * length, ideally whole phrases ≥ 0.5 s), {@link profile} at any time. Memory is bounded.
 */
export class SpeakerProfileAccumulator {
  readonly options: Readonly<SpeakerAnalysisOptions>;
  private f0: number[] = [];
  private f0Seen = 0;
  private cepSum: Float64Array;
  private cepFrames = 0;
  private ltas: Float64Array | undefined;
  private ltasFrames = 0;
  private ltasRateHz = 0;
  private scales: number[] = [];
  private hnr: number[] = [];
  private nuclei = 0;
  private speechMs = 0;
  private closed = false;
  /**
   * Full-covariance Gaussian statistics of the speech frames' c1..c{turnCepstra} (all frames within
   * turnFloorDb of each chunk's loudest, voiced or not): the speaker model of the BIC turn test
   * (issue #17, src/pipeline/speaker-turns.ts).
   */
  readonly turnModel: CepstralGaussian;

  constructor(options: Partial<SpeakerAnalysisOptions> = {}) {
    this.options = Object.freeze({ ...DEFAULT_SPEAKER_ANALYSIS_OPTIONS, ...options });
    if (!(this.options.turnCepstra >= 1 && this.options.turnCepstra <= this.options.numCepstra)) throw new UsageError(`turnCepstra ${this.options.turnCepstra} must be 1..numCepstra (${this.options.numCepstra})`);
    this.cepSum = new Float64Array(this.options.numCepstra);
    this.turnModel = new CepstralGaussian(this.options.turnCepstra);
  }

  /** Voiced speech seen so far, ms. */
  get voicedMs(): number {
    return this.f0Seen * 10;
  }

  /**
   * Analyses one chunk of speech (mono, any rate; 16 kHz expected). `f0` is its {@link trackF0}
   * result when the caller already has it (the sender tracks each phrase once for prosody too).
   */
  add(audio: MonoAudio, f0?: ReturnType<typeof trackF0>): void {
    if (this.closed) throw new InvalidStateError('SpeakerProfileAccumulator used after close()');
    if (audio.samples.length < audio.sampleRateHz * 0.05) return;
    const track = f0 ?? trackF0(audio);
    const energy = frameEnergyDb(audio);
    const ceps = mfcc(audio, { numCoeffs: this.options.numCepstra + 1, frameMs: 25, hopMs: 10 });
    const sr = audio.sampleRateHz;
    const win = Math.round(0.025 * sr);
    const n = nextPowerOfTwo(win);
    const w = hannWindow(win);
    if (!this.ltas || this.ltasRateHz !== sr) { this.ltas = new Float64Array(n / 2 + 1); this.ltasRateHz = sr; this.ltasFrames = 0; }
    this.addTurnFrames(ceps);
    let voicedIdx = 0;
    for (let f = 0; f < track.f0Hz.length; f++) {
      const hz = track.f0Hz[f]!;
      if (!(hz > 0)) continue;
      this.f0Seen++;
      if (this.f0.length < this.options.maxF0Frames) this.f0.push(hz);
      else this.f0[this.f0Seen % this.options.maxF0Frames] = hz; // keeps a spread-out sample once full
      const p = Math.min(0.999, Math.max(1e-3, track.periodicity[f]!));
      this.hnr.length < 20000 && this.hnr.push(10 * Math.log10(p / (1 - p)));
      // MFCC frame f starts at f·10 ms; F0 frame f is centred there: use the MFCC frame centred nearest.
      const c = ceps[Math.max(0, Math.min(ceps.length - 1, f - 1))];
      if (c) { for (let k = 0; k < this.cepSum.length; k++) this.cepSum[k] += c[k + 1]!; this.cepFrames++; }
      const start = Math.round(f * 0.01 * sr) - (win >> 1);
      if (start < 0 || start + win > audio.samples.length) continue;
      const frame = new Float64Array(win);
      for (let i = 0; i < win; i++) frame[i] = audio.samples[start + i]! * w[i]!;
      const ps = powerSpectrum(frame, n);
      for (let k = 0; k < ps.length; k++) this.ltas[k] += ps[k]!;
      this.ltasFrames++;
      if (voicedIdx++ % this.options.formantFrameStride === 0) this.addFormants(audio.samples, start, win, sr);
    }
    this.nuclei += syllableNuclei(energy, track.f0Hz).length;
    const pauseMs = detectPauses(energy).reduce((s, p) => s + (p.endMs - p.startMs), 0);
    this.speechMs += Math.max(0, energy.length * 10 - pauseMs);
  }

  private addTurnFrames(ceps: Float32Array[]): void {
    // c0 of the orthonormal DCT is √M × the mean natural-log mel energy (M = 26 filters).
    const floor = (this.options.turnFloorDb * Math.LN10) / 10 * Math.sqrt(26);
    let max = -Infinity;
    for (const c of ceps) max = Math.max(max, c[0]!);
    for (const c of ceps) if (c[0]! >= max - floor) this.turnModel.add(c.subarray(1));
  }

  private addFormants(x: Float32Array, start: number, win: number, sr: number): void {
    const frame = new Float64Array(win);
    for (let i = 0; i < win; i++) {
      const v = x[start + i]! - 0.97 * (start + i > 0 ? x[start + i - 1]! : 0);
      frame[i] = v * (0.54 - 0.46 * Math.cos((2 * Math.PI * i) / (win - 1)));
    }
    const a = lpc(frame, Math.round(sr / 1000) + 2);
    if (!a) return;
    const fm = formantsFromLpc(a, sr);
    if (fm.length < 3) return;
    let logSum = 0;
    for (let i = 0; i < 3; i++) logSum += Math.log(fm[i]! / NEUTRAL_FORMANTS_HZ[i]!);
    if (this.scales.length < 20000) this.scales.push(Math.exp(logSum / 3));
  }

  /** The profile so far (neutral defaults for anything not yet measurable). */
  profile(): SpeakerProfile {
    const median = this.f0.length ? percentile(this.f0, 0.5) : 0;
    const range = this.f0.length >= 10 ? 12 * Math.log2(percentile(this.f0, 0.95) / percentile(this.f0, 0.05)) : 0;
    return {
      medianF0Hz: median,
      f0RangeSemitones: range,
      formantScale: this.scales.length ? percentile(this.scales, 0.5) : 1,
      spectralTiltDbPerOctave: this.tilt(),
      hnrDb: this.hnr.length ? percentile(this.hnr, 0.5) : 0,
      melCepstrumMean: Array.from(this.cepSum, (s) => (this.cepFrames ? s / this.cepFrames : 0)),
      syllablesPerSecond: this.speechMs > 0 ? (this.nuclei * 1000) / this.speechMs : 0,
    };
  }

  /** Least-squares slope of the long-term voiced spectrum (dB) against log2 frequency, 200–4000 Hz. */
  private tilt(): number {
    if (!this.ltas || this.ltasFrames === 0) return 0;
    const n = (this.ltas.length - 1) * 2;
    let sx = 0, sy = 0, sxx = 0, sxy = 0, c = 0;
    for (let k = 1; k < this.ltas.length; k++) {
      const hz = (k * this.ltasRateHz) / n;
      if (hz < TILT_LO_HZ || hz > TILT_HI_HZ) continue;
      const x = Math.log2(hz);
      const y = 10 * Math.log10(this.ltas[k]! / this.ltasFrames + 1e-20);
      sx += x; sy += y; sxx += x * x; sxy += x * y; c++;
    }
    const den = c * sxx - sx * sx;
    return den > 0 ? (c * sxy - sx * sy) / den : 0;
  }

  close(): void {
    this.closed = true;
  }
}
