import type { JetStreamManager, JetStreamClient } from 'nats';
import type { CodecMode } from '../codec/frame/index.ts';
import type { TextModel } from '../codec/text/index.ts';
import type { AsrEngine } from '../engines/asr/types.ts';
import { senderPipeline } from '../pipeline/codecs.ts';
import { livePhrases, pcmFromStream } from '../pipeline/live.ts';
import { senderFrames } from '../pipeline/sender.ts';
import { publishStored, storedMessages } from './stored.ts';
import { decodeFrameMessage, DOWN_STREAM, downMsgId, encodeFrameMessage, PCM_HEADERS, TALK_STREAM } from './subjects.ts';

/** What a shore→ship session owner needs (shared by every session of one worker). */
export interface TalkOwnerDeps {
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** A recognizer for one session (closed when the session's owner stops). */
  createAsr: () => Promise<AsrEngine>;
  /** `lm` coding with this model (the edge daemon's default); absent: UTF-8. */
  textModel: TextModel | undefined;
  mode: CodecMode;
  retryMs: number;
  /** A phrase was coded and stored (`replayed`: a take-over coded it again and found it stored). */
  onPhrase?: (sessionId: number, seq: number, text: string, replayed: boolean) => void;
}

/** Seq of the last frame stored for a shore→ship session (−1: none), and whether it is the End. */
export async function storedDownTo(jsm: JetStreamManager, subject: string): Promise<{ seq: number; ended: boolean }> {
  try {
    const m = await jsm.streams.getMessage(DOWN_STREAM, { last_by_subj: subject });
    const f = decodeFrameMessage(m.data);
    return { seq: f.seq, ended: f.payload.type === 'end' };
  } catch (err) {
    if (/no message found|not found/i.test(String((err as Error).message))) return { seq: -1, ended: false };
    throw err;
  }
}

/**
 * Runs one owned shore→ship session (issue #18): the shore client's speech, read in order from
 * the talk subject, goes through the edge daemon's sender pipeline (VAD + recognizer + prosody and
 * speaker analysis + the LM text coder) and each coded frame is stored on the session's down
 * subject (message id session+seq). The pipeline is deterministic in its input, so a new owner
 * after a crash codes the same speech to the same frames: it runs from the start (rebuilding the
 * stateful coder) and stores only the frames after the last one stored. Returns when the End is
 * stored, or when `signal` aborts.
 */
export async function runTalkOwner(sessionId: number, talkSubject: string, downSubject: string, deps: TalkOwnerDeps, signal: AbortSignal): Promise<'ended' | 'aborted'> {
  const stored = await storedDownTo(deps.jsm, downSubject);
  if (stored.ended) return 'ended';
  const asr = await deps.createAsr();
  try {
    let talkEnded = false;
    async function* speech(): AsyncIterable<Buffer> {
      for await (const m of storedMessages(deps.js, TALK_STREAM, talkSubject, signal, deps.retryMs)) {
        if (m.headers?.get(PCM_HEADERS.end) === '1') {
          talkEnded = true;
          return;
        }
        if (m.data.length) yield Buffer.from(m.data);
      }
    }
    const live = livePhrases(pcmFromStream(speech()), asr, { realtime: false, signal });
    const { codec, analyzer } = await senderPipeline(deps.textModel ? 'lm' : 'utf8', deps.mode, deps.textModel);
    // senderFrames pulls a phrase, then yields its frames: a TextSegment is the last phrase pulled.
    let lastText = '';
    const phrases = (async function* () {
      for await (const p of live.phrases) {
        lastText = p.result.text;
        yield p;
      }
    })();
    for await (const f of senderFrames(phrases, codec, analyzer, { sessionId, mode: deps.mode, endMs: () => live.totalMs() })) {
      if (signal.aborted) return 'aborted';
      const frame = f.frame;
      if (frame.payload.type === 'end' && !talkEnded) return 'aborted'; // the talk stream stopped (abort), not the speaker
      const text = frame.payload.type === 'text' ? lastText : undefined;
      const replayed = frame.seq <= stored.seq;
      if (!replayed) {
        await publishStored(deps.js, downSubject, encodeFrameMessage(frame), downMsgId(sessionId, frame.seq), text !== undefined ? { [PCM_HEADERS.phraseText]: encodeURIComponent(text) } : {}, signal, deps.retryMs);
      }
      if (text !== undefined) deps.onPhrase?.(sessionId, frame.seq, text, replayed);
      if (frame.payload.type === 'end') return 'ended';
    }
    return 'aborted';
  } finally {
    await asr.close();
  }
}
