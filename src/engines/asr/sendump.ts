// pocketsphinx ships its PTM mixture weights only as an 8-bit "sendump"; sphinxtrain's bw needs them
// as an S3 float32 `mixture_weights` file (issue #17 item 2, MLLR adaptation). Formats as read in
// pocketsphinx ptm_mgau.c (read_sendump, read_mixw) and sphinxtrain s3mixw_io.c / s3io.c.
import { DecodeError } from '../../core/errors.ts';

/** Quantized mixture weights as stored in a sendump: `values[(f * nDensity + d) * nSenone + s]`. */
export interface Sendump {
  nFeat: number;
  nDensity: number;
  nSenone: number;
  /** −log(weight) in units of `1024 · ln(logBase)` (pocketsphinx's SENSCR_SHIFT = 10), capped at 159. */
  values: Uint8Array;
}

/** S3 mixture weights: `weights[(s * nFeat + f) * nDensity + d]`, each (s, f) row summing to 1. */
export interface MixtureWeights {
  nMixw: number;
  nFeat: number;
  nDensity: number;
  weights: Float32Array;
}

/** Largest array accepted (5126 senones × 3 streams × 256 densities is ~4 M): a corrupt header cannot allocate gigabytes. */
const MAX_VALUES = 64 * 1024 * 1024;
/** pocketsphinx's logbase default (-logbase 1.0001) and mixture-weight shift (SENSCR_SHIFT). */
export const DEFAULT_LOG_BASE = 1.0001;
const SENSCR_SHIFT = 10;

function checkedSize(...dims: number[]): number {
  const n = dims.reduce((a, b) => a * b, 1);
  if (dims.some((d) => !Number.isInteger(d) || d <= 0) || n > MAX_VALUES) {
    throw new DecodeError('too_large', `mixture weight dimensions ${dims.join('×')} are out of range`, { dims });
  }
  return n;
}

/** Parses a pocketsphinx sendump (little- or big-endian; 8-bit values, no cluster codebook). */
export function readSendump(bytes: Uint8Array): Sendump {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 0;
  const need = (n: number) => {
    if (off + n > bytes.length) throw new DecodeError('truncated', `sendump ends at byte ${bytes.length}, needed ${off + n}`);
  };
  need(4);
  // The first length is the title's (1..999): its byte order is the file's.
  let little = true;
  const first = view.getInt32(0, true);
  if (first < 1 || first > 999) {
    little = false;
    const swapped = view.getInt32(0, false);
    if (swapped < 1 || swapped > 999) throw new DecodeError('malformed', `sendump title length ${first} is out of range: not a sendump file`);
  }
  const int32 = () => {
    need(4);
    const v = view.getInt32(off, little);
    off += 4;
    return v;
  };
  const header: Record<string, number> = {};
  for (;;) {
    const n = int32();
    if (n === 0) break;
    if (n < 0 || n > 4096) throw new DecodeError('malformed', `sendump header string length ${n} is out of range`);
    need(n);
    const s = new TextDecoder().decode(bytes.subarray(off, off + n)).replace(/\0+$/, '');
    off += n;
    const m = /^(feature_count|mixture_count|model_count|cluster_count|cluster_bits) (\d+)$/.exec(s);
    if (m) header[m[1]!] = Number(m[2]);
  }
  if ((header.cluster_count ?? 0) !== 0 || (header.cluster_bits ?? 8) !== 8) {
    throw new DecodeError('unsupported_version', 'clustered (4-bit) sendumps are not supported: only 8-bit values without a codebook');
  }
  // Without a cluster count the row and column counts follow the header (rows = densities, columns = senones).
  const nDensity = header.mixture_count ?? int32();
  const nSenone = header.model_count ?? int32();
  const nFeat = header.feature_count ?? 1;
  const n = checkedSize(nFeat, nDensity, nSenone);
  need(n);
  if (off + n !== bytes.length) throw new DecodeError('malformed', `sendump has ${bytes.length - off - n} bytes after its ${nFeat}×${nDensity}×${nSenone} values`);
  return { nFeat, nDensity, nSenone, values: bytes.slice(off, off + n) };
}

/**
 * Undoes the quantization (weight = logBase^(−value · 1024)) and renormalizes each senone's
 * per-stream mixture to sum to 1: the 8-bit values are rounded, so raw sums are only ≈ 1.
 */
export function sendumpToMixtureWeights(s: Sendump, logBase = DEFAULT_LOG_BASE): MixtureWeights {
  const { nFeat, nDensity, nSenone } = s;
  const weights = new Float32Array(checkedSize(nSenone, nFeat, nDensity));
  const scale = -Math.log(logBase) * (1 << SENSCR_SHIFT);
  const lut = Float64Array.from({ length: 256 }, (_, v) => Math.exp(scale * v));
  for (let f = 0; f < nFeat; f++) {
    for (let d = 0; d < nDensity; d++) {
      const row = (f * nDensity + d) * nSenone;
      for (let sen = 0; sen < nSenone; sen++) weights[(sen * nFeat + f) * nDensity + d] = lut[s.values[row + sen]!]!;
    }
  }
  for (let r = 0; r < nSenone * nFeat; r++) {
    const row = weights.subarray(r * nDensity, (r + 1) * nDensity);
    let sum = 0;
    for (const w of row) sum += w;
    for (let d = 0; d < nDensity; d++) row[d] = row[d]! / sum;
  }
  return { nMixw: nSenone, nFeat, nDensity, weights };
}

