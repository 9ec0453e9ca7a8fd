import { InvalidStateError, ModelError, UsageError } from '../../../core/errors.ts';
import { findModel, loadManifest, resolveModel, type ModelManifest } from '../../models/index.ts';
import { createOnnxSession, tensor, type OnnxSession, type TensorSig } from '../../onnx/index.ts';
import type { TtsEngine, TtsRequest, TtsResult, TtsVoice } from '../types.ts';
import { applyTilt } from '../tilt.ts';
import { CmuLexicon, DEFAULT_CMUDICT_PATH } from './lexicon.ts';
import { phonemizeText, type PhonemizedWord } from './phonemize.ts';
import { loadPiperVoiceConfig, phonemesToIds, type PiperVoiceConfig } from './voice-config.ts';
import { medianF0Hz, pitchFactor, shiftByResampling } from './pitch.ts';

/** Options of {@link PiperTtsEngine}. */
export interface PiperOptions {
  /** Model cache folder (default: `stcts models` cache, see modelCacheDir). */
  modelDir: string | undefined;
  /** A manifest to resolve the voice from (default `models/manifest.json`; tests pass their own). */
  manifest: ModelManifest | undefined;
  /** CMUdict-format pronouncing dictionary. Default Debian pocketsphinx-en-us's. */
  lexiconPath: string;
  /** Scale each result to peak {@link PiperOptions.peak} as Piper does (gain ≤ 100). Default true. */
  normalize: boolean;
  /** Target peak of the normalized output (full scale 1). Default 0.95. */
  peak: number;
  /** ONNX Runtime intra-op threads. Default 1. */
  threads: number;
  /** Speaker of a multi-speaker voice (`sid`). Default 0. */
  speakerId: number;
  /** Largest pitch move for `f0MedianHz`, semitones (0 = never shift). Default 6. */
  maxPitchShiftSemitones: number;
}

export const DEFAULT_PIPER_OPTIONS: Readonly<PiperOptions> = Object.freeze({
  modelDir: undefined,
  manifest: undefined,
  lexiconPath: DEFAULT_CMUDICT_PATH,
  normalize: true,
  peak: 0.95,
  threads: 1,
  speakerId: 0,
  maxPitchShiftSemitones: 6,
});

/**
 * Tensors of a standard Piper (VITS) export, checked when the voice loads (the manifest's `io`
 * wins when present). piper_train's export returns `infer()[0].unsqueeze(1)`: [batch, 1, 1, samples].
 */
export const PIPER_IO: Readonly<{ inputs: TensorSig[]; outputs: TensorSig[] }> = Object.freeze({
  inputs: [
    { name: 'input', elemType: 'int64', shape: [null, null] },
    { name: 'input_lengths', elemType: 'int64', shape: [null] },
    { name: 'scales', elemType: 'float32', shape: [3] },
  ],
  outputs: [{ name: 'output', elemType: 'float32', shape: [null, null, null, null] }],
});

/** Longest text accepted per request, characters. */
export const PIPER_MAX_TEXT_CHARS = 4000;

interface Chunk {
  words: PhonemizedWord[];
  /** Index of the chunk's first word in the request. */
  first: number;
  /** Silence after the chunk, ms. */
  pauseAfterMs: number;
}

/**
 * A Piper / VITS voice run by onnxruntime-node with a GPL-free English front end (CMUdict →
 * espeak-style IPA → the voice's phoneme ids).
 *
 * Controls: `rate` and `speechDurationMs` / the sum of `wordDurationsMs` set the model's length
 * scale (a total target costs a second inference: the first measures the voice's own duration).
 * The standard export has no per-phone durations, so word times are approximations: each word
 * gets a share of its chunk proportional to its phoneme ids. `pausesAfterMs` splits the text into
 * chunks synthesized separately with exact silences between them. The model has no pitch input:
 * `f0MedianHz` (or the median of an `f0Hz` contour) is reached by synthesizing k times longer and
 * resampling by 1/k (pitch and formants move by k, duration is kept; at most ±6 semitones, one
 * extra inference plus a YIN pass to measure the voice's own median). The contour's shape,
 * `f0RangeSemitones` and the all-pass constant are not exposed and are ignored;
 * `timbre.tiltDbPerOctave` is applied after synthesis.
 */
export class PiperTtsEngine implements TtsEngine {
  readonly id: string;
  readonly voices: readonly TtsVoice[];
  readonly config: PiperVoiceConfig;
  private session: OnnxSession | undefined;
  private readonly lexicon: CmuLexicon;
  private readonly options: PiperOptions;

  private constructor(id: string, session: OnnxSession, config: PiperVoiceConfig, lexicon: CmuLexicon, voice: TtsVoice, options: PiperOptions) {
    this.id = id;
    this.session = session;
    this.config = config;
    this.lexicon = lexicon;
    this.voices = Object.freeze([voice]);
    this.options = options;
  }

