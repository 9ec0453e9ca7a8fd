import { DecodeError, EncodeError } from '../../core/errors.ts';

/**
 * Neural speaker embedding → at most {@link EMBEDDING_MAX_BYTES} bytes, for the speaker channel
 * when a neural speaker encoder is chosen (issue #9).
 *
 * Method: the vector is L2-normalized (speaker embeddings are compared by cosine, so only the
 * direction is kept), zero-padded to a power of two P, rotated by a fixed seeded randomized
 * Hadamard transform (two rounds of random signs + normalized Walsh–Hadamard), which spreads
 * every direction evenly so each rotated coordinate is ≈ N(0, 1/P); each coordinate, scaled by
 * √P, is then coded with a Lloyd–Max quantizer for a unit Gaussian using
 * b = min(4, ⌊512 / P⌋) bits. The per-vector scale is implicit (unit norm), so the whole budget
 * goes to the coordinates: 128 dims → 4 bits → 64 bytes; 192/256 dims → P = 256, 2 bits →
 * 64 bytes; 512 dims → 1 bit → 64 bytes. Decoding inverts the rotation and re-normalizes.
 * Sizes depend only on the dimension, so the bytes carry no header.
 */
export const EMBEDDING_MAX_BYTES = 64;
/** Largest dimension accepted. */
export const EMBEDDING_MAX_DIM = 512;
/** Seed of the fixed rotation: part of the format (both ends must use the same). */
export const EMBEDDING_ROTATION_SEED = 0x5eed_0009;

// Lloyd–Max reconstruction levels (positive half) for a unit Gaussian, 1..4 bits.
const LEVELS: Record<number, readonly number[]> = {
  1: [0.7979],
  2: [0.4528, 1.5104],
  3: [0.2451, 0.756, 1.3439, 2.1519],
  4: [0.1284, 0.3881, 0.6568, 0.9424, 1.2562, 1.6181, 2.0691, 2.7326],
};

function paddedDim(dim: number): number {
  let p = 1;
  while (p < dim) p <<= 1;
  return p;
}

/** Bits per rotated coordinate and total bytes for an embedding of `dim` values. */
export function embeddingLayout(dim: number): { paddedDim: number; bitsPerValue: number; bytes: number } {
  if (!Number.isInteger(dim) || dim < 8 || dim > EMBEDDING_MAX_DIM) throw new EncodeError('invalid_value', `embedding dimension ${dim} must be an integer in 8..${EMBEDDING_MAX_DIM}`);
  const p = paddedDim(dim);
  const bits = Math.min(4, Math.floor((EMBEDDING_MAX_BYTES * 8) / p));
  return { paddedDim: p, bitsPerValue: bits, bytes: Math.ceil((p * bits) / 8) };
}

/** Random ±1 signs for each rotation round, from a fixed xorshift32 stream. */
function rotationSigns(p: number): [Int8Array, Int8Array] {
  let s = EMBEDDING_ROTATION_SEED ^ Math.imul(p, 0x9e3779b1);
  const next = () => {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    return s >>> 0;
  };
  const a = new Int8Array(p);
  const b = new Int8Array(p);
  for (let i = 0; i < p; i++) a[i] = next() & 1 ? 1 : -1;
  for (let i = 0; i < p; i++) b[i] = next() & 1 ? 1 : -1;
  return [a, b];
}

/** In-place orthonormal fast Walsh–Hadamard transform (its own inverse). */
function hadamard(x: Float64Array): void {
  const n = x.length;
  for (let h = 1; h < n; h <<= 1) {
    for (let i = 0; i < n; i += h << 1) {
      for (let j = i; j < i + h; j++) {
        const a = x[j]!;
        const b = x[j + h]!;
        x[j] = a + b;
        x[j + h] = a - b;
      }
    }
  }
  const k = 1 / Math.sqrt(n);
  for (let i = 0; i < n; i++) x[i] = x[i]! * k;
}