/** Raw per-(senone, stream) sums before renormalization: how close the quantized weights are to 1. */
export function rawMixtureSums(s: Sendump, logBase = DEFAULT_LOG_BASE): Float64Array {
  const scale = -Math.log(logBase) * (1 << SENSCR_SHIFT);
  const sums = new Float64Array(s.nSenone * s.nFeat);
  for (let f = 0; f < s.nFeat; f++) {
    for (let d = 0; d < s.nDensity; d++) {
      const row = (f * s.nDensity + d) * s.nSenone;
      for (let sen = 0; sen < s.nSenone; sen++) sums[sen * s.nFeat + f] += Math.exp(scale * s.values[row + sen]!);
    }
  }
  return sums;
}

/** S3 checksum: each 32-bit word rotated in (sphinxtrain s3io.c), over the dimensions and the data. */
function s3Checksum(words: Uint32Array): number {
  let sum = 0;
  for (const w of words) sum = (((sum << 20) | (sum >>> 12)) + w) >>> 0;
  return sum;
}

const S3_MAGIC = 0x11223344;

/** Little-endian S3 `mixture_weights` (version 1.0, with checksum), as bw's -mixwfn reads it. */
export function encodeS3MixtureWeights(m: MixtureWeights): Uint8Array {
  const n = checkedSize(m.nMixw, m.nFeat, m.nDensity);
  if (m.weights.length !== n) throw new DecodeError('malformed', `mixture weights hold ${m.weights.length} values, dimensions say ${n}`);
  // The text header is padded so the binary part starts on a 4-byte boundary (as s3open writes it).
  const head = 's3\nversion 1.0\nchksum0 yes\n';
  const pad = (4 - ((head.length + 'endhdr\n'.length) % 4)) % 4;
  const text = new TextEncoder().encode(`${head}${' '.repeat(pad)}endhdr\n`);
  const words = new Uint32Array(4 + n);
  words.set([m.nMixw, m.nFeat, m.nDensity, n]);
  new Float32Array(words.buffer, 16).set(m.weights);
  const out = new Uint8Array(text.length + 4 + words.byteLength + 4);
  const view = new DataView(out.buffer);
  out.set(text);
  view.setUint32(text.length, S3_MAGIC, true);
  out.set(new Uint8Array(words.buffer), text.length + 4);
  view.setUint32(out.length - 4, s3Checksum(words), true);
  return out;
}

/** Reads an S3 3-D float32 array file (mixture_weights); verifies the checksum when present. */
export function decodeS3MixtureWeights(bytes: Uint8Array): MixtureWeights {
  const end = findHeaderEnd(bytes);
  const text = new TextDecoder().decode(bytes.subarray(0, end));
  if (!text.startsWith('s3\n')) throw new DecodeError('malformed', 'not an S3 model file (no "s3" line)');
  const hasChecksum = /^chksum0 /m.test(text);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < end + 20) throw new DecodeError('truncated', 'S3 file ends inside its dimensions');
  const little = view.getUint32(end, true) === S3_MAGIC;
  if (!little && view.getUint32(end, false) !== S3_MAGIC) throw new DecodeError('malformed', 'S3 byte-order magic missing');
  const u32 = (i: number) => view.getUint32(end + 4 + 4 * i, little);
  const [nMixw, nFeat, nDensity, n] = [u32(0), u32(1), u32(2), u32(3)];
  if (n !== checkedSize(nMixw, nFeat, nDensity)) throw new DecodeError('malformed', `S3 array size ${n} ≠ ${nMixw}×${nFeat}×${nDensity}`);
  const expected = end + 4 + 16 + 4 * n + (hasChecksum ? 4 : 0);
  if (bytes.length < expected) throw new DecodeError('truncated', `S3 file has ${bytes.length} bytes, needs ${expected}`);
  const words = new Uint32Array(4 + n);
  for (let i = 0; i < words.length; i++) words[i] = u32(i);
  if (hasChecksum && s3Checksum(words) !== view.getUint32(expected - 4, little)) throw new DecodeError('malformed', 'S3 checksum mismatch: the file is corrupt');
  return { nMixw, nFeat, nDensity, weights: new Float32Array(words.buffer.slice(16)) };
}