  /**
   * Loads the manifest voice `modelId` (engine `piper`). Missing files → EngineUnavailableError
   * whose remedy is `stcts models fetch <modelId>`; a model with other tensors → ModelError
   * `shape_mismatch`; a bad `.onnx.json` → ModelError `bad_model`.
   */
  static async create(modelId: string, options: Partial<PiperOptions> = {}): Promise<PiperTtsEngine> {
    const o: PiperOptions = { ...DEFAULT_PIPER_OPTIONS, ...options };
    const manifest = o.manifest ?? loadManifest();
    const entry = findModel(modelId, manifest);
    if (entry.engine !== 'piper') throw new UsageError(`model ${modelId} is a ${entry.engine} model, not a Piper voice`);
    const m = resolveModel(modelId, { cacheDir: o.modelDir, manifest });
    const onnx = m.entry.files.find((f) => f.name.endsWith('.onnx'));
    const json = m.entry.files.find((f) => f.name.endsWith('.onnx.json') || f.name.endsWith('.json'));
    if (!onnx || !json) throw new ModelError('bad_manifest', `model ${modelId} must list a .onnx and a .onnx.json file`, { modelId });
    const cfg = m.entry.config ?? {};
    const voice: TtsVoice = {
      id: modelId,
      sex: cfg.sex === 'M' ? 'M' : 'F',
      medianF0Hz: typeof cfg.medianF0Hz === 'number' ? cfg.medianF0Hz : cfg.sex === 'M' ? 110 : 190,
    };
    return PiperTtsEngine.fromFiles(m.files[onnx.name]!, m.files[json.name]!, { ...o, id: modelId, voice, io: onnx.io });
  }

  /** Loads a voice from explicit paths (tests, or files outside the cache). */
  static async fromFiles(modelPath: string, configPath: string, options: Partial<PiperOptions> & { id?: string; voice?: TtsVoice; io?: { inputs: TensorSig[]; outputs: TensorSig[] } } = {}): Promise<PiperTtsEngine> {
    const { id = 'piper', voice, io, ...rest } = options;
    const o: PiperOptions = { ...DEFAULT_PIPER_OPTIONS, ...rest };
    const config = loadPiperVoiceConfig(configPath);
    const lexicon = CmuLexicon.load(o.lexiconPath);
    const session = await createOnnxSession(modelPath, { modelId: id, expect: io ?? PIPER_IO, threads: o.threads });
    return new PiperTtsEngine(id, session, config, lexicon, voice ?? { id, sex: 'F', medianF0Hz: 190 }, o);
  }

  /** Phoneme ids the model gets for `text` (all words in one chunk). */
  phonemeIds(text: string): number[] {
    return phonemesToIds(phonemizeText(text, this.lexicon), this.config.phonemeIdMap).ids;
  }

  async synthesize(request: TtsRequest, signal?: AbortSignal): Promise<TtsResult> {
    if (!this.session) throw new InvalidStateError(`${this.id} used after close()`);
    signal?.throwIfAborted();
    if (request.voice !== undefined && request.voice !== this.id && request.voice !== 'default') {
      throw new UsageError(`unknown voice '${request.voice}' for ${this.id} (this engine has one voice: ${this.id})`);
    }
    const text = request.text.trim();
    if (text.length > PIPER_MAX_TEXT_CHARS) throw new UsageError(`text too long for one synthesis (${text.length} > ${PIPER_MAX_TEXT_CHARS} characters)`);
    const sr = this.config.sampleRateHz;
    const words = phonemizeText(text, this.lexicon);
    if (words.every((w) => !w.phonemes)) return { samples: new Float32Array(0), sampleRateHz: sr, words: words.map((w) => ({ word: w.text, startMs: 0, endMs: 0 })) };
    const chunks = splitAtPauses(words, request.pausesAfterMs);
    const rate = request.rate && request.rate > 0 ? request.rate : 1;
    let lengthScale = this.config.lengthScale / rate;
    const wantWords = request.wordDurationsMs && request.wordDurationsMs.length === words.length ? request.wordDurationsMs : undefined;
    const targetMs = wantWords ? wantWords.reduce((a, b) => a + b, 0) : request.speechDurationMs;
    const targetF0Hz = request.f0MedianHz ?? contourMedianHz(request.f0Hz);
    let audio = await this.runChunks(chunks, lengthScale, signal);
    let rerun = false;
    if (targetMs && targetMs > 0) {
      // Durations scale with the length scale (VITS: frames = ceil(exp(logw)·scale)); one correction pass.
      const haveMs = (audio.reduce((s, a) => s + a.length, 0) / sr) * 1000;
      if (haveMs > 0 && Math.abs(haveMs - targetMs) > 0.02 * targetMs) {
        lengthScale = Math.min(8, Math.max(0.1, (lengthScale * targetMs) / haveMs));
        rerun = true;
      }
    }
    let pitch = 1;
    if (targetF0Hz && targetF0Hz > 0 && this.options.maxPitchShiftSemitones > 0) {
      const have = medianF0Hz(concat(audio), sr) ?? this.voices[0]!.medianF0Hz;
      pitch = pitchFactor(have, targetF0Hz, this.options.maxPitchShiftSemitones);
      if (Math.abs(12 * Math.log2(pitch)) < 0.1) pitch = 1;
    }
    if (rerun || pitch !== 1) audio = await this.runChunks(chunks, lengthScale * pitch, signal);
    if (pitch !== 1) audio = audio.map((a) => shiftByResampling(a, sr, pitch));
    return this.assemble(chunks, audio, request);
  }

