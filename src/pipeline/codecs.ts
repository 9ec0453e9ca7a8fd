import type { SessionHeaderPayload } from '../codec/frame/index.ts';
import { checkTextModel, LmPhraseCodec, Utf8PhraseCodec, type PhraseCodec, type PhraseCodecFactory } from '../codec/session/index.ts';
import { DecodeError, EngineUnavailableError } from '../core/errors.ts';
import type { TextModel } from '../codec/text/index.ts';
import { initialProsodyState, LEVEL_STEP_ST, PhraseProsodyCoder, RATE_STEPS_PER_OCTAVE, type PhraseProsody } from '../codec/prosody/index.ts';
import type { CodecMode } from '../codec/frame/index.ts';
import { decodeSpeakerProfile, profileHash } from '../codec/speaker/index.ts';
import type { SpeakerEncoder } from '../engines/speaker/neural/types.ts';
import type { SpeakerEmbedding } from '../codec/session/index.ts';
import { SenderAnalysis, type SenderAnalysisOptions } from './analysis.ts';

/** Loads the text model once per process run (the caller owns the returned object; no module cache). */
export async function loadDefaultTextModel(): Promise<TextModel> {
  const { loadTextModel } = await import('../codec/text/index.ts');
  try {
    return await loadTextModel();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new EngineUnavailableError('text-lm', 'the text model models/text-lm.bin is not built', 'run: node scripts/build-models.mjs (needs Debian pocketsphinx-en-us and sphinxbase-utils)', { cause: err });
    }
    throw err;
  }
}

/** The content hash by which receivers cache speaker profiles (the same one the sender puts in SpeakerRef). */
export const profileHashOf = profileHash;

/** A profile's median F0 (Hz), or undefined for bytes that are not a profile (the prediction then stays). */
function medianF0OfProfile(bytes: Uint8Array): number | undefined {
  try {
    return decodeSpeakerProfile(bytes).medianF0Hz;
  } catch (err) {
    if (err instanceof DecodeError) return undefined;
    throw err;
  }
}

/** Extra sender settings of {@link senderPipeline}. */
export interface SenderPipelineOptions {
  /**
   * Neural speaker encoder (issue #9): the profile then also carries its quantized embedding and
   * speaker changes are detected by cosine distance. The caller owns it (creates and closes it).
   */
  speakerEncoder?: SpeakerEncoder;
  /** Speaker analysis settings (thresholds). */
  analysis?: Partial<SenderAnalysisOptions>;
}

/**
 * Sender-side phrase codec and the analysis that feeds it (sharing one prosody coder, so the
 * quantizer predicts from exactly the state the in-band coder will use). UTF-8 carries no prosody
 * and no speaker profile.
 */
export async function senderPipeline(coding: 'lm' | 'utf8', mode: CodecMode, model?: TextModel, options: SenderPipelineOptions = {}): Promise<{ codec: PhraseCodec<unknown>; analyzer: SenderAnalysis | undefined }> {
  if (coding === 'utf8') return { codec: new Utf8PhraseCodec(), analyzer: undefined };
  return lmSenderPipeline(model ?? (await loadDefaultTextModel()), mode, options);
}

/** {@link senderPipeline} for LM coding with a loaded model (synchronous: one per new session). */
export function lmSenderPipeline(model: TextModel, mode: CodecMode, options: SenderPipelineOptions = {}): { codec: LmPhraseCodec<PhraseProsody>; analyzer: SenderAnalysis } {
  // Both ends start the prediction from the session's mode (the receiver reads it from the header)
  // and re-anchor it at each speaker profile's median F0, exactly as phraseCodecFactory does.
  const coder = new PhraseProsodyCoder(initialProsodyState(150, mode), true, medianF0OfProfile);
  // Sessions announce every speaker of a shared microphone: the 12-byte compact profile (issue #17).
  return { codec: new LmPhraseCodec(model, coder), analyzer: new SenderAnalysis(coder, options.speakerEncoder, { profileLayout: 'compact', ...options.analysis }) };
}

/**
 * Receiver-side codec factory: UTF-8 sessions need nothing; LM sessions need the same text model
 * (checked by id and hash). The model is loaded on first need and reused for later sessions.
 */
export async function phraseCodecFactory(model?: TextModel): Promise<PhraseCodecFactory<unknown>> {
  let loaded: TextModel | undefined = model;
  let loadError: unknown;
  if (!loaded) {
    try {
      loaded = await loadDefaultTextModel();
    } catch (err) {
      loadError = err;
    }
  }
  return (header: SessionHeaderPayload) => {
    if (header.textModelId === 'utf8') return new Utf8PhraseCodec();
    if (!loaded) {
      throw new DecodeError('model_mismatch', `this stream needs text model ${header.textModelId}, which is not available here: ${(loadError as Error)?.message ?? 'not loaded'}`);
    }
    checkTextModel(loaded, header.textModelId, header.textModelHash);
    return new LmPhraseCodec(loaded, new PhraseProsodyCoder(initialProsodyState(150, header.mode), true, medianF0OfProfile));
  };
}

/** Plain-object view of decoded phrase prosody for `inspect`: quantized values and what they render to. */
export function describeProsody(prosody: unknown): unknown {
  if (!prosody) return null;
  const p = prosody as PhraseProsody;
  return { ...p, levelHz: Math.round(100 * 2 ** ((p.levelQ * LEVEL_STEP_ST) / 12)), rate: Number((2 ** (-p.rateQ / RATE_STEPS_PER_OCTAVE)).toFixed(3)) };
}

/** Plain-object view of a speaker profile's bytes for `inspect`. */
export function describeProfile(bytes: Uint8Array): unknown {
  try {
    const p = decodeSpeakerProfile(bytes);
    const r = (x: number, d = 2) => Number(x.toFixed(d));
    return { medianF0Hz: r(p.medianF0Hz, 1), f0RangeSemitones: r(p.f0RangeSemitones, 1), formantScale: r(p.formantScale, 3), spectralTiltDbPerOctave: r(p.spectralTiltDbPerOctave, 1), hnrDb: r(p.hnrDb, 1), syllablesPerSecond: r(p.syllablesPerSecond, 1), melCepstrumMean: p.melCepstrumMean.map((c) => r(c)) };
  } catch (err) {
    if (err instanceof DecodeError) return { error: err.code };
    throw err;
  }
}

/**
 * Plain-object view of a received neural embedding for `inspect`: dimension, embedding space,
 * the first values and the quantized bytes. No TTS renders it (it is for speaker comparison).
 */
export function describeEmbedding(e: SpeakerEmbedding, encoderId?: string, firstValues = 8): unknown {
  const hex = Array.from(e.coded, (b) => b.toString(16).padStart(2, '0')).join('');
  return {
    dim: e.dim,
    encoderHash: `0x${e.encoderHash.toString(16).padStart(8, '0')}`,
    encoder: encoderId ?? 'unknown',
    bytes: e.coded.length,
    first: Array.from(e.vector.subarray(0, firstValues), (v) => Number(v.toFixed(4))),
    coded: hex,
  };
}
