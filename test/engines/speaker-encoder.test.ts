import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AudioError, EngineUnavailableError, InvalidStateError, ModelError, UsageError } from '../../src/core/errors.ts';
import { dequantizeEmbedding, quantizeEmbedding } from '../../src/codec/speaker/embedding.ts';
import { loadManifest, type ModelEntry, type ModelManifest } from '../../src/engines/models/index.ts';
import { createSpeakerEncoder, kaldiFbank, listSpeakerEncoders } from '../../src/engines/speaker/neural/index.ts';
import { writeOnnxModel, type OnnxGraphSpec } from '../fixtures/onnx/builder.ts';
import { seeded } from '../fixtures/seeded.ts';

const cache = mkdtempSync(join(tmpdir(), 'stcts-spk-'));
afterAll(() => rmSync(cache, { recursive: true, force: true }));

const real = loadManifest().models.find((m) => m.engine === 'speaker-encoder')!;
const SR = 16000;

/**
 * Statistics pooling like a real x-vector net: per-bin mean of squared CMN'd features over time
 * ([1, T, 80] → [1, 80]), then a seeded 80 × 256 projection → embs [1, 256].
 */
function poolingSpec(): OnnxGraphSpec {
  const rnd = seeded(42);
  return {
    inputs: [{ name: 'feats', elemType: 'float32', shape: ['B', 'T', 80] }],
    outputs: [{ name: 'embs', elemType: 'float32', shape: ['B', 256] }],
    nodes: [
      { opType: 'Mul', inputs: ['feats', 'feats'], outputs: ['sq'] },
      { opType: 'ReduceMean', inputs: ['sq'], outputs: ['var'], attributes: { axes: [1], keepdims: 0 } },
      { opType: 'MatMul', inputs: ['var', 'w'], outputs: ['embs'] },
    ],
    initializers: [{ name: 'w', elemType: 'float32', dims: [80, 256], data: Array.from({ length: 80 * 256 }, rnd) }],
  };
}

/** Returns the first three feature frames, zero-padded to 256: shows exactly what the encoder fed. */
function firstFramesSpec(): OnnxGraphSpec {
  return {
    inputs: [{ name: 'feats', elemType: 'float32', shape: ['B', 'T', 80] }],
    outputs: [{ name: 'embs', elemType: 'float32', shape: ['B', 256] }],
    nodes: [
      { opType: 'Slice', inputs: ['feats', 'starts', 'ends', 'axes'], outputs: ['f3'] },
      { opType: 'Reshape', inputs: ['f3', 'shape'], outputs: ['flat'] },
      { opType: 'Pad', inputs: ['flat', 'pads'], outputs: ['embs'] },
    ],
    initializers: [
      { name: 'starts', elemType: 'int64', dims: [1], data: BigInt64Array.from([0n]) },
      { name: 'ends', elemType: 'int64', dims: [1], data: BigInt64Array.from([3n]) },
      { name: 'axes', elemType: 'int64', dims: [1], data: BigInt64Array.from([1n]) },
      { name: 'shape', elemType: 'int64', dims: [2], data: BigInt64Array.from([1n, 240n]) },
      { name: 'pads', elemType: 'int64', dims: [4], data: BigInt64Array.from([0n, 0n, 0n, 16n]) },
    ],
  };
}

/** A manifest entry like the real one (same io and front-end config), pointing at a fixture file. */
function fixture(id: string, spec: OnnxGraphSpec | undefined): ModelManifest {
  const entry: ModelEntry = { ...real, id, files: [{ ...real.files[0]!, name: 'encoder.onnx', sha256: null }] };
  if (spec) writeOnnxModel(join(cache, id, 'encoder.onnx'), spec);
  return { version: 1, models: [entry] };
}

