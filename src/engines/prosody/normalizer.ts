/** Snapshot of {@link SpeakerF0Normalizer}. */
export interface F0NormalizerState {
  /** Running mean of log2(F0/1 Hz) over voiced frames. */
  meanLog2: number;
  /** Running standard deviation of log2 F0, octaves. */
  stdLog2: number;
  /** Voiced frames seen (weight saturates at `maxWeight`). */
  count: number;
}

/**
 * Per-speaker running log-F0 mean and spread, updated as speech arrives. Welford updates with a
 * saturating weight, so the estimate settles after ~`maxWeight` voiced frames yet still follows a
 * slowly drifting voice. Starts from a neutral prior (150 Hz, 0.25 octave) with weight 0.
 */
export class SpeakerF0Normalizer {
  private mean = Math.log2(150);
  private m2 = 0;
  private n = 0;

  constructor(private readonly maxWeight = 3000) {}

  /** Adds every voiced (> 0) frame of an F0 track. */
  update(f0Hz: ArrayLike<number>): void {
    for (let i = 0; i < f0Hz.length; i++) {
      const f = f0Hz[i]!;
      if (!(f > 0)) continue;
      const v = Math.log2(f);
      this.n = Math.min(this.n + 1, this.maxWeight);
      const delta = v - this.mean;
      this.mean += delta / this.n;
      this.m2 += delta * (v - this.mean);
      if (this.n === this.maxWeight) this.m2 *= (this.maxWeight - 1) / this.maxWeight;
    }
  }

  get state(): F0NormalizerState {
    const std = this.n > 1 ? Math.sqrt(this.m2 / (this.n - 1)) : 0.25;
    return { meanLog2: this.mean, stdLog2: std, count: this.n };
  }

  /** F0 in semitones relative to the running mean (NaN for unvoiced frames). */
  semitones(f0Hz: number): number {
    return f0Hz > 0 ? 12 * (Math.log2(f0Hz) - this.mean) : NaN;
  }
}
