import { decodePart } from '../codec/message/index.ts';
import type { TextModel } from '../codec/text/index.ts';
import { DecodeError, StctsError } from '../core/errors.ts';
import { phrasesWithProfiles, readMessage } from '../pipeline/message-decode.ts';
import { readCheckpoint, renderPhrasePcm, storePcmEnd, type SessionOwnerDeps } from './session-owner.ts';
import { MO_STREAM, type CallRecord } from './subjects.ts';

/** What rendering a voice message needs beyond a session owner's: the LM text model (messages are always LM-coded). */
export interface MessageOwnerDeps extends SessionOwnerDeps {
  textModel: TextModel;
}

/** A stored MO payload by stream sequence, retried through a server restart; DecodeError when it is gone (aged out). */
async function storedPart(deps: MessageOwnerDeps, seq: number, signal: AbortSignal): Promise<Uint8Array> {
  for (;;) {
    signal.throwIfAborted();
    try {
      return (await deps.jsm.streams.getMessage(MO_STREAM, { seq })).data;
    } catch (err) {
      if (/no message found|not found/i.test(String((err as Error).message))) throw new DecodeError('truncated', `part at ${MO_STREAM} sequence ${seq} is no longer stored`);
      await new Promise((r) => setTimeout(r, deps.retryMs));
    }
  }
}

/**
 * Renders one Iridium SBD voice message (a call of direction `message`, src/gateway/sbd-terminator.ts):
 * reads its parts from STCTS_MO, decodes the message (pure codec), and synthesizes each phrase
 * after the rendering checkpoint exactly as a ship→shore call's (phrase i is seq i on the
 * session's PCM subject), then the End. A message that does not decode ends with an End naming the
 * error, so shore clients see why. Returns like {@link runSessionOwner}.
 */
export async function runMessageOwner(call: CallRecord, deps: MessageOwnerDeps, signal: AbortSignal): Promise<'ended' | 'aborted'> {
  const id = call.sessionId;
  const checkpoint = await readCheckpoint(deps.jsm, id);
  if (checkpoint.ended) return 'ended';
  let phrases: ReturnType<typeof phrasesWithProfiles>;
  try {
    const parts = [];
    for (const seq of call.parts ?? []) {
      const bytes = await storedPart(deps, seq, signal);
      parts.push({ part: decodePart(bytes), source: `${MO_STREAM}#${seq}`, bytes: bytes.length });
    }
    if (parts.length === 0) throw new DecodeError('truncated', 'a message call without parts');
    phrases = phrasesWithProfiles(readMessage(parts, deps.textModel).decoded.items);
  } catch (err) {
    if (signal.aborted || !(err instanceof StctsError)) throw err;
    await storePcmEnd(id, 0, deps, signal, `${err.code}: ${err.message}`);
    return 'ended';
  }
  for (const [seq, { phrase, profile }] of phrases.entries()) {
    const replayed = seq <= checkpoint.completeSeq;
    deps.onPhrase?.(id, seq, replayed);
    if (replayed) continue;
    const event = { type: 'phrase' as const, seq, startMs: phrase.startMs, text: phrase.text, prosody: phrase.prosody, speakerId: profile ? 1 : undefined, bitsByChannel: {} };
    await renderPhrasePcm(id, event, profile, phrase.detail, deps, signal);
  }
  await storePcmEnd(id, phrases.length, deps, signal);
  return 'ended';
}
