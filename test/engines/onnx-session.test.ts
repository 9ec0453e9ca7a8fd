import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EngineError, EngineUnavailableError, InvalidStateError, ModelError } from '../../src/core/errors.ts';
import { createOnnxSession, tensor, type TensorSig } from '../../src/engines/onnx/index.ts';
import { writeOnnxModel } from '../fixtures/onnx/builder.ts';

const dir = mkdtempSync(join(tmpdir(), 'stcts-onnx-session-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A tiny "encoder": features [batch, 4, frames] → hidden = features^T · W  [batch, frames, 2], plus ids passthrough.
const encoderPath = writeOnnxModel(join(dir, 'enc.onnx'), {
  inputs: [{ name: 'input_features', elemType: 'float32', shape: ['batch', 4, 'frames'] }, { name: 'ids', elemType: 'int64', shape: ['batch', 'seq'] }],
  outputs: [{ name: 'last_hidden_state', elemType: 'float32', shape: ['batch', 'frames', 2] }, { name: 'ids_out', elemType: 'int64', shape: ['batch', 'seq'] }],
  nodes: [
    { opType: 'Transpose', inputs: ['input_features'], outputs: ['ft'], attributes: { perm: [0, 2, 1] } },
    { opType: 'MatMul', inputs: ['ft', 'w'], outputs: ['last_hidden_state'] },
    { opType: 'Identity', inputs: ['ids'], outputs: ['ids_out'] },
  ],
  initializers: [{ name: 'w', elemType: 'float32', dims: [4, 2], data: [1, 0, 0, 1, 1, 0, 0, 1] }],
});
const good: { inputs: TensorSig[]; outputs: TensorSig[] } = {
  inputs: [{ name: 'input_features', elemType: 'float32', shape: [null, 4, 'frames'] }, { name: 'ids', elemType: 'int64', shape: [1, null] }],
  outputs: [{ name: 'last_hidden_state', elemType: 'float32', shape: ['batch', 'frames', 2] }],
};

describe('createOnnxSession', () => {
  it('loads a fixture, checks the signature and runs', async () => {
    const s = await createOnnxSession(encoderPath, { modelId: 'fixture-enc', expect: good });
    expect(s.inputNames).toEqual(['input_features', 'ids']);
    expect(s.outputNames).toEqual(['last_hidden_state', 'ids_out']);
    // features [1, 4, 3]: rows are mel bins, columns frames.
    const feats = Float32Array.from([1, 2, 3, 10, 20, 30, 100, 200, 300, 1000, 2000, 3000]);
    const out = await s.run({ input_features: tensor('float32', feats, [1, 4, 3]), ids: tensor('int64', BigInt64Array.from([5n, 7n]), [1, 2]) });
    expect(out.last_hidden_state!.dims).toEqual([1, 3, 2]);
    expect(Array.from(out.last_hidden_state!.data as Float32Array)).toEqual([101, 1010, 202, 2020, 303, 3030]);
    expect(Array.from(out.ids_out!.data as BigInt64Array)).toEqual([5n, 7n]);
    const only = await s.run({ input_features: tensor('float32', feats, [1, 4, 3]), ids: tensor('int64', BigInt64Array.from([1n]), [1, 1]) }, ['ids_out']);
    expect(Object.keys(only)).toEqual(['ids_out']);
    await s.close();
    await s.close(); // idempotent
    await expect(s.run({})).rejects.toBeInstanceOf(InvalidStateError);
  });

  it('a missing file names stcts models fetch ID', async () => {
    const err = await createOnnxSession(join(dir, 'nope.onnx'), { modelId: 'whisper-tiny.en' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineUnavailableError);
    expect((err as EngineUnavailableError).remedy).toBe('stcts models fetch whisper-tiny.en');
    expect((err as EngineUnavailableError).engineId).toBe('whisper-tiny.en');
  });

  it('a file that is not ONNX is ModelError bad_model', async () => {
    const p = join(dir, 'junk.onnx');
    writeFileSync(p, 'not a model');
    await expect(createOnnxSession(p, { modelId: 'x' })).rejects.toMatchObject({ name: 'ModelError', code: 'bad_model' });
  });

  const mismatches: Array<[string, { inputs?: TensorSig[]; outputs?: TensorSig[] }, string]> = [
    ['missing input name', { inputs: [{ name: 'feats', elemType: 'float32', shape: [null, 4, null] }] }, 'feats'],
    ['wrong input element type', { inputs: [{ name: 'ids', elemType: 'int32', shape: [null, null] }] }, 'ids'],
    ['wrong fixed dim', { inputs: [{ name: 'input_features', elemType: 'float32', shape: [null, 80, null] }] }, 'input_features'],
    ['wrong rank', { inputs: [{ name: 'input_features', elemType: 'float32', shape: [null, 4] }] }, 'input_features'],
    ['wrong output dim', { outputs: [{ name: 'last_hidden_state', elemType: 'float32', shape: [null, null, 384] }] }, 'last_hidden_state'],
    ['missing output', { outputs: [{ name: 'logits', elemType: 'float32', shape: [null, null, null] }] }, 'logits'],
  ];
  for (const [what, expectSig, name] of mismatches) {
    it(`shape mismatch: ${what} → ModelError naming '${name}'`, async () => {
      const err = await createOnnxSession(encoderPath, { modelId: 'fixture-enc', expect: expectSig }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelError);
      expect((err as ModelError).code).toBe('shape_mismatch');
      expect((err as ModelError).details?.tensor).toBe(name);
      expect((err as ModelError).message).toContain(name);
    });
  }

  it('missing feeds and runtime failures are EngineError; tensor() checks dims', async () => {
    const s = await createOnnxSession(encoderPath);
    await expect(s.run({ ids: tensor('int64', BigInt64Array.from([1n]), [1, 1]) })).rejects.toMatchObject({ code: 'missing_input' });
    const wrong = await s.run({ input_features: tensor('float32', new Float32Array(6), [1, 2, 3]), ids: tensor('int64', BigInt64Array.from([1n]), [1, 1]) }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(EngineError);
    expect((wrong as EngineError).code).toBe('inference_failed');
    await s.close();
    expect(() => tensor('float32', new Float32Array(5), [2, 3])).toThrow(RangeError);
    expect(() => tensor('int64', new Float32Array(1), [1])).toThrow(TypeError);
  });
});
