import type { MonoAudio } from '../audio/pcm.ts';

/** Per-frame features (e.g. MFCCs, c0 first). */
export type FrameFeatures = (audio: MonoAudio) => Float32Array[];

/**
 * Utterance vector: mean and standard deviation of coefficients 1..N over the louder half of the
 * frames (c0 ranks loudness, so silence does not dominate; c0 itself is left out: it is level).
 */
export function featureStats(frames: Float32Array[]): Float64Array {
  if (frames.length === 0) return new Float64Array(0);
  const dims = frames[0]!.length - 1;
  const loud = [...frames].sort((a, b) => (b[0] as number) - (a[0] as number)).slice(0, Math.max(1, Math.ceil(frames.length / 2)));
  const out = new Float64Array(dims * 2);
  for (let d = 0; d < dims; d++) {
    let s = 0;
    let ss = 0;
    for (const f of loud) {
      s += f[d + 1] as number;
      ss += (f[d + 1] as number) ** 2;
    }
    const m = s / loud.length;
    out[d] = m;
    out[dims + d] = Math.sqrt(Math.max(0, ss / loud.length - m * m));
  }
  return out;
}

/**
 * Nearest-centroid speaker identification on feature statistics, z-normalized per dimension with
 * the enrolment set's mean and spread.
 */
export class SpeakerIdentifier {
  private readonly centroids = new Map<string, Float64Array>();
  private mean = new Float64Array(0);
  private std = new Float64Array(0);

  constructor(enrolment: ReadonlyArray<{ speaker: string; vector: Float64Array }>) {
    if (enrolment.length === 0) throw new RangeError('SpeakerIdentifier needs at least one enrolment vector');
    const dims = enrolment[0]!.vector.length;
    this.mean = new Float64Array(dims);
    this.std = new Float64Array(dims);
    for (const e of enrolment) for (let d = 0; d < dims; d++) this.mean[d]! += e.vector[d]! / enrolment.length;
    for (const e of enrolment) for (let d = 0; d < dims; d++) this.std[d]! += (e.vector[d]! - this.mean[d]!) ** 2 / enrolment.length;
    for (let d = 0; d < dims; d++) this.std[d] = Math.sqrt(this.std[d]!) || 1;
    const groups = new Map<string, Float64Array[]>();
    for (const e of enrolment) groups.set(e.speaker, [...(groups.get(e.speaker) ?? []), this.normalize(e.vector)]);
    for (const [spk, vs] of groups) {
      const c = new Float64Array(dims);
      for (const v of vs) for (let d = 0; d < dims; d++) c[d]! += v[d]! / vs.length;
      this.centroids.set(spk, c);
    }
  }

  private normalize(v: Float64Array): Float64Array {
    return v.map((x, d) => (x - this.mean[d]!) / this.std[d]!);
  }

  /** The nearest enrolled speaker (Euclidean distance in the normalized space). */
  identify(vector: Float64Array): string {
    const v = this.normalize(vector);
    let best = '';
    let bestD = Infinity;
    for (const [spk, c] of this.centroids) {
      let d = 0;
      for (let i = 0; i < v.length; i++) d += (v[i]! - c[i]!) ** 2;
      if (d < bestD) {
        bestD = d;
        best = spk;
      }
    }
    return best;
  }
}
