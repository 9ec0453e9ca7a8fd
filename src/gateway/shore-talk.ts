import { randomInt } from 'node:crypto';
import { DeliverPolicy, type Subscription } from 'nats';
import { InvalidStateError, UsageError } from '../core/errors.ts';
import type { DeliveredNotice } from './downlink.ts';
import { SBD_TALK_HEADER } from './sbd-talk-owner.ts';
import type { GatewayJetStream } from './jetstream.ts';
import { publishStored } from './stored.ts';
import { decodeFrameMessage, deliveredSubject, DOWN_STREAM, downSubject, isValidVesselName, PCM_HEADERS, sessionKey, talkMsgId, talkSubject, type CallRecord } from './subjects.ts';

/** What a talking shore client hears back (in this order per phrase: coded, then delivered). */
export type TalkEvent =
  | { type: 'phrase'; session: number; seq: number; text: string }
  | { type: 'delivered'; session: number; seq: number; text: string }
  /**
   * The vessel acknowledged the End: everything said reached it. Over Iridium SBD: every part is
   * queued at Iridium for the vessel's modem (it collects them at its next session or ring alert);
   * `error` when it could not be sent (e.g. no speech recognized, a message too long, an IMEI Iridium refuses).
   */
  | { type: 'end'; session: number; via?: 'sbd'; error?: string };

/** Speech is stored in pieces of at least this many bytes (250 ms at 16 kHz): fewer, larger messages. */
const PIECE_BYTES = 8000;
/** Longest talk, s (a stuck push-to-talk must not fill the stream). */
export const MAX_TALK_SECONDS = 600;

/**
 * One shore→ship session as a shore client drives it (issue #18 item 2): raw s16le 16 kHz mono
 * PCM in (`write`, then `end`), stored in order in JetStream for a worker to code; `events()`
 * tells what was recognized and what the vessel acknowledged. Any gateway node can open one; the
 * vessel gets it through whichever node holds its link (or when it next connects).
 */
export class ShoreTalk {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pieces = 0;
  private bytes = 0;
  private tail: Promise<unknown> = Promise.resolve();
  private ended = false;
  private readonly abort = new AbortController();

  private constructor(
    private readonly jet: GatewayJetStream,
    readonly vessel: string,
    readonly sessionId: number,
    private readonly delivered: Subscription,
  ) {}

  /** Registers a new shore→ship session to `vessel` (an even session id, unique in the registry). */
  static async open(jet: GatewayJetStream, vessel: string, o: { via?: 'sbd' } = {}): Promise<ShoreTalk> {
    if (!isValidVesselName(vessel)) throw new UsageError(`vessel name '${vessel}': letters, digits, - and _ only`);
    for (let attempt = 0; ; attempt++) {
      // Even ids: the vessel dialed us, so its own sessions are odd and an even one is ours (the edge daemon's rule).
      const id = randomInt(1, 2 ** 30) * 2;
      const record: CallRecord = { sessionId: id, vessel, subject: talkSubject(id), direction: 'down', downSubject: downSubject(vessel, id), ...(o.via ? { via: o.via } : {}), state: 'active', startedAtMs: Date.now() };
      // Subscribed before anything can be acknowledged.
      const sub = jet.nc.subscribe(deliveredSubject(id));
      try {
        await jet.calls.create(sessionKey(id), JSON.stringify(record));
        return new ShoreTalk(jet, vessel, id, sub);
      } catch (err) {
        sub.unsubscribe();
        if (attempt >= 4 || !/wrong last sequence|exists/i.test(String((err as Error).message))) throw err;
      }
    }
  }

  /** Seconds of speech written so far. */
  get seconds(): number {
    return this.bytes / 32000;
  }

  /** Queues speech; resolves once what was queued so far is stored (the caller may await for backpressure). */
  write(pcm: Uint8Array): Promise<void> {
    if (this.ended) throw new InvalidStateError('ShoreTalk.write after end()');
    if (this.bytes + pcm.length > MAX_TALK_SECONDS * 32000) throw new UsageError(`a talk is at most ${MAX_TALK_SECONDS} s`);
    this.bytes += pcm.length;
    this.pending.push(Buffer.from(pcm));
    this.pendingBytes += pcm.length;
    if (this.pendingBytes >= PIECE_BYTES) return this.flush();
    return this.tail.then(() => {});
  }

