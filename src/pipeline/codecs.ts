import { createHash } from 'node:crypto';
import type { SessionHeaderPayload } from '../codec/frame/index.ts';
import { checkTextModel, LmPhraseCodec, Utf8PhraseCodec, type PhraseCodec, type PhraseCodecFactory } from '../codec/session/index.ts';
import { DecodeError, EngineUnavailableError } from '../core/errors.ts';
import type { TextModel } from '../codec/text/index.ts';

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

/** First 32 bits of SHA-256: the content hash by which receivers cache speaker profiles. */
export function profileHashOf(bytes: Uint8Array): number {
  return createHash('sha256').update(bytes).digest().readUInt32BE(0);
}

/** Sender-side phrase codec for a coding choice. */
export async function senderPhraseCodec(coding: 'lm' | 'utf8', model?: TextModel): Promise<PhraseCodec<unknown>> {
  if (coding === 'utf8') return new Utf8PhraseCodec();
  return new LmPhraseCodec(model ?? (await loadDefaultTextModel()), prosodyCoder());
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
    return new LmPhraseCodec(loaded, prosodyCoder());
  };
}

function prosodyCoder() {
  return undefined;
}

/** Plain-object view of decoded phrase prosody for `inspect`. */
export function describeProsody(prosody: unknown): unknown {
  return prosody ?? null;
}

/** Plain-object view of a speaker profile's bytes for `inspect`. */
export function describeProfile(bytes: Uint8Array): unknown {
  return { bytes: bytes.length };
}
