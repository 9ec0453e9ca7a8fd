import { UsageError } from '../../core/errors.ts';

/**
 * Sufficient statistics of a full-covariance Gaussian over cepstral frames (count, sum, sum of
 * outer products): a speaker model for the BIC speaker-turn test (issue #17). Fixed size whatever
 * the amount of speech (d + d(d+1)/2 numbers), so models of many speakers stay small.
 */
export class CepstralGaussian {
  n = 0;
  readonly sum: Float64Array;
  /** Upper triangle, row-major (i ≤ j). */
  readonly outer: Float64Array;

  constructor(readonly dim: number) {
    if (!Number.isInteger(dim) || dim < 1 || dim > 32) throw new UsageError(`CepstralGaussian: dimension ${dim} must be 1..32`);
    this.sum = new Float64Array(dim);
    this.outer = new Float64Array((dim * (dim + 1)) / 2);
  }

  /** Adds one frame (its first `dim` values). */
  add(x: ArrayLike<number>): void {
    const d = this.dim;
    let k = 0;
    for (let i = 0; i < d; i++) {
      const xi = x[i]!;
      this.sum[i] += xi;
      for (let j = i; j < d; j++) this.outer[k++] += xi * x[j]!;
    }
    this.n++;
  }

  /** Adds another model's statistics (same dimension). */
  merge(other: CepstralGaussian): void {
    if (other.dim !== this.dim) throw new UsageError(`CepstralGaussian: cannot merge dimension ${other.dim} into ${this.dim}`);
    for (let i = 0; i < this.sum.length; i++) this.sum[i] += other.sum[i]!;
    for (let i = 0; i < this.outer.length; i++) this.outer[i] += other.outer[i]!;
    this.n += other.n;
  }

  clone(): CepstralGaussian {
    const c = new CepstralGaussian(this.dim);
    c.merge(this);
    return c;
  }

  /** log det of the maximum-likelihood covariance (floored at 1e-6 per diagonal term for stability); NaN when n < 2. */
  logDetCovariance(): number {
    return logDetOf([this]);
  }
}

/** log det of the ML covariance of the union of the models' frames (Cholesky). */
function logDetOf(models: readonly CepstralGaussian[]): number {
  const d = models[0]!.dim;
  let n = 0;
  const sum = new Float64Array(d);
  const outer = new Float64Array((d * (d + 1)) / 2);
  for (const m of models) {
    n += m.n;
    for (let i = 0; i < d; i++) sum[i] += m.sum[i]!;
    for (let i = 0; i < outer.length; i++) outer[i] += m.outer[i]!;
  }
  if (n < 2) return Number.NaN;
  const c = new Float64Array(d * d);
  let k = 0;
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      const v = outer[k++]! / n - (sum[i]! / n) * (sum[j]! / n) + (i === j ? 1e-6 : 0);
      c[i * d + j] = v;
      c[j * d + i] = v;
    }
  }
  let logDet = 0;
  for (let j = 0; j < d; j++) {
    let s = c[j * d + j]!;
    for (let p = 0; p < j; p++) s -= c[j * d + p]! ** 2;
    if (!(s > 0)) return Number.NaN;
    const l = Math.sqrt(s);
    c[j * d + j] = l;
    logDet += 2 * Math.log(l);
    for (let i = j + 1; i < d; i++) {
      let t = c[i * d + j]!;
      for (let p = 0; p < j; p++) t -= c[i * d + p]! * c[j * d + p]!;
      c[i * d + j] = t / l;
    }
  }
  return logDet;
}

/**
 * Bayesian-information-criterion test of "one speaker" against "two speakers" for two sets of
 * frames (Chen & Gopalakrishnan 1998): the generalized likelihood ratio
 * ½[(n_a+n_b)·log|Σ_ab| − n_a·log|Σ_a| − n_b·log|Σ_b|] divided by the BIC penalty of the extra
 * Gaussian, ½(d + d(d+1)/2)·log(n_a+n_b). So the result is the penalty weight λ at which the test
 * is undecided: above the caller's λ means two speakers. NaN when either side has too few frames.
 */
export function bicChangeScore(a: CepstralGaussian, b: CepstralGaussian): number {
  const d = a.dim;
  if (b.dim !== d) throw new UsageError(`bicChangeScore: dimensions ${a.dim} and ${b.dim} differ`);
  const n = a.n + b.n;
  const glr = 0.5 * (n * logDetOf([a, b]) - a.n * logDetOf([a]) - b.n * logDetOf([b]));
  const penalty = 0.5 * (d + (d * (d + 1)) / 2) * Math.log(n);
  return glr / penalty;
}
