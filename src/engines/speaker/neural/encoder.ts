import { AudioError, InvalidStateError, ModelError } from '../../../core/errors.ts';
import type { ModelEntry } from '../../models/index.ts';
import { createOnnxSession, tensor, type OnnxSession, type TensorSig } from '../../onnx/index.ts';
import { DEFAULT_KALDI_FBANK_OPTIONS, kaldiFbank, type FbankWindowType, type KaldiFbankOptions } from './fbank.ts';
import type { SpeakerEncoder } from './types.ts';

/** Options of {@link NeuralSpeakerEncoder}. */
export interface NeuralSpeakerEncoderOptions {
  /** Front end settings (the manifest entry's `config` overrides the defaults). */
  fbank: KaldiFbankOptions;
  /** Shortest input accepted, feature frames (10 ms each). Default 20 (≈ 0.2 s). */
  minFrames: number;
  /** Long inputs are embedded in chunks of this many frames and the unit embeddings averaged. Default 1000 (10 s). */
  chunkFrames: number;
  /** ONNX Runtime intra-op threads. Default 1. */
  threads: number;
}

export const DEFAULT_NEURAL_SPEAKER_ENCODER_OPTIONS: Readonly<NeuralSpeakerEncoderOptions> = Object.freeze({
  fbank: DEFAULT_KALDI_FBANK_OPTIONS,
  minFrames: 20,
  chunkFrames: 1000,
  threads: 1,
});

/** Tensors of a WeSpeaker-style export: `feats` [B, T, 80] → `embs` [B, D]. */
export const SPEAKER_ENCODER_IO: Readonly<{ inputs: TensorSig[]; outputs: TensorSig[] }> = Object.freeze({
  inputs: [{ name: 'feats', elemType: 'float32', shape: [null, null, 80] }],
  outputs: [{ name: 'embs', elemType: 'float32', shape: [null, null] }],
});

/** Front-end settings a manifest entry's `config` may carry (sampleRateHz, numMelBins, frameLengthMs, frameShiftMs, windowType, cmn). */
export function fbankOptionsFromConfig(config: Record<string, unknown> | undefined): KaldiFbankOptions {
  const c = config ?? {};
  const n = (k: string, d: number) => (typeof c[k] === 'number' && Number.isFinite(c[k]) ? (c[k] as number) : d);
  const d = DEFAULT_KALDI_FBANK_OPTIONS;
  const w = c.windowType;
  return {
    ...d,
    sampleRateHz: n('sampleRateHz', d.sampleRateHz),
    numMelBins: n('numMelBins', d.numMelBins),
    frameLengthMs: n('frameLengthMs', d.frameLengthMs),
    frameShiftMs: n('frameShiftMs', d.frameShiftMs),
    windowType: w === 'hamming' || w === 'hann' || w === 'povey' ? (w as FbankWindowType) : d.windowType,
    meanNormalize: typeof c.cmn === 'boolean' ? c.cmn : d.meanNormalize,
  };
}

/**
 * PCM (16 kHz) → Kaldi fbank with utterance CMN → ONNX speaker network → L2-normalized embedding.
 * Works with any export taking `[1, T, mel]` features and returning `[1, D]`.
 */
export class NeuralSpeakerEncoder implements SpeakerEncoder {
  readonly id: string;
  readonly dimension: number;
  private session: OnnxSession | undefined;
  private readonly inputName: string;
  private readonly outputName: string;
  private readonly options: NeuralSpeakerEncoderOptions;

  private constructor(id: string, session: OnnxSession, dimension: number, io: { inputs: TensorSig[]; outputs: TensorSig[] }, options: NeuralSpeakerEncoderOptions) {
    this.id = id;
    this.session = session;
    this.dimension = dimension;
    this.inputName = io.inputs[0]!.name;
    this.outputName = io.outputs[0]!.name;
    this.options = options;
  }