function rotate(x: Float64Array, signs: [Int8Array, Int8Array]): void {
  for (let i = 0; i < x.length; i++) x[i] = x[i]! * signs[0][i]!;
  hadamard(x);
  for (let i = 0; i < x.length; i++) x[i] = x[i]! * signs[1][i]!;
  hadamard(x);
}

function unrotate(x: Float64Array, signs: [Int8Array, Int8Array]): void {
  hadamard(x);
  for (let i = 0; i < x.length; i++) x[i] = x[i]! * signs[1][i]!;
  hadamard(x);
  for (let i = 0; i < x.length; i++) x[i] = x[i]! * signs[0][i]!;
}

/**
 * Quantizes an embedding (any scale; the direction is kept) to {@link embeddingLayout}(dim).bytes
 * ≤ 64 bytes. Throws EncodeError `invalid_value` for a bad dimension, non-finite or all-zero input.
 */
export function quantizeEmbedding(v: ArrayLike<number>): Uint8Array {
  const { paddedDim: p, bitsPerValue: bits, bytes } = embeddingLayout(v.length);
  let norm = 0;
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i]!)) throw new EncodeError('invalid_value', `embedding value ${i} is not finite`);
    norm += v[i]! * v[i]!;
  }
  if (!(norm > 0)) throw new EncodeError('invalid_value', 'embedding is all zeros');
  const x = new Float64Array(p);
  const k = Math.sqrt(p / norm); // unit norm, then ×√P so coordinates are ≈ N(0, 1)
  for (let i = 0; i < v.length; i++) x[i] = v[i]! * k;
  rotate(x, rotationSigns(p));
  const levels = LEVELS[bits]!;
  const out = new Uint8Array(bytes);
  for (let i = 0; i < p; i++) {
    const a = Math.abs(x[i]!);
    let j = 0;
    while (j + 1 < levels.length && a > (levels[j]! + levels[j + 1]!) / 2) j++;
    // code: sign in the top bit of the field, magnitude index below
    const code = (x[i]! < 0 ? 1 << (bits - 1) : 0) | j;
    const bit = i * bits;
    out[bit >> 3] = out[bit >> 3]! | (code << (bit & 7));
  }
  return out;
}

/**
 * Inverse of {@link quantizeEmbedding}: a unit-norm Float32Array of `dim` values.
 * Throws DecodeError `truncated` / `too_large` when the byte count does not match the dimension,
 * `invalid_value` for an unsupported dimension.
 */
export function dequantizeEmbedding(bytes: Uint8Array, dim: number): Float32Array {
  let layout: ReturnType<typeof embeddingLayout>;
  try {
    layout = embeddingLayout(dim);
  } catch {
    throw new DecodeError('invalid_value', `embedding dimension ${dim} is not supported (8..${EMBEDDING_MAX_DIM})`, { dim });
  }
  const { paddedDim: p, bitsPerValue: bits, bytes: want } = layout;
  if (bytes.length < want) throw new DecodeError('truncated', `embedding needs ${want} bytes for ${dim} dims, got ${bytes.length}`, { dim, bytes: bytes.length });
  if (bytes.length > want) throw new DecodeError('too_large', `embedding needs ${want} bytes for ${dim} dims, got ${bytes.length}`, { dim, bytes: bytes.length });
  const levels = LEVELS[bits]!;
  const mask = (1 << bits) - 1;
  const signBit = 1 << (bits - 1);
  const x = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    const bit = i * bits;
    const code = (bytes[bit >> 3]! >> (bit & 7)) & mask;
    const mag = levels[code & (signBit - 1)]!;
    x[i] = code & signBit ? -mag : mag;
  }
  unrotate(x, rotationSigns(p));
  let norm = 0;
  for (let i = 0; i < dim; i++) norm += x[i]! * x[i]!;
  const k = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  return Float32Array.from({ length: dim }, (_, i) => x[i]! * k);
}
