/**
 * Prosody fidelity metrics on F0 tracks (10 ms frames, 0 = unvoiced). The decoded contour is first
 * warped onto the original's timeline piecewise-linearly between matching word boundaries, so a
 * phrase spoken at a different tempo is compared syllable against syllable, not clock against clock.
 */

export interface WordSpan {
  startMs: number;
  endMs: number;
}

/** Anchor pairs (original ms → decoded ms) from word boundaries of the same word sequence. */
export function warpAnchors(refWords: readonly WordSpan[], decWords: readonly WordSpan[], refEndMs: number, decEndMs: number): Array<[number, number]> {
  const n = Math.min(refWords.length, decWords.length);
  const anchors: Array<[number, number]> = [[0, 0]];
  for (let i = 0; i < n; i++) {
    anchors.push([refWords[i]!.startMs, decWords[i]!.startMs], [refWords[i]!.endMs, decWords[i]!.endMs]);
  }
  anchors.push([refEndMs, decEndMs]);
  // Keep the map monotonic: drop anchors that go backwards on either axis.
  const out: Array<[number, number]> = [];
  for (const a of anchors) {
    const last = out[out.length - 1];
    if (!last || (a[0] > last[0] && a[1] >= last[1])) out.push(a);
  }
  return out;
}

function mapTime(anchors: Array<[number, number]>, t: number): number {
  if (anchors.length === 1) return t;
  let i = 1;
  while (i < anchors.length - 1 && anchors[i]![0] < t) i++;
  const [x0, y0] = anchors[i - 1]!;
  const [x1, y1] = anchors[i]!;
  return y0 + ((t - x0) * (y1 - y0)) / (x1 - x0 || 1);
}

/** The decoded F0 track resampled onto the original's frames through the word-boundary warp. */
export function warpF0(decodedF0Hz: Float32Array, frameMs: number, anchors: Array<[number, number]>, refFrames: number): Float32Array {
  const out = new Float32Array(refFrames);
  for (let i = 0; i < refFrames; i++) {
    const j = Math.round(mapTime(anchors, i * frameMs) / frameMs);
    out[i] = j >= 0 && j < decodedF0Hz.length ? (decodedF0Hz[j] as number) : 0;
  }
  return out;
}

export interface F0Comparison {
  /** Frames voiced in both tracks. */
  frames: number;
  /** Pearson correlation of log-F0 over those frames (NaN when < 3 frames). */
  corr: number;
  /** RMS difference, semitones. */
  rmseSemitones: number;
  /** RMS difference after removing each track's mean log-F0, semitones (contour shape only). */
  rmseShapeSemitones: number;
  /** Difference of the two tracks' median F0, semitones (decoded − original). */
  medianErrorSemitones: number;
}

const st = (hz: number) => 12 * Math.log2(hz);

function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Compares two F0 tracks frame by frame (same timeline). */
export function compareF0(refHz: Float32Array, decHz: Float32Array): F0Comparison {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < Math.min(refHz.length, decHz.length); i++) {
    if ((refHz[i] as number) > 0 && (decHz[i] as number) > 0) {
      a.push(st(refHz[i] as number));
      b.push(st(decHz[i] as number));
    }
  }
  const refVoiced = Array.from(refHz).filter((x) => x > 0).map(st);
  const decVoiced = Array.from(decHz).filter((x) => x > 0).map(st);
  const medianErrorSemitones = median(decVoiced) - median(refVoiced);
  const n = a.length;
  if (n < 3) return { frames: n, corr: NaN, rmseSemitones: NaN, rmseShapeSemitones: NaN, medianErrorSemitones };
  const ma = a.reduce((s, x) => s + x, 0) / n;
  const mb = b.reduce((s, x) => s + x, 0) / n;
  let sab = 0, saa = 0, sbb = 0, se = 0, ses = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
    se += (a[i]! - b[i]!) ** 2;
    ses += (da - db) ** 2;
  }
  return {
    frames: n,
    corr: saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN,
    rmseSemitones: Math.sqrt(se / n),
    rmseShapeSemitones: Math.sqrt(ses / n),
    medianErrorSemitones,
  };
}

/** Pearson correlation of two equally long number lists (NaN when undefined). */
export function pearson(x: readonly number[], y: readonly number[]): number {
  const n = Math.min(x.length, y.length);
  if (n < 3) return NaN;
  const mx = x.slice(0, n).reduce((s, v) => s + v, 0) / n;
  const my = y.slice(0, n).reduce((s, v) => s + v, 0) / n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

/** Word-duration correlation between matching words of two timings. */
export function wordDurationCorrelation(ref: readonly WordSpan[], dec: readonly WordSpan[]): number {
  return pearson(ref.map((w) => w.endMs - w.startMs), dec.map((w) => w.endMs - w.startMs));
}
