import { GaussianSource } from './gaussian.ts';

/**
 * One Watterson path gain: a complex Gaussian process (Rayleigh amplitude) whose power spectrum is
 * Gaussian, S(f) ∝ exp(−f² / 2σ²), with the Doppler spread defined as 2σ (ITU-R F.1487, as in
 * CCIR Rep. 549). Made by filtering complex white Gaussian noise, at a low "tap rate" of
 * TAP_RATE_PER_HZ × spread, with a Gaussian FIR (|H(f)|² = S(f)), then interpolated linearly to the
 * audio rate: the process is band-limited to a few σ, far below the tap rate, so the interpolation
 * adds nothing measurable. The filter history is pre-filled, so the process is stationary from t=0.
 */
export const TAP_RATE_PER_HZ = 32;
/** FIR half-length in σ of its Gaussian impulse response. */
const FIR_HALF_SPAN_SIGMAS = 4;

export interface DopplerTapOptions {
  /** Doppler spread (2σ of the power spectrum), Hz. 0 = a constant gain. */
  dopplerSpreadHz: number;
  /** Audio rate the gains are produced at, Hz. */
  sampleRateHz: number;
  /** Mean power E|h|² of the gain. */
  power: number;
  seed: number;
}

export class DopplerTap {
  /** Rate at which independent filtered samples are made, Hz (0 for a constant gain). */
  readonly tapRateHz: number;
  private readonly fir: Float64Array;
  private readonly noise: GaussianSource;
  private readonly histRe: Float64Array;
  private readonly histIm: Float64Array;
  private at = 0; // ring position
  private prev: [number, number];
  private next: [number, number];
  private phase = 0; // audio samples since `prev`, in tap periods
  private readonly step: number;
  private readonly constantGain: number;

  constructor(private readonly o: DopplerTapOptions) {
    this.noise = new GaussianSource(o.seed);
    this.constantGain = Math.sqrt(o.power);
    if (o.dopplerSpreadHz <= 0) {
      this.tapRateHz = 0;
      this.fir = new Float64Array(0);
      this.histRe = this.histIm = new Float64Array(0);
      this.step = 0;
      this.prev = this.next = [this.constantGain, 0];
      return;
    }
    this.tapRateHz = TAP_RATE_PER_HZ * o.dopplerSpreadHz;
    // |G(f)|² ∝ exp(−f²/2σf²) with σf = spread/2 ⇔ g(t) ∝ exp(−t²/2σt²), σt = 1/(2π√2 σf).
    const sigmaF = o.dopplerSpreadHz / 2;
    const sigmaT = (1 / (2 * Math.PI * Math.SQRT2 * sigmaF)) * this.tapRateHz; // in tap samples
    const half = Math.ceil(FIR_HALF_SPAN_SIGMAS * sigmaT);
    this.fir = new Float64Array(2 * half + 1);
    let energy = 0;
    for (let k = -half; k <= half; k++) {
      const g = Math.exp(-(k * k) / (2 * sigmaT * sigmaT));
      this.fir[k + half] = g;
      energy += g * g;
    }
    // Unit-variance complex noise (E|w|² = 1) through the FIR gives E|h|² = Σg²: scale to `power`.
    const scale = Math.sqrt(o.power / energy);
    for (let i = 0; i < this.fir.length; i++) this.fir[i]! *= scale;
    this.histRe = new Float64Array(this.fir.length);
    this.histIm = new Float64Array(this.fir.length);
    for (let i = 0; i < this.fir.length; i++) this.pushNoise();
    this.step = this.tapRateHz / o.sampleRateHz;
    this.prev = this.nextTapSample();
    this.next = this.nextTapSample();
  }

  /** The next gain at the tap rate (for spectrum checks; the channel uses {@link fill}). */
  nextTapSample(): [number, number] {
    if (this.tapRateHz === 0) return [this.constantGain, 0];
    this.pushNoise();
    let re = 0;
    let im = 0;
    const n = this.fir.length;
    for (let k = 0; k < n; k++) {
      const j = (this.at + k) % n; // oldest first
      re += this.fir[k]! * this.histRe[j]!;
      im += this.fir[k]! * this.histIm[j]!;
    }
    return [re, im];
  }

  /** Gains at the audio rate for the next `re.length` samples. */
  fill(re: Float64Array, im: Float64Array): void {
    if (this.tapRateHz === 0) {
      re.fill(this.constantGain);
      im.fill(0);
      return;
    }
    for (let i = 0; i < re.length; i++) {
      const t = this.phase;
      re[i] = this.prev[0] + (this.next[0] - this.prev[0]) * t;
      im[i] = this.prev[1] + (this.next[1] - this.prev[1]) * t;
      this.phase += this.step;
      if (this.phase >= 1) {
        this.phase -= 1;
        this.prev = this.next;
        this.next = this.nextTapSample();
      }
    }
  }

  private pushNoise(): void {
    // Complex white noise with E|w|² = 1: each component N(0, 1/2).
    this.histRe[this.at] = this.noise.next() * Math.SQRT1_2;
    this.histIm[this.at] = this.noise.next() * Math.SQRT1_2;
    this.at = (this.at + 1) % this.histRe.length;
  }
}