  /**
   * Loads the encoder of a manifest entry from `modelPath`. Missing file → EngineUnavailableError
   * (`stcts models fetch ID`); other tensors → ModelError `shape_mismatch`.
   */
  static async create(entry: ModelEntry, modelPath: string, options: Partial<NeuralSpeakerEncoderOptions> = {}): Promise<NeuralSpeakerEncoder> {
    const o: NeuralSpeakerEncoderOptions = { ...DEFAULT_NEURAL_SPEAKER_ENCODER_OPTIONS, fbank: fbankOptionsFromConfig(entry.config), ...options };
    const file = entry.files.find((f) => f.name.endsWith('.onnx'));
    const io = file?.io ?? { inputs: [{ ...SPEAKER_ENCODER_IO.inputs[0]!, shape: [null, null, o.fbank.numMelBins] }], outputs: SPEAKER_ENCODER_IO.outputs };
    const session = await createOnnxSession(modelPath, { modelId: entry.id, expect: io, threads: o.threads });
    const declared = io.outputs[0]!.shape[1];
    const cfgDim = entry.config?.embeddingDim;
    const encoder = new NeuralSpeakerEncoder(entry.id, session, typeof declared === 'number' ? declared : typeof cfgDim === 'number' ? cfgDim : 0, io, o);
    if (encoder.dimension > 0) return encoder;
    // Dimension not declared anywhere: ask the model once with 0.5 s of low noise.
    let s = 1;
    const probe = Float32Array.from({ length: o.fbank.sampleRateHz / 2 }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 0.01);
    const dim = (await encoder.embed(probe)).length;
    return new NeuralSpeakerEncoder(entry.id, session, dim, io, o);
  }

  async embed(pcm: Int16Array | Float32Array, signal?: AbortSignal): Promise<Float32Array> {
    if (!this.session) throw new InvalidStateError(`speaker encoder ${this.id} used after close()`);
    signal?.throwIfAborted();
    const feats = kaldiFbank(pcm, this.options.fbank);
    if (feats.numFrames < this.options.minFrames) {
      const minMs = this.options.fbank.frameLengthMs + (this.options.minFrames - 1) * this.options.fbank.frameShiftMs;
      throw new AudioError('empty', `speaker encoder ${this.id} needs at least ${minMs} ms of speech, got ${Math.round((pcm.length / this.options.fbank.sampleRateHz) * 1000)} ms`);
    }
    // Chunks of chunkFrames; a short tail joins the previous chunk.
    const bins = feats.numBins;
    const bounds: Array<[number, number]> = [];
    for (let t = 0; t < feats.numFrames; t += this.options.chunkFrames) bounds.push([t, Math.min(feats.numFrames, t + this.options.chunkFrames)]);
    if (bounds.length > 1 && bounds[bounds.length - 1]![1] - bounds[bounds.length - 1]![0] < this.options.chunkFrames / 2) {
      const tail = bounds.pop()!;
      bounds[bounds.length - 1]![1] = tail[1];
    }
    let sum: Float64Array | undefined;
    for (const [a, b] of bounds) {
      signal?.throwIfAborted();
      const e = await this.run(feats.data.subarray(a * bins, b * bins), b - a, bins);
      sum ??= new Float64Array(e.length);
      for (let i = 0; i < e.length; i++) sum[i]! += e[i]!;
    }
    return l2Normalize(sum!);
  }

  async close(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    await s?.close();
  }

  private async run(data: Float32Array, frames: number, bins: number): Promise<Float32Array> {
    const session = this.session;
    if (!session) throw new InvalidStateError(`speaker encoder ${this.id} used after close()`);
    const r = await session.run({ [this.inputName]: tensor('float32', data.slice(), [1, frames, bins]) });
    const y = r[this.outputName];
    const dims = y?.dims ?? [];
    if (!y || !(y.data instanceof Float32Array) || dims.length !== 2 || dims[0] !== 1 || (this.dimension > 0 && dims[1] !== this.dimension)) {
      throw new ModelError('shape_mismatch', `speaker encoder ${this.id} returned ${this.outputName} [${dims.join(', ')}]; expected [1, ${this.dimension || 'D'}]`, { modelId: this.id, tensor: this.outputName });
    }
    for (const v of y.data) if (!Number.isFinite(v)) throw new ModelError('bad_model', `speaker encoder ${this.id} returned a non-finite embedding`, { modelId: this.id });
    return l2Normalize(y.data);
  }
}

function l2Normalize(v: ArrayLike<number>): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
  const k = n > 0 ? 1 / Math.sqrt(n) : 0;
  return Float32Array.from({ length: v.length }, (_, i) => v[i]! * k);
}
