import type { Pcm16k } from '../../../audio/pcm.ts';
import type { VadOptions } from '../../../audio/vad.ts';
import { InvalidStateError, ModelError } from '../../../core/errors.ts';
import { resolveModel, type ModelManifest, type ResolvedModel } from '../../models/index.ts';
import { createOnnxSession, tensor, type OnnxSession, type TensorSig } from '../../onnx/index.ts';
import { createVad, type VadId } from '../../vad/index.ts';
import type { AsrEngine, AsrHooks, AsrResult, AsrWord } from '../types.ts';
import { recognizePhrases } from '../phrase-stream.ts';
import { greedyDecode, segmentWords, splitSegments, type TimedWord } from './decoder.ts';
import { WHISPER_CHUNK_SAMPLES, WHISPER_N_FRAMES, WHISPER_SAMPLE_RATE_HZ, whisperLogMel } from './log-mel.ts';
import { WhisperTokenizer } from './tokenizer.ts';

/** Options of {@link WhisperEngine.create}. */
export interface WhisperOptions {
  /** Manifest id of the model (`whisper-tiny.en`, `whisper-base.en`, …). Default `whisper-base.en`. */
  modelId: string;
  /** Model cache folder override (else env STCTS_MODEL_DIR, else ~/.cache/stcts/models). */
  modelDir: string | undefined;
  /** A manifest to use instead of models/manifest.json (tests, custom exports). */
  manifest: ModelManifest | undefined;
  /** Spoken language, for multilingual models only. Default `en`. */
  language: string;
  /** Most tokens per 30 s window. Default 224. */
  maxTokens: number;
  /** Phrase detector settings; phrases up to 30 s fill one Whisper window. */
  vad: Partial<VadOptions>;
  /** Phrase detector: Silero (default when it loads) or the energy VAD. Env STCTS_VAD. */
  vadId: VadId;
  /** ONNX Runtime intra-op threads. Default 1. */
  threads: number;
  /**
   * Start decoding a phrase at the VAD's tentative end (as the pocketsphinx engine does). Default
   * false: a Whisper window costs seconds on the CPU, and a stale guess would delay the next phrase.
   */
  speculative: boolean;
}

export const DEFAULT_WHISPER_OPTIONS: Readonly<WhisperOptions> = Object.freeze({
  modelId: 'whisper-base.en',
  modelDir: undefined,
  manifest: undefined,
  language: 'en',
  maxTokens: 224,
  vad: Object.freeze({ maxPhraseMs: 30_000 }),
  vadId: 'auto' as VadId,
  threads: 1,
  speculative: false,
});

const MS_PER_SAMPLE = 1000 / WHISPER_SAMPLE_RATE_HZ;

function io(m: ResolvedModel, file: string): { inputs?: TensorSig[]; outputs?: TensorSig[] } {
  return m.entry.files.find((f) => f.name === file)?.io ?? {};
}

/**
 * Whisper (OpenAI) through onnxruntime-node: encoder_model.onnx + decoder_model.onnx (the export
 * without KV cache; every step re-runs the decoder on the whole prefix, slower but simple) and the
 * byte-level BPE tokenizer. A VAD cuts the stream into phrases; a phrase longer than 30 s is decoded
 * in 30 s windows, each resuming at the end of the previous window's last complete segment. Greedy
 * decoding with Whisper's timestamp rules gives segment times; word times share a segment's time
 * by character count (no cross-attention alignment). Words are upper case without punctuation,
 * like the pocketsphinx engine's. One window is decoded at a time per engine.
 */
export class WhisperEngine implements AsrEngine {
  readonly id: string;
  private busy: Promise<unknown> = Promise.resolve();
  private closed = false;
  private closing: Promise<void> | undefined;

  private constructor(
    readonly options: Readonly<WhisperOptions>,
    private readonly encoder: OnnxSession,
    private readonly decoder: OnnxSession,
    readonly tokenizer: WhisperTokenizer,
    private readonly numMels: number,
    private readonly multilingual: boolean,
  ) {
    this.id = options.modelId;
  }

  /**
   * Loads the model's files from the cache. Missing files → `EngineUnavailableError` naming
   * `stcts models fetch <modelId>`; tensors that differ from the manifest → `ModelError('shape_mismatch')`.
   */
  static async create(options: Partial<WhisperOptions> = {}): Promise<WhisperEngine> {
    const o: Readonly<WhisperOptions> = Object.freeze({ ...DEFAULT_WHISPER_OPTIONS, ...options, vad: { ...DEFAULT_WHISPER_OPTIONS.vad, ...options.vad } });
    const m = resolveModel(o.modelId, { cacheDir: o.modelDir, manifest: o.manifest });
    const cfg = m.entry.config ?? {};
    const numMels = typeof cfg.nMels === 'number' ? cfg.nMels : 80;
    const tokenizer = WhisperTokenizer.fromFiles({
      tokenizerJson: m.files['tokenizer.json'],
      vocabJson: m.files['vocab.json'],
      addedTokensJson: m.files['added_tokens.json'],
    });
    const encPath = m.files['encoder_model.onnx'];
    const decPath = m.files['decoder_model.onnx'];
    if (!encPath || !decPath) throw new ModelError('bad_manifest', `model ${o.modelId} must list encoder_model.onnx and decoder_model.onnx`, { modelId: o.modelId });
    const encoder = await createOnnxSession(encPath, { modelId: o.modelId, threads: o.threads, expect: io(m, 'encoder_model.onnx') });
    let decoder: OnnxSession | undefined;
    try {
      decoder = await createOnnxSession(decPath, { modelId: o.modelId, threads: o.threads, expect: io(m, 'decoder_model.onnx') });
      const extra = decoder.inputNames.filter((n) => n !== 'input_ids' && n !== 'encoder_hidden_states');
      if (extra.length > 0 || !decoder.outputNames.includes('logits')) {
        throw new ModelError('shape_mismatch', `model ${o.modelId}: the decoder must be the export without KV cache (input_ids, encoder_hidden_states → logits); it has inputs ${decoder.inputNames.join(', ')}`, { modelId: o.modelId, tensor: extra[0] ?? 'logits' });
      }
      if (!encoder.outputNames.includes('last_hidden_state')) throw new ModelError('shape_mismatch', `model ${o.modelId}: the encoder has no output last_hidden_state`, { modelId: o.modelId, tensor: 'last_hidden_state' });
      const multilingual = typeof cfg.multilingual === 'boolean' ? cfg.multilingual : !o.modelId.endsWith('.en');
      if (multilingual) tokenizer.promptIds(true, o.language); // unknown language: fail now, not per phrase
      return new WhisperEngine(o, encoder, decoder, tokenizer, numMels, multilingual);
    } catch (err) {
      await encoder.close();
      await decoder?.close();
      throw err;
    }
  }