  private flush(end = false): Promise<void> {
    const data = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    const put = (bytes: Uint8Array, headers: Record<string, string>) => {
      const n = this.pieces++;
      this.tail = this.tail.then(() => publishStored(this.jet.js, talkSubject(this.sessionId), bytes, talkMsgId(this.sessionId, n), headers, this.abort.signal, 250));
    };
    if (data.length) put(data, {});
    if (end) put(new Uint8Array(0), { [PCM_HEADERS.end]: '1' });
    return this.tail.then(() => {});
  }

  /** The speaker stopped: the rest is stored, then the End marker. Idempotent. */
  end(): Promise<void> {
    if (this.ended) return this.tail.then(() => {});
    this.ended = true;
    return this.flush(true);
  }

  /**
   * What happens to the talk: each phrase once the worker coded it (`phrase`), once the vessel
   * acknowledged it (`delivered`), and `end` when the vessel acknowledged the End. Stops at `end`
   * or at `signal`.
   */
  async *events(signal?: AbortSignal): AsyncIterable<TalkEvent> {
    const queue: TalkEvent[] = [];
    let wake: (() => void) | undefined;
    const push = (e: TalkEvent) => {
      queue.push(e);
      wake?.();
    };
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const texts = new Map<number, string>();
    let deliveredBelow = 0;
    let endAcked = false;
    let codedEnd = false;
    let endPushed = false;
    let sbd: { error?: string } | undefined;
    const flushDelivered = () => {
      for (const [seq, text] of [...texts]) {
        if (seq >= deliveredBelow) continue;
        texts.delete(seq);
        push({ type: 'delivered', session: this.sessionId, seq, text });
      }
      // Only once every phrase was seen coded: the End is the last frame of the down subject.
      if (endAcked && codedEnd && !endPushed) {
        endPushed = true;
        push({ type: 'end', session: this.sessionId, ...(sbd ? { via: 'sbd' as const, ...(sbd.error ? { error: sbd.error } : {}) } : {}) });
      }
    };
    // Phrases as workers store them (the phrase text rides in a header).
    const coded = (async () => {
      const consumer = await this.jet.js.consumers.get(DOWN_STREAM, { filterSubjects: downSubject(this.vessel, this.sessionId), deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 1 });
      const messages = await consumer.consume({ max_messages: 64 });
      stop.signal.addEventListener('abort', () => messages.stop(), { once: true });
      let next = 0;
      for await (const m of messages) {
        if (m.headers?.get(SBD_TALK_HEADER) === '1') {
          // An SBD talk: parts, then an End naming the phrases (src/gateway/sbd-talk-owner.ts).
          if (m.headers.get(PCM_HEADERS.end) !== '1') continue;
          const body = JSON.parse(new TextDecoder().decode(m.data)) as { phrases: string[]; error?: string };
          sbd = body.error ? { error: body.error } : { ...sbd }; // an error notice may have come first
          for (const [seq, text] of body.phrases.entries()) {
            push({ type: 'phrase', session: this.sessionId, seq, text });
            texts.set(seq, text);
          }
          codedEnd = true;
          if (body.error) endAcked = true; // nothing will be sent
          flushDelivered();
          break;
        }
        let frame;
        try {
          frame = decodeFrameMessage(m.data);
        } catch {
          continue;
        }
        const seq = frame.seq;
        if (seq < next) continue;
        next = seq + 1;
        if (frame.payload.type === 'end') {
          codedEnd = true;
          flushDelivered();
          break;
        }
        const t = m.headers?.get(PCM_HEADERS.phraseText);
        if (!t) continue;
        const text = decodeURIComponent(t);
        push({ type: 'phrase', session: this.sessionId, seq, text });
        texts.set(seq, text);
        flushDelivered();
      }
    })().catch(() => {});
    const acks = (async () => {
      for await (const m of this.delivered) {
        const n = JSON.parse(new TextDecoder().decode(m.data)) as DeliveredNotice;
        deliveredBelow = Math.max(deliveredBelow, n.cumulative);
        if (n.end) endAcked = true;
        if (n.error) sbd = { ...sbd, error: n.error };
        flushDelivered();
        if (endAcked) break;
      }
    })().catch(() => {});
    try {
      for (;;) {
        while (queue.length) {
          const e = queue.shift()!;
          yield e;
          if (e.type === 'end') return;
        }
        if (stop.signal.aborted) return;
        await new Promise<void>((r) => {
          wake = r;
          stop.signal.addEventListener('abort', () => r(), { once: true });
        });
        wake = undefined;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      stop.abort();
      this.delivered.unsubscribe();
      await Promise.all([coded, acks]);
    }
  }

  /** Stops publishing (what is not stored yet is dropped) and listening. */
  close(): void {
    this.abort.abort();
    this.delivered.unsubscribe();
  }
}
