/**
 * Fixture Piper voices for tests: real ONNX models with the standard Piper signature
 * (`input` int64 [1,T], `input_lengths` int64 [1], `scales` float32 [3] → `output` float32 [1,1,1,N])
 * built at test time, plus a voice config. No real weights.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeOnnxModel, type OnnxGraphSpec, type OnnxTensorSpec } from '../../fixtures/onnx/builder.ts';
import { loadManifest, type ModelFile, type ModelManifest } from '../../../src/engines/models/index.ts';

/** The tensor signature the shipped manifest declares for Piper voices, so fixtures are checked against it. */
function realPiperIo(): ModelFile['io'] {
  try {
    return loadManifest().models.find((m) => m.engine === 'piper')?.files.find((f) => f.name.endsWith('.onnx'))?.io;
  } catch {
    return undefined;
  }
}

/** Every symbol the front end can emit, in a fixed order; ids are positions. */
export const FIXTURE_SYMBOLS = ['_', '^', '$', ' ', '!', ',', '.', ':', ';', '?', 'a', 'b', 'd', 'e', 'f', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
  'p', 's', 't', 'u', 'v', 'w', 'z', 'æ', 'ð', 'ŋ', 'ɑ', 'ɔ', 'ə', 'ɚ', 'ɛ', 'ɜ', 'ɡ', 'ɪ', 'ɹ', 'ɾ', 'ʃ', 'ʊ', 'ʌ', 'ʒ', 'θ', 'ˈ', 'ˌ', 'ː'];
export const FIXTURE_SAMPLE_RATE_HZ = 22050;
/** Samples per phoneme id at length scale 1 in the sine voice. */
export const SAMPLES_PER_ID = 800;
export const FIXTURE_INFERENCE = { noise_scale: 0.667, length_scale: 1, noise_w: 0.8 };

/** A Piper `.onnx.json` with the fixture phoneme map. */
export function fixtureVoiceConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    audio: { sample_rate: FIXTURE_SAMPLE_RATE_HZ, quality: 'medium' },
    espeak: { voice: 'en-us' },
    inference: FIXTURE_INFERENCE,
    phoneme_type: 'espeak',
    phoneme_id_map: Object.fromEntries(FIXTURE_SYMBOLS.map((s, i) => [s, [i]])),
    num_symbols: FIXTURE_SYMBOLS.length,
    num_speakers: 1,
    ...overrides,
  };
}

const PIPER_INPUTS: OnnxTensorSpec[] = [
  { name: 'input', elemType: 'int64', shape: [1, 'phonemes'] },
  { name: 'input_lengths', elemType: 'int64', shape: [1] },
  { name: 'scales', elemType: 'float32', shape: [3] },
];
const PIPER_OUTPUT: OnnxTensorSpec = { name: 'output', elemType: 'float32', shape: [1, 1, 1, 'time'] };

/**
 * A 220 Hz sine, amplitude 0.5, of ⌊input_lengths · length_scale · 800⌋ samples: output length is
 * proportional to the number of ids and to the length scale, like a real voice's.
 */
export function sineVoiceSpec(): OnnxGraphSpec {
  return {
    inputs: PIPER_INPUTS,
    outputs: [PIPER_OUTPUT],
    nodes: [
      { opType: 'Gather', inputs: ['scales', 'one_i'], outputs: ['ls'], attributes: { axis: 0 } },
      { opType: 'Cast', inputs: ['input_lengths'], outputs: ['lenf'], attributes: { to: 1 } },
      { opType: 'ReduceSum', inputs: ['lenf'], outputs: ['len'], attributes: { keepdims: 0 } },
      { opType: 'Mul', inputs: ['len', 'ls'], outputs: ['a'] },
      { opType: 'Mul', inputs: ['a', 'hop'], outputs: ['nf'] },
      { opType: 'Floor', inputs: ['nf'], outputs: ['n'] },
      { opType: 'Range', inputs: ['zero', 'n', 'onef'], outputs: ['t'] },
      { opType: 'Mul', inputs: ['t', 'omega'], outputs: ['ph'] },
      { opType: 'Sin', inputs: ['ph'], outputs: ['s'] },
      { opType: 'Mul', inputs: ['s', 'amp'], outputs: ['y'] },
      { opType: 'Reshape', inputs: ['y', 'shape4'], outputs: ['output'] },
    ],
    initializers: [
      { name: 'one_i', elemType: 'int64', dims: [], data: BigInt64Array.from([1n]) },
      { name: 'hop', elemType: 'float32', dims: [], data: [SAMPLES_PER_ID] },
      { name: 'zero', elemType: 'float32', dims: [], data: [0] },
      { name: 'onef', elemType: 'float32', dims: [], data: [1] },
      { name: 'omega', elemType: 'float32', dims: [], data: [(2 * Math.PI * 220) / FIXTURE_SAMPLE_RATE_HZ] },
      { name: 'amp', elemType: 'float32', dims: [], data: [0.5] },
      { name: 'shape4', elemType: 'int64', dims: [4], data: BigInt64Array.from([1n, 1n, 1n, -1n]) },
    ],
  };
}

