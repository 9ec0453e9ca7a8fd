/**
 * Whisper fixture models made at test time (no real weights): an encoder and a decoder with the
 * real exports' tensor names and ranks, and a tokenizer.json, written into a model cache folder
 * with a manifest entry that describes them.
 *
 * - encoder: input_features [1, nMels, 3000] → Reshape [1, nMels, 1500, 2] → ReduceMean(last axis)
 *   → Transpose → MatMul W[nMels, D] → last_hidden_state [1, 1500, D];
 * - decoder: logits [1, seq, V] = table[0 .. seq-1] (Range over Shape(input_ids)[1], Gather) plus
 *   0 · mean(encoder_hidden_states), so the argmax at the last position follows a scripted token
 *   sequence: row k is the token after a prefix of k + 1 ids.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateManifest, type ModelManifest } from '../../../src/engines/models/index.ts';
import { writeOnnxModel } from '../../fixtures/onnx/builder.ts';
import { makeFixtureTokenizer, type FixtureTokenizer } from './fixture-tokenizer.ts';

export const FIXTURE_D_MODEL = 8;

export function writeFixtureEncoder(path: string, o: { numMels?: number; dModel?: number } = {}): void {
  const mels = o.numMels ?? 80;
  const d = o.dModel ?? FIXTURE_D_MODEL;
  let seed = 3;
  const w = Array.from({ length: mels * d }, () => ((seed = (seed * 48271) % 2147483647) / 2147483647) - 0.5);
  writeOnnxModel(path, {
    inputs: [{ name: 'input_features', elemType: 'float32', shape: ['batch', mels, 3000] }],
    outputs: [{ name: 'last_hidden_state', elemType: 'float32', shape: ['batch', 1500, d] }],
    initializers: [
      { name: 'shape4', elemType: 'int64', dims: [4], data: [1, mels, 1500, 2] },
      { name: 'W', elemType: 'float32', dims: [mels, d], data: w },
    ],
    nodes: [
      { opType: 'Reshape', inputs: ['input_features', 'shape4'], outputs: ['r'] },
      { opType: 'ReduceMean', inputs: ['r'], outputs: ['pooled'], attributes: { axes: [3], keepdims: 0 } },
      { opType: 'Transpose', inputs: ['pooled'], outputs: ['t'], attributes: { perm: [0, 2, 1] } },
      { opType: 'MatMul', inputs: ['t', 'W'], outputs: ['last_hidden_state'] },
    ],
  });
}

/** `script[k]` is the argmax after k + promptLength ids; later rows say <|endoftext|>. */
export function writeFixtureDecoder(path: string, o: { vocab: number; script: number[]; endOfText: number; promptLength?: number; dModel?: number; rows?: number }): void {
  const d = o.dModel ?? FIXTURE_D_MODEL;
  const p = o.promptLength ?? 1;
  const rows = o.rows ?? p + o.script.length + 8;
  const table = new Float32Array(rows * o.vocab);
  for (let r = 0; r < rows; r++) table[r * o.vocab + (r >= p - 1 ? (o.script[r - (p - 1)] ?? o.endOfText) : o.endOfText)] = 20;
  writeOnnxModel(path, {
    inputs: [
      { name: 'input_ids', elemType: 'int64', shape: ['batch', 'seq'] },
      { name: 'encoder_hidden_states', elemType: 'float32', shape: ['batch', 1500, d] },
    ],
    outputs: [{ name: 'logits', elemType: 'float32', shape: ['batch', 'seq', o.vocab] }],
    initializers: [
      { name: 'table', elemType: 'float32', dims: [rows, o.vocab], data: table },
      { name: 'zero_i', elemType: 'int64', dims: [], data: [0] },
      { name: 'one_i', elemType: 'int64', dims: [], data: [1] },
      { name: 'axes0', elemType: 'int64', dims: [1], data: [0] },
      { name: 'zero_f', elemType: 'float32', dims: [], data: [0] },
    ],
    nodes: [
      { opType: 'Shape', inputs: ['input_ids'], outputs: ['shp'] },
      { opType: 'Gather', inputs: ['shp', 'one_i'], outputs: ['seqlen'], attributes: { axis: 0 } },
      { opType: 'Range', inputs: ['zero_i', 'seqlen', 'one_i'], outputs: ['pos'] },
      { opType: 'Gather', inputs: ['table', 'pos'], outputs: ['rows2'], attributes: { axis: 0 } },
      { opType: 'Unsqueeze', inputs: ['rows2', 'axes0'], outputs: ['rows3'] },
      { opType: 'ReduceMean', inputs: ['encoder_hidden_states'], outputs: ['m'], attributes: { keepdims: 1 } },
      { opType: 'Mul', inputs: ['m', 'zero_f'], outputs: ['z'] },
      { opType: 'Add', inputs: ['rows3', 'z'], outputs: ['logits'] },
    ],
  });
}

/** A manifest entry like the real ones, with the fixture's small D and vocabulary. */
export function fixtureManifest(id: string, o: { dModel?: number; vocab: number; numMels?: number; multilingual?: boolean }): ModelManifest {
  const d = o.dModel ?? FIXTURE_D_MODEL;
  const mels = o.numMels ?? 80;
  const url = (name: string) => `http://127.0.0.1:9/${id}/${name}`;
  return validateManifest({
    version: 1,
    models: [{
      id,
      kind: 'asr',
      engine: 'whisper',
      description: 'test fixture',
      licence: 'test',
      files: [
        { name: 'encoder_model.onnx', url: url('encoder_model.onnx'), sha256: null, io: { inputs: [{ name: 'input_features', elemType: 'float32', shape: [null, mels, 3000] }], outputs: [{ name: 'last_hidden_state', elemType: 'float32', shape: [null, 1500, d] }] } },
        { name: 'decoder_model.onnx', url: url('decoder_model.onnx'), sha256: null, io: { inputs: [{ name: 'input_ids', elemType: 'int64', shape: [null, null] }, { name: 'encoder_hidden_states', elemType: 'float32', shape: [null, 1500, d] }], outputs: [{ name: 'logits', elemType: 'float32', shape: [null, null, o.vocab] }] } },
        { name: 'tokenizer.json', url: url('tokenizer.json'), sha256: null },
      ],
      config: { nMels: mels, multilingual: o.multilingual ?? false },
    }],
  }, 'fixture manifest');
}

export interface WhisperFixture {
  cacheDir: string;
  manifest: ModelManifest;
  tok: FixtureTokenizer;
  dir: string;
}

/**
 * Writes a complete fixture model `<cacheDir>/<id>/…` whose decoder emits `script(tok)`.
 * `encoderMels` ≠ 80 makes an encoder that does not match the manifest.
 */
export function writeWhisperFixture(id: string, script: (tok: FixtureTokenizer) => number[], o: { encoderMels?: number; decoderVocab?: number; multilingual?: boolean } = {}): WhisperFixture {
  const tok = makeFixtureTokenizer();
  const cacheDir = mkdtempSync(join(tmpdir(), 'stcts-whisper-'));
  const dir = join(cacheDir, id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tok.json));
  writeFixtureEncoder(join(dir, 'encoder_model.onnx'), { numMels: o.encoderMels ?? 80 });
  const vocab = o.decoderVocab ?? tok.vocabSize;
  writeFixtureDecoder(join(dir, 'decoder_model.onnx'), { vocab, script: script(tok), endOfText: tok.id('<|endoftext|>'), promptLength: o.multilingual ? 3 : 1 });
  return { cacheDir, manifest: fixtureManifest(id, { vocab, multilingual: o.multilingual }), tok, dir };
}