  /** Idempotent; later calls to synthesize() throw InvalidStateError. */
  async close(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    await s?.close();
  }

  private async runChunks(chunks: readonly Chunk[], lengthScale: number, signal?: AbortSignal): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (const c of chunks) {
      signal?.throwIfAborted();
      out.push(await this.infer(phonemesToIds(c.words, this.config.phonemeIdMap).ids, lengthScale));
    }
    signal?.throwIfAborted();
    return out;
  }

  private async infer(ids: number[], lengthScale: number): Promise<Float32Array> {
    const session = this.session;
    if (!session) throw new InvalidStateError(`${this.id} used after close()`);
    const feeds = {
      input: tensor('int64', BigInt64Array.from(ids, (x) => BigInt(x)), [1, ids.length]),
      input_lengths: tensor('int64', BigInt64Array.from([BigInt(ids.length)]), [1]),
      scales: tensor('float32', Float32Array.from([this.config.noiseScale, lengthScale, this.config.noiseW]), [3]),
      ...(session.inputNames.includes('sid') ? { sid: tensor('int64', BigInt64Array.from([BigInt(this.options.speakerId)]), [1]) } : {}),
    };
    const r = await session.run(feeds);
    const y = r.output ?? r[session.outputNames[0]!];
    const dims = y?.dims ?? [];
    if (!y || !(y.data instanceof Float32Array) || dims.slice(0, -1).some((d) => d !== 1) || dims.reduce((a, b) => a * b, 1) !== y.data.length) {
      throw new ModelError('shape_mismatch', `model ${this.id} returned output [${dims.join(', ')}] (${y?.type ?? 'none'}); a Piper voice returns float32 [1, 1, 1, samples]`, { modelId: this.id, tensor: 'output' });
    }
    return y.data;
  }

  private assemble(chunks: readonly Chunk[], audio: readonly Float32Array[], request: TtsRequest): TtsResult {
    const sr = this.config.sampleRateHz;
    const pauseSamples = chunks.map((c) => Math.round((c.pauseAfterMs / 1000) * sr));
    const total = audio.reduce((s, a, i) => s + a.length + pauseSamples[i]!, 0);
    let samples: Float32Array = new Float32Array(total);
    const words: TtsResult['words'] = [];
    let offset = 0;
    chunks.forEach((c, i) => {
      const a = audio[i]!;
      samples.set(a, offset);
      const { ids, wordSpans } = phonemesToIds(c.words, this.config.phonemeIdMap);
      const msPerId = ((a.length / sr) * 1000) / ids.length;
      const baseMs = (offset / sr) * 1000;
      c.words.forEach((w, k) => {
        const [s, e] = wordSpans[k]!;
        words.push({ word: w.text, startMs: baseMs + s * msPerId, endMs: baseMs + e * msPerId });
      });
      offset += a.length + pauseSamples[i]!;
    });
    if (this.options.normalize) {
      let peak = 0;
      for (const x of samples) peak = Math.max(peak, Math.abs(x));
      const gain = this.options.peak / Math.max(0.01, peak);
      for (let i = 0; i < samples.length; i++) samples[i] = samples[i]! * gain;
    }
    if (request.timbre?.tiltDbPerOctave) samples = applyTilt(samples, sr, request.timbre.tiltDbPerOctave);
    return { samples, sampleRateHz: sr, words };
  }
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, a) => s + a.length, 0));
  let o = 0;
  for (const a of parts) {
    out.set(a, o);
    o += a.length;
  }
  return out;
}

/** Median of the voiced (> 0) values of an F0 contour, Hz. */
function contourMedianHz(f0Hz: Float32Array | undefined): number | undefined {
  if (!f0Hz) return undefined;
  const v = Array.from(f0Hz).filter((x) => x > 0).sort((a, b) => a - b);
  return v.length > 0 ? v[v.length >> 1] : undefined;
}

/** Splits the words after each word with a requested pause (> 0 ms), keeping the last chunk's pause at 0. */
export function splitAtPauses(words: readonly PhonemizedWord[], pausesAfterMs: readonly number[] | undefined): Chunk[] {
  const chunks: Chunk[] = [];
  let cur: Chunk = { words: [], first: 0, pauseAfterMs: 0 };
  words.forEach((w, i) => {
    cur.words.push(w);
    const pause = pausesAfterMs?.[i] ?? 0;
    if (pause > 0 && i < words.length - 1) {
      cur.pauseAfterMs = pause;
      chunks.push(cur);
      cur = { words: [], first: i + 1, pauseAfterMs: 0 };
    }
  });
  chunks.push(cur);
  return chunks;
}
