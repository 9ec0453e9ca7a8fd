import { describe, expect, it } from 'vitest';
import { DecodeError, EncodeError } from '../../../src/core/errors.ts';
import { EMBEDDING_MAX_BYTES, dequantizeEmbedding, embeddingLayout, quantizeEmbedding } from '../../../src/codec/speaker/embedding.ts';
import { errorCodeOf } from '../../fixtures/errors.ts';

function gaussian(seed: number): () => number {
  let s = seed >>> 0;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

function unitVector(dim: number, rnd: () => number): Float32Array {
  const v = Float32Array.from({ length: dim }, rnd);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

const cosine = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i]! * b[i]!; aa += a[i]! ** 2; bb += b[i]! ** 2; }
  return ab / Math.sqrt(aa * bb);
};

describe('speaker embedding quantization', () => {
  it('fits in 64 bytes with the documented bit allocation', () => {
    expect(embeddingLayout(128)).toEqual({ paddedDim: 128, bitsPerValue: 4, bytes: 64 });
    expect(embeddingLayout(192)).toEqual({ paddedDim: 256, bitsPerValue: 2, bytes: 64 });
    expect(embeddingLayout(256)).toEqual({ paddedDim: 256, bitsPerValue: 2, bytes: 64 });
    expect(embeddingLayout(512)).toEqual({ paddedDim: 512, bitsPerValue: 1, bytes: 64 });
  });

  it.each([128, 192, 256])('keeps cosine ≥ 0.9 on seeded random unit vectors (%i dims)', (dim) => {
    const rnd = gaussian(dim);
    let worst = 1;
    let sum = 0;
    for (let t = 0; t < 50; t++) {
      const v = unitVector(dim, rnd);
      const q = quantizeEmbedding(v);
      expect(q.length).toBeLessThanOrEqual(EMBEDDING_MAX_BYTES);
      const c = cosine(v, dequantizeEmbedding(q, dim));
      worst = Math.min(worst, c);
      sum += c;
    }
    expect(worst).toBeGreaterThanOrEqual(0.9);
    expect(sum / 50).toBeGreaterThan(dim === 128 ? 0.99 : 0.93);
  });

  it('512 dims at 1 bit per value: cosine about 0.8 (the rate–distortion bound at 1 bit is 0.87)', () => {
    const rnd = gaussian(512);
    let sum = 0;
    for (let t = 0; t < 20; t++) {
      const v = unitVector(512, rnd);
      sum += cosine(v, dequantizeEmbedding(quantizeEmbedding(v), 512));
    }
    expect(sum / 20).toBeGreaterThan(0.77);
  });

  it('keeps structured vectors too (one-hot, constant), ignores the scale, and is stable on a round trip', () => {
    const oneHot = new Float32Array(256);
    oneHot[17] = 5;
    expect(cosine(oneHot, dequantizeEmbedding(quantizeEmbedding(oneHot), 256))).toBeGreaterThan(0.9);
    const flat = new Float32Array(192).fill(-0.3);
    expect(cosine(flat, dequantizeEmbedding(quantizeEmbedding(flat), 192))).toBeGreaterThan(0.9);
    const v = unitVector(256, gaussian(9));
    const q1 = quantizeEmbedding(v);
    expect(quantizeEmbedding(v.map((x) => x * 7))).toEqual(q1);
    const d1 = dequantizeEmbedding(q1, 256);
    expect(Math.hypot(...d1)).toBeCloseTo(1, 5);
    expect(quantizeEmbedding(d1)).toEqual(q1);
  });

  it('separates different speakers: distinct vectors stay far apart', () => {
    const rnd = gaussian(5);
    const a = unitVector(256, rnd);
    const b = unitVector(256, rnd);
    const qa = dequantizeEmbedding(quantizeEmbedding(a), 256);
    const qb = dequantizeEmbedding(quantizeEmbedding(b), 256);
    expect(Math.abs(cosine(qa, qb) - cosine(a, b))).toBeLessThan(0.1);
  });

  it('rejects bad lengths and values with typed errors', () => {
    const q = quantizeEmbedding(unitVector(256, gaussian(1)));
    expect(errorCodeOf(() => dequantizeEmbedding(q.subarray(0, 63), 256), DecodeError)).toBe('truncated');
    expect(errorCodeOf(() => dequantizeEmbedding(new Uint8Array(65), 256), DecodeError)).toBe('too_large');
    expect(errorCodeOf(() => dequantizeEmbedding(q, 4096), DecodeError)).toBe('invalid_value');
    expect(errorCodeOf(() => dequantizeEmbedding(q, 256), DecodeError)).toBeUndefined();
    expect(() => quantizeEmbedding(new Float32Array(256))).toThrow(EncodeError);
    expect(() => quantizeEmbedding(new Float32Array(1024).fill(1))).toThrow(EncodeError);
    expect(() => quantizeEmbedding([NaN, ...new Array(255).fill(0.1)])).toThrow(EncodeError);
  });
});
