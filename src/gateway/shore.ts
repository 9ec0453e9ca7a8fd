import { DeliverPolicy, type JetStreamClient } from 'nats';
import { PCM_HEADERS, PCM_PREFIX, PCM_STREAM, pcmSubject } from './subjects.ts';

/** One piece of rendered speech as a shore client receives it. */
export interface ShorePcm {
  sessionId: number;
  /** Frame seq of the phrase (or of the End). */
  seq: number;
  part: number;
  parts: number;
  /** Phrase start on the session's timeline, ms. */
  startMs: number;
  sampleRateHz: number;
  text: string;
  /** Raw s16le mono PCM (empty for the End). */
  pcm: Uint8Array;
  /** The session's End: nothing follows. */
  end: boolean;
  /** On an End: why the session could not be rendered (`code: message`), e.g. a voice message that does not decode. */
  error?: string;
  /** Stream sequence in STCTS_PCM. */
  streamSeq: number;
}

/**
 * Rendered speech of one session (or of every session when `sessionId` is undefined), from the
 * start of what JetStream keeps, then live: any node of the cluster serves it. Stops at `signal`,
 * or after a single session's End.
 */
export async function* shorePcm(js: JetStreamClient, sessionId: number | undefined, signal?: AbortSignal): AsyncIterable<ShorePcm> {
  const consumer = await js.consumers.get(PCM_STREAM, { filterSubjects: sessionId === undefined ? `${PCM_PREFIX}.>` : pcmSubject(sessionId), deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 1 });
  const messages = await consumer.consume({ max_messages: 64 });
  const stop = () => messages.stop();
  signal?.addEventListener('abort', stop, { once: true });
  try {
    for await (const m of messages) {
      const h = m.headers;
      const get = (k: string) => h?.get(k) ?? '';
      const item: ShorePcm = {
        sessionId: Number(m.subject.slice(PCM_PREFIX.length + 1)),
        seq: Number(get(PCM_HEADERS.seq)),
        part: Number(get(PCM_HEADERS.part) || 0),
        parts: Number(get(PCM_HEADERS.parts) || 1),
        startMs: Number(get(PCM_HEADERS.startMs) || 0),
        sampleRateHz: Number(get(PCM_HEADERS.rateHz) || 16000),
        text: decodeURIComponent(get(PCM_HEADERS.text)),
        pcm: m.data,
        end: get(PCM_HEADERS.end) === '1',
        streamSeq: m.seq,
        ...(get(PCM_HEADERS.error) ? { error: decodeURIComponent(get(PCM_HEADERS.error)) } : {}),
      };
      yield item;
      if (item.end && sessionId !== undefined) return;
    }
  } finally {
    signal?.removeEventListener('abort', stop);
    messages.stop();
  }
}