  /**
   * Transcribes one phrase (16 kHz samples in [-1, 1]) in 30 s windows; word times in ms from the
   * phrase start.
   */
  async transcribePhrase(samples: Float32Array, signal?: AbortSignal): Promise<AsrWord[]> {
    const words: AsrWord[] = [];
    let seek = 0;
    while (seek < samples.length) {
      signal?.throwIfAborted();
      const window = samples.subarray(seek, seek + WHISPER_CHUNK_SAMPLES);
      const r = await this.serialized(() => this.decodeWindow(window, signal));
      for (const w of r.words) words.push({ word: w.word, startMs: (seek + w.startS * WHISPER_SAMPLE_RATE_HZ) * MS_PER_SAMPLE, endMs: (seek + w.endS * WHISPER_SAMPLE_RATE_HZ) * MS_PER_SAMPLE, confidence: w.confidence });
      const advance = r.resumeS !== undefined ? Math.round(r.resumeS * WHISPER_SAMPLE_RATE_HZ) : window.length;
      seek += Math.max(1, advance);
    }
    return words;
  }

  private serialized<T>(f: () => Promise<T>): Promise<T> {
    const run = this.busy.then(() => {
      if (this.closed) throw new InvalidStateError(`Whisper engine ${this.id} used after close()`);
      return f();
    });
    this.busy = run.catch(() => {});
    return run;
  }

  private async decodeWindow(window: Float32Array, signal?: AbortSignal): Promise<{ words: TimedWord[]; resumeS: number | undefined }> {
    const features = whisperLogMel(window, { numMels: this.numMels });
    const enc = await this.encoder.run({ input_features: tensor('float32', features, [1, this.numMels, WHISPER_N_FRAMES]) }, ['last_hidden_state']);
    const hidden = enc.last_hidden_state!;
    const next = async (ids: readonly number[]): Promise<Float32Array> => {
      const out = await this.decoder.run({
        input_ids: tensor('int64', BigInt64Array.from(ids, (i) => BigInt(i)), [1, ids.length]),
        encoder_hidden_states: hidden,
      }, ['logits']);
      const logits = out.logits!;
      const vocab = logits.dims.at(-1)!;
      if (vocab < this.tokenizer.size) {
        throw new ModelError('shape_mismatch', `model ${this.id}: the decoder has ${vocab} logits but the tokenizer needs ${this.tokenizer.size}`, { modelId: this.id, tensor: 'logits' });
      }
      const data = logits.data as Float32Array;
      return data.subarray((ids.length - 1) * vocab, ids.length * vocab);
    };
    const prompt = this.tokenizer.promptIds(this.multilingual, this.options.language);
    const tokens = await greedyDecode(next, this.tokenizer, prompt, { maxTokens: this.options.maxTokens }, signal);
    const { segments, resumeS } = splitSegments(tokens, this.tokenizer, window.length / WHISPER_SAMPLE_RATE_HZ);
    return { words: segments.flatMap((s) => segmentWords(s, this.tokenizer)), resumeS };
  }

  async *transcribe(pcm: AsyncIterable<Pcm16k>, signal?: AbortSignal, hooks?: AsrHooks): AsyncIterable<AsrResult> {
    if (this.closed) throw new InvalidStateError(`Whisper engine ${this.id} used after close()`);
    const vad = await createVad(this.options.vadId, this.options.vad);
    yield* recognizePhrases(pcm, vad, async ({ pcm: audio, offsetMs }) => {
      const phrase = Float32Array.from(audio, (v) => v / 32768);
      const words = (await this.transcribePhrase(phrase, signal)).map((w) => ({ ...w, startMs: w.startMs + offsetMs, endMs: w.endMs + offsetMs }));
      if (words.length === 0) return undefined;
      return { text: words.map((w) => w.word).join(' '), startMs: words[0]!.startMs, endMs: words.at(-1)!.endMs, words };
    }, { speculative: this.options.speculative, onTentative: hooks?.onTentative, signal });
  }

  /** Idempotent; waits for the window being decoded. */
  close(): Promise<void> {
    this.closed = true;
    this.closing ??= (async () => {
      await this.busy;
      await this.encoder.close();
      await this.decoder.close();
    })();
    return this.closing;
  }
}