/** Echoes what it is fed: output = [ids · 0.001 …, scales …] as [1, 1, 1, T + 3]. */
export function echoVoiceSpec(): OnnxGraphSpec {
  return {
    inputs: PIPER_INPUTS,
    outputs: [PIPER_OUTPUT],
    nodes: [
      { opType: 'Cast', inputs: ['input'], outputs: ['idsf'], attributes: { to: 1 } },
      { opType: 'Reshape', inputs: ['idsf', 'flat'], outputs: ['ids1'] },
      { opType: 'Mul', inputs: ['ids1', 'milli'], outputs: ['idsm'] },
      { opType: 'Concat', inputs: ['idsm', 'scales'], outputs: ['y'], attributes: { axis: 0 } },
      { opType: 'Reshape', inputs: ['y', 'shape4'], outputs: ['output'] },
    ],
    initializers: [
      { name: 'flat', elemType: 'int64', dims: [1], data: BigInt64Array.from([-1n]) },
      { name: 'milli', elemType: 'float32', dims: [], data: [0.001] },
      { name: 'shape4', elemType: 'int64', dims: [4], data: BigInt64Array.from([1n, 1n, 1n, -1n]) },
    ],
  };
}

/** The sine voice with its `input` declared float32: not a Piper export. */
export function wrongInputSpec(): OnnxGraphSpec {
  const spec = sineVoiceSpec();
  return {
    ...spec,
    inputs: [{ name: 'input', elemType: 'float32', shape: [1, 'phonemes'] }, ...spec.inputs.slice(1)],
    nodes: [{ opType: 'Identity', inputs: ['input'], outputs: ['unused'] }, ...spec.nodes],
  };
}

/** The sine voice returning a rank-1 waveform. */
export function wrongOutputSpec(): OnnxGraphSpec {
  const spec = sineVoiceSpec();
  return { ...spec, outputs: [{ name: 'output', elemType: 'float32', shape: ['time'] }], nodes: [...spec.nodes.slice(0, -1), { opType: 'Identity', inputs: ['y'], outputs: ['output'] }] };
}

/** Writes `<dir>/<id>/<id>.onnx` and `.onnx.json` and returns a manifest naming them (model cache layout). */
export function writeFixtureVoice(cacheDir: string, id: string, spec: OnnxGraphSpec, config = fixtureVoiceConfig()): ModelManifest {
  const file = id.replace(/^piper-/, '');
  writeOnnxModel(join(cacheDir, id, `${file}.onnx`), spec);
  writeFileSync(join(cacheDir, id, `${file}.onnx.json`), JSON.stringify(config));
  return fixtureManifest([id]);
}

/** A manifest with Piper entries for `ids` (files need not exist). */
export function fixtureManifest(ids: string[]): ModelManifest {
  return {
    version: 1,
    models: ids.map((id) => {
      const file = id.replace(/^piper-/, '');
      return {
        id,
        kind: 'tts' as const,
        engine: 'piper',
        description: 'test fixture voice',
        licence: 'test',
        files: [
          { name: `${file}.onnx`, url: 'http://127.0.0.1:9/none.onnx', sha256: null, ...(realPiperIo() ? { io: realPiperIo() } : {}) },
          { name: `${file}.onnx.json`, url: 'http://127.0.0.1:9/none.onnx.json', sha256: null },
        ],
        config: { sex: 'F' },
      };
    }),
  };
}