function voice(f0Hz: number, seconds: number, seed: number): Float32Array {
  const rnd = seeded(seed);
  return Float32Array.from({ length: Math.round(seconds * SR) }, (_, i) => {
    let v = 0;
    for (let h = 1; h <= 12; h++) v += (Math.sin((2 * Math.PI * f0Hz * h * i) / SR) * 0.3) / h;
    return v + 0.01 * rnd();
  });
}

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe('neural speaker encoder (fixture networks)', () => {
  it('feeds the model the Kaldi fbank of the manifest config and L2-normalizes', async () => {
    const enc = await createSpeakerEncoder('spk-frames', { modelDir: cache, manifest: fixture('spk-frames', firstFramesSpec()) });
    try {
      const x = voice(150, 1, 1);
      const e = await enc.embed(x);
      expect(enc.dimension).toBe(256);
      expect(e).toHaveLength(256);
      const f = kaldiFbank(x, { windowType: 'hamming' });
      const want = f.data.subarray(0, 240);
      const n = Math.hypot(...want);
      for (let i = 0; i < 240; i++) expect(e[i]).toBeCloseTo(want[i]! / n, 5);
      for (let i = 240; i < 256; i++) expect(e[i]).toBe(0);
      const povey = kaldiFbank(x).data.subarray(0, 240);
      expect(Math.abs(povey[0]! - want[0]!)).toBeGreaterThan(1e-4); // the window really came from the config
    } finally {
      await enc.close();
    }
  });

  it('is deterministic, gain-invariant (CMN), separates different voices, and survives 64-byte quantization', async () => {
    const enc = await createSpeakerEncoder('spk-pool', { modelDir: cache, manifest: fixture('spk-pool', poolingSpec()) });
    try {
      const a = await enc.embed(voice(120, 2, 1));
      expect(Math.hypot(...a)).toBeCloseTo(1, 5);
      expect(await enc.embed(voice(120, 2, 1))).toEqual(a);
      const quiet = await enc.embed(voice(120, 2, 1).map((v) => v * 0.25));
      expect(dot(a, quiet)).toBeGreaterThan(0.999);
      const b = await enc.embed(voice(230, 2, 2));
      expect(dot(a, b)).toBeLessThan(dot(a, quiet) - 0.001);
      const int16 = await enc.embed(Int16Array.from(voice(120, 2, 1), (v) => Math.round(v * 32767)));
      expect(dot(a, int16)).toBeGreaterThan(0.999);
      const q = quantizeEmbedding(a);
      expect(q.length).toBeLessThanOrEqual(64);
      expect(dot(a, dequantizeEmbedding(q, enc.dimension))).toBeGreaterThan(0.9);
    } finally {
      await enc.close();
    }
  });

  it('embeds long audio in chunks and refuses audio shorter than the minimum', async () => {
    const enc = await createSpeakerEncoder('spk-pool', { modelDir: cache, manifest: fixture('spk-pool', poolingSpec()), chunkFrames: 200 });
    try {
      const long = await enc.embed(voice(120, 7.3, 3));
      expect(long).toHaveLength(256);
      expect(Math.hypot(...long)).toBeCloseTo(1, 5);
      const err = await enc.embed(new Float32Array(SR / 10)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AudioError);
      expect((err as AudioError).code).toBe('empty');
      await enc.close();
      await enc.close();
      await expect(enc.embed(voice(120, 1, 1))).rejects.toBeInstanceOf(InvalidStateError);
    } finally {
      await enc.close();
    }
  });

  it('missing weights: one EngineUnavailableError naming stcts models fetch ID (manifest entry too)', async () => {
    for (const [id, manifest] of [['spk-absent', fixture('spk-absent', undefined)], [real.id, undefined]] as const) {
      const err = await createSpeakerEncoder(id, { modelDir: join(cache, 'empty'), manifest }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EngineUnavailableError);
      expect((err as EngineUnavailableError).remedy).toBe(`stcts models fetch ${id}`);
    }
    expect(listSpeakerEncoders().map((e) => e.id)).toContain(real.id);
    await expect(createSpeakerEncoder('no-such-model')).rejects.toBeInstanceOf(UsageError);
  });

  it('a model with other tensors is a ModelError shape_mismatch', async () => {
    const spec = poolingSpec();
    // a consistent network for 40-bin features: loads fine, but is not what the manifest says
    const wrong: OnnxGraphSpec = {
      ...spec,
      inputs: [{ name: 'feats', elemType: 'float32', shape: ['B', 'T', 40] }],
      initializers: [{ name: 'w', elemType: 'float32', dims: [40, 256], data: new Array(40 * 256).fill(0.01) }],
    };
    const err = await createSpeakerEncoder('spk-wrong', { modelDir: cache, manifest: fixture('spk-wrong', wrong) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as ModelError).code).toBe('shape_mismatch');
  });
});