function findHeaderEnd(bytes: Uint8Array): number {
  const marker = new TextEncoder().encode('endhdr\n');
  const limit = Math.min(bytes.length, 4096);
  outer: for (let i = 0; i + marker.length <= limit; i++) {
    for (let j = 0; j < marker.length; j++) if (bytes[i + j] !== marker[j]) continue outer;
    return i + marker.length;
  }
  throw new DecodeError('malformed', 'S3 header has no "endhdr" line in its first 4096 bytes');
}

/** Gaussian parameters or counts laid out `[codebook][stream][density][component]`, contiguous. */
export interface S3VectorArray {
  nCodebook: number;
  nDensity: number;
  veclen: number[];
  data: Float32Array;
}

/** Offset of the vector (codebook, stream, density) in an {@link S3VectorArray}'s data. */
export function vectorOffset(a: Pick<S3VectorArray, 'nDensity' | 'veclen'>, cb: number, stream: number, density: number): number {
  const blk = a.veclen.reduce((x, y) => x + y, 0);
  let before = 0;
  for (let f = 0; f < stream; f++) before += a.veclen[f]!;
  return cb * a.nDensity * blk + before * a.nDensity + density * a.veclen[stream]!;
}

/** bw's `gauden_counts` (sphinxtrain s3gau_io.c s3gaucnt_write): Σγx, Σγx² (or Σγ(x−μ)² with -2passvar), Σγ. */
export interface S3GaussianCounts {
  means: S3VectorArray | undefined;
  vars: S3VectorArray | undefined;
  /** true: `vars` holds Σγ(x−μ)² around the prior means, else Σγx². */
  pass2var: boolean;
  /** Σγ per (codebook, stream, density). */
  dnom: Float32Array;
}

class S3Reader {
  private off: number;
  private readonly view: DataView;
  private readonly little: boolean;
  readonly hasChecksum: boolean;
  constructor(private readonly bytes: Uint8Array) {
    const end = findHeaderEnd(bytes);
    this.hasChecksum = /^chksum0 /m.test(new TextDecoder().decode(bytes.subarray(0, end)));
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length < end + 4) throw new DecodeError('truncated', 'S3 file ends after its header');
    this.little = this.view.getUint32(end, true) === S3_MAGIC;
    if (!this.little && this.view.getUint32(end, false) !== S3_MAGIC) throw new DecodeError('malformed', 'S3 byte-order magic missing');
    this.off = end + 4;
  }
  u32(): number {
    if (this.off + 4 > this.bytes.length) throw new DecodeError('truncated', `S3 file ends at byte ${this.bytes.length}`);
    const v = this.view.getUint32(this.off, this.little);
    this.off += 4;
    return v;
  }
  floats(n: number): Float32Array {
    if (n > MAX_VALUES || this.off + 4 * n > this.bytes.length) throw new DecodeError('truncated', `S3 file too short for ${n} values`);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.view.getFloat32(this.off + 4 * i, this.little);
    this.off += 4 * n;
    return out;
  }
}

/** Reads an S3 `means` / `variances` file (sphinxtrain s3gau_write layout). */
export function decodeS3Gaussians(bytes: Uint8Array): S3VectorArray {
  const r = new S3Reader(bytes);
  const [nCodebook, nFeat, nDensity] = [r.u32(), r.u32(), r.u32()];
  checkedSize(nCodebook, nFeat, nDensity);
  const veclen = Array.from({ length: nFeat }, () => r.u32());
  const n = r.u32();
  if (n !== checkedSize(nCodebook, nDensity, veclen.reduce((a, b) => a + b, 0))) throw new DecodeError('malformed', `S3 Gaussian file size ${n} does not match its dimensions`);
  return { nCodebook, nDensity, veclen, data: r.floats(n) };
}

/** Reads bw's `gauden_counts`. */
export function decodeS3GaussianCounts(bytes: Uint8Array): S3GaussianCounts {
  const r = new S3Reader(bytes);
  const [hasMeans, hasVars, pass2var, nCodebook, nDensity] = [r.u32(), r.u32(), r.u32(), r.u32(), r.u32()];
  const nFeat = r.u32();
  checkedSize(nCodebook, nFeat, nDensity);
  const veclen = Array.from({ length: nFeat }, () => r.u32());
  const blk = veclen.reduce((a, b) => a + b, 0);
  const vectors = (): S3VectorArray => {
    const n = r.u32();
    if (n !== checkedSize(nCodebook, nDensity, blk)) throw new DecodeError('malformed', `gauden_counts array size ${n} does not match its dimensions`);
    return { nCodebook, nDensity, veclen, data: r.floats(n) };
  };
  const means = hasMeans ? vectors() : undefined;
  const vars = hasVars ? vectors() : undefined;
  const dims = [r.u32(), r.u32(), r.u32()];
  const n = r.u32();
  if (dims[0] !== nCodebook || dims[1] !== nFeat || dims[2] !== nDensity || n !== nCodebook * nFeat * nDensity) throw new DecodeError('malformed', 'gauden_counts denominators do not match its dimensions');
  return { means, vars, pass2var: pass2var !== 0, dnom: r.floats(n) };
}
