import { UsageError } from '../../core/errors.ts';

/** True when `n` is a power of two ≥ 1. */
export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0;
}

/** Smallest power of two ≥ `n`. */
export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p <<= 1;
  return p;
}

/**
 * In-place iterative radix-2 complex FFT (forward, no scaling).
 * @param re real parts, length a power of two
 * @param im imaginary parts, same length
 */
export function fftInPlace(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  if (!isPowerOfTwo(n) || im.length !== n) throw new UsageError(`fft: length ${n} must be a power of two and match im (${im.length})`);
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      let t = re[i]!; re[i] = re[j]!; re[j] = t;
      t = im[i]!; im[i] = im[j]!; im[j] = t;
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    const wRe = Math.cos(ang);
    const wIm = Math.sin(ang);
    const half = len >> 1;
    for (let i = 0; i < n; i += len) {
      let cRe = 1;
      let cIm = 0;
      for (let k = 0; k < half; k++) {
        const a = i + k;
        const b = a + half;
        const tRe = re[b]! * cRe - im[b]! * cIm;
        const tIm = re[b]! * cIm + im[b]! * cRe;
        re[b] = re[a]! - tRe;
        im[b] = im[a]! - tIm;
        re[a] = re[a]! + tRe;
        im[a] = im[a]! + tIm;
        const nRe = cRe * wRe - cIm * wIm;
        cIm = cRe * wIm + cIm * wRe;
        cRe = nRe;
      }
    }
  }
}

/**
 * FFT of a real signal. Returns the one-sided spectrum (bins 0..n/2) as real/imag arrays.
 * `input` shorter than `n` is zero-padded; `n` must be a power of two.
 */
export function realFft(input: ArrayLike<number>, n: number = nextPowerOfTwo(input.length)): { re: Float64Array; im: Float64Array } {
  if (!isPowerOfTwo(n)) throw new UsageError(`realFft: size ${n} must be a power of two`);
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  const m = Math.min(n, input.length);
  for (let i = 0; i < m; i++) re[i] = input[i]!;
  fftInPlace(re, im);
  const bins = (n >> 1) + 1;
  return { re: re.slice(0, bins), im: im.slice(0, bins) };
}

/** Power spectrum |X[k]|² of a real frame, bins 0..n/2 (no normalization). */
export function powerSpectrum(input: ArrayLike<number>, n: number = nextPowerOfTwo(input.length)): Float64Array {
  const { re, im } = realFft(input, n);
  const out = new Float64Array(re.length);
  for (let k = 0; k < re.length; k++) out[k] = re[k]! * re[k]! + im[k]! * im[k]!;
  return out;
}
