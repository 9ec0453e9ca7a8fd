import { UsageError } from '../../../core/errors.ts';

/**
 * A mixed-radix complex FFT of any size (Cooley–Tukey, decimation in time, generic butterflies as in
 * kissfft). Whisper's front end needs an exact 400-point DFT (n_fft = 400 = 4·4·5·5), which the
 * radix-2 FFT in src/audio/spectrum cannot do without changing the bin frequencies by zero padding.
 */
export class MixedRadixFft {
  readonly size: number;
  private readonly factors: number[] = [];
  private readonly twRe: Float64Array;
  private readonly twIm: Float64Array;
  private readonly outRe: Float64Array;
  private readonly outIm: Float64Array;
  private readonly scratchRe: Float64Array;
  private readonly scratchIm: Float64Array;

  /** @param size transform length (≥ 1); fastest when it factors into 2, 3, 4 and 5. */
  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new UsageError(`MixedRadixFft: size ${size} must be an integer ≥ 1`);
    this.size = size;
    let n = size;
    for (const p of [4, 2, 3, 5]) while (n % p === 0) { this.factors.push(p); n /= p; }
    for (let p = 7; n > 1; p += 2) while (n % p === 0) { this.factors.push(p); n /= p; }
    this.twRe = new Float64Array(size);
    this.twIm = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      this.twRe[i] = Math.cos((-2 * Math.PI * i) / size);
      this.twIm[i] = Math.sin((-2 * Math.PI * i) / size);
    }
    this.outRe = new Float64Array(size);
    this.outIm = new Float64Array(size);
    const maxP = Math.max(1, ...this.factors);
    this.scratchRe = new Float64Array(maxP);
    this.scratchIm = new Float64Array(maxP);
  }

  /**
   * Power spectrum |X[k]|² (no scaling) of a real frame, bins 0..size/2 written to `out`.
   * @param frame exactly `size` real samples
   */
  powerSpectrum(frame: ArrayLike<number>, out: Float64Array = new Float64Array((this.size >> 1) + 1)): Float64Array {
    if (frame.length !== this.size) throw new UsageError(`MixedRadixFft: frame of ${frame.length} samples, expected ${this.size}`);
    this.transform(frame);
    const bins = (this.size >> 1) + 1;
    for (let k = 0; k < bins; k++) out[k] = this.outRe[k]! ** 2 + this.outIm[k]! ** 2;
    return out;
  }

  /** Complex spectrum of a real frame: copies of all `size` bins. */
  spectrum(frame: ArrayLike<number>): { re: Float64Array; im: Float64Array } {
    if (frame.length !== this.size) throw new UsageError(`MixedRadixFft: frame of ${frame.length} samples, expected ${this.size}`);
    this.transform(frame);
    return { re: this.outRe.slice(), im: this.outIm.slice() };
  }

  private transform(frame: ArrayLike<number>): void {
    this.work(0, frame, 0, 1, 0, this.size);
  }

  private work(outOff: number, input: ArrayLike<number>, inOff: number, fstride: number, fi: number, n: number): void {
    const p = this.factors[fi] ?? 1;
    const m = n / p;
    if (m === 1) {
      for (let j = 0; j < n; j++) {
        this.outRe[outOff + j] = input[inOff + j * fstride]!;
        this.outIm[outOff + j] = 0;
      }
      if (n > 1) this.butterfly(outOff, fstride, p, 1);
      return;
    }
    for (let j = 0; j < p; j++) this.work(outOff + j * m, input, inOff + j * fstride, fstride * p, fi + 1, m);
    this.butterfly(outOff, fstride, p, m);
  }

  /** Generic radix-p butterfly over p sub-transforms of length m stored consecutively from outOff. */
  private butterfly(outOff: number, fstride: number, p: number, m: number): void {
    const { outRe, outIm, scratchRe, scratchIm, twRe, twIm } = this;
    const N = this.size;
    for (let u = 0; u < m; u++) {
      for (let q = 0, k = u; q < p; q++, k += m) {
        scratchRe[q] = outRe[outOff + k]!;
        scratchIm[q] = outIm[outOff + k]!;
      }
      for (let q1 = 0, k = u; q1 < p; q1++, k += m) {
        let accRe = scratchRe[0]!;
        let accIm = scratchIm[0]!;
        let tw = 0;
        const step = fstride * k; // < N, since k < p·m and fstride·p·m = N
        for (let q = 1; q < p; q++) {
          tw += step;
          if (tw >= N) tw -= N;
          const a = scratchRe[q]!;
          const b = scratchIm[q]!;
          accRe += a * twRe[tw]! - b * twIm[tw]!;
          accIm += a * twIm[tw]! + b * twRe[tw]!;
        }
        outRe[outOff + k] = accRe;
        outIm[outOff + k] = accIm;
      }
    }
  }
}
