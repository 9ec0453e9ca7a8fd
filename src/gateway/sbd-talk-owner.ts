import { decodeMessage } from '../codec/message/index.ts';
import type { TextModel } from '../codec/text/index.ts';
import { StctsError } from '../core/errors.ts';
import { encodeMessageAudio } from '../pipeline/message-encode.ts';
import { publishStored, storedMessages } from './stored.ts';
import { DOWN_STREAM, downMsgId, PCM_HEADERS, TALK_STREAM } from './subjects.ts';
import type { TalkOwnerDeps } from './talk-owner.ts';

/** Header of the last message of an SBD talk's down subject (with `Stcts-End: 1`); its body is JSON `{phrases: string[]}` or `{error}`. */
export const SBD_TALK_HEADER = 'Stcts-Sbd';

/** The End of an SBD talk's down subject, if stored. */
export async function sbdTalkEnd(deps: Pick<TalkOwnerDeps, 'jsm'>, downSubject: string): Promise<{ parts: number; phrases: string[]; error?: string } | undefined> {
  try {
    const m = await deps.jsm.streams.getMessage(DOWN_STREAM, { last_by_subj: downSubject });
    if (m.header.get(PCM_HEADERS.end) !== '1') return undefined;
    return { parts: Number(m.header.get(PCM_HEADERS.parts)), ...(JSON.parse(new TextDecoder().decode(m.data)) as { phrases: string[]; error?: string }) };
  } catch (err) {
    if (/no message found|not found/i.test(String((err as Error).message))) return undefined;
    throw err;
  }
}

/**
 * Shore→ship to a vessel reached only by Iridium SBD (issue #18): SBD is store-and-forward, so
 * the talk is coded once it ended, as one voice message for the MT channel (270-byte parts,
 * src/pipeline/message-encode.ts: recognizer, speaker profile, prosody, LM text coder). Each part
 * is stored on the session's down subject (message id session + part), then an End carrying the
 * phrase texts; the terminator with DirectIP MT hands the parts to Iridium. The coding is
 * deterministic in the speech (the message id is the session's low 7 bits), so a worker that
 * takes over codes the same parts and the stream keeps one copy of each. Returns like runTalkOwner.
 */
export async function runSbdTalkOwner(sessionId: number, talkSubject: string, downSubject: string, deps: TalkOwnerDeps & { textModel: TextModel }, signal: AbortSignal): Promise<'ended' | 'aborted'> {
  if (await sbdTalkEnd(deps, downSubject)) return 'ended';
  const pieces: Uint8Array[] = [];
  let ended = false;
  for await (const m of storedMessages(deps.js, TALK_STREAM, talkSubject, signal, deps.retryMs)) {
    if (m.headers?.get(PCM_HEADERS.end) === '1') {
      ended = true;
      break;
    }
    if (m.data.length) pieces.push(m.data);
  }
  if (!ended) return 'aborted';
  const bytes = Buffer.concat(pieces);
  const pcm = new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length >> 1);
  const samples = new Float32Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) samples[i] = pcm[i]! / 32768;
  const end = (body: unknown, parts: number) => publishStored(deps.js, downSubject, new TextEncoder().encode(JSON.stringify(body)), downMsgId(sessionId, parts), { [PCM_HEADERS.end]: '1', [PCM_HEADERS.parts]: String(parts), [SBD_TALK_HEADER]: '1' }, signal, deps.retryMs);
  const asr = await deps.createAsr();
  let result;
  try {
    result = await encodeMessageAudio({ samples, sampleRateHz: 16000 }, asr, { channel: 'sbd-mt', mode: deps.mode, messageId: sessionId & 0x7f }, deps.textModel);
  } catch (err) {
    if (signal.aborted || !(err instanceof StctsError)) throw err;
    await end({ phrases: [], error: `${err.code}: ${err.message}` }, 0);
    return 'ended';
  } finally {
    await asr.close();
  }
  if (result.phrases === 0) {
    await end({ phrases: [], error: 'invalid_value: no speech was recognized in the talk' }, 0);
    return 'ended';
  }
  for (const [k, part] of result.parts.entries()) {
    await publishStored(deps.js, downSubject, part.bytes, downMsgId(sessionId, k), { [PCM_HEADERS.part]: String(k), [PCM_HEADERS.parts]: String(result.parts.length), [SBD_TALK_HEADER]: '1' }, signal, deps.retryMs);
  }
  const phrases = decodeMessage(result.message, deps.textModel).items.flatMap((it) => (it.type === 'phrase' ? [it.text] : []));
  for (const [seq, text] of phrases.entries()) deps.onPhrase?.(sessionId, seq, text, false);
  await end({ phrases }, result.parts.length);
  return 'ended';
}
