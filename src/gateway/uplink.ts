import { listKeys } from './jetstream.ts';
import { headers, type JetStreamClient, type JetStreamManager, type KV } from 'nats';
import type { Frame } from '../codec/frame/index.ts';
import { InvalidStateError } from '../core/errors.ts';
import { LinkSession, type LinkSessionOptions } from '../transport/link-session.ts';
import { sessionTagOf } from '../transport/link-packet.ts';
import { decodeFrameMessage, encodeFrameMessage, sessionKey, UP_STREAM, upMsgId, upSubject, type CallRecord } from './subjects.ts';

/** Settings of {@link UplinkHub}. */
export interface UplinkOptions {
  /** The ARQ of each vessel session (the gateway's answer side: acks, and shore→ship frames later). */
  link: Partial<LinkSessionOptions>;
  /** Pause between attempts of a publish JetStream did not acknowledge (server restarting), ms. Default 250. */
  retryMs: number;
  /** Per-attempt publish timeout, ms. Default 2000. */
  publishTimeoutMs: number;
  /** A session is forgotten this long after its End was stored (late retransmissions are still acked), ms. Default 30 s. */
  lingerMs: number;
}

export const DEFAULT_UPLINK_OPTIONS: Readonly<UplinkOptions> = Object.freeze({
  link: Object.freeze({ sender: Object.freeze({ bitsPerSecond: 100_000 }) }),
  retryMs: 250,
  publishTimeoutMs: 2000,
  lingerMs: 30_000,
});

/** Counters of a hub (monotonic), for /metrics and tests. */
export interface UplinkStats {
  sessions: number;
  framesPublished: number;
  /** Publish attempts that failed and were retried (e.g. during a server restart). */
  publishRetries: number;
  /** Republished frames JetStream recognised by message id (stored once). */
  duplicatesIgnored: number;
  /** Sessions that resumed here after frames stored by another node (or an earlier run). */
  resumedSessions: number;
}

interface UplinkSession {
  vessel: string;
  link: LinkSession;
  done: Promise<void>;
}

/**
 * Where link terminators hand over vessel sessions (issue #18). A terminator of any link kind (the
 * WebSocket one here; UDP/KISS datagram links the same way) only carries packets: it asks the hub
 * for the {@link LinkSession} of (vessel, session id) and attaches its packet port. The hub ends
 * the ARQ at the shore and publishes each in-order frame to the session's JetStream subject,
 * retrying until JetStream has stored it (message id = session + seq, so a retry is stored once).
 *
 * The ARQ acknowledges a frame to the vessel only once JetStream has stored it (the receiver's
 * `confirmDelivery`): a gateway node that crashes loses nothing the vessel believes delivered.
 */
export class UplinkHub {
  readonly options: Readonly<UplinkOptions>;
  readonly stats: UplinkStats = { sessions: 0, framesPublished: 0, publishRetries: 0, duplicatesIgnored: 0, resumedSessions: 0 };
  private readonly sessions = new Map<number, UplinkSession>();
  private readonly abort = new AbortController();
  private closed = false;

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly calls: KV,
    options: Partial<UplinkOptions> = {},
  ) {
    this.options = Object.freeze({ ...DEFAULT_UPLINK_OPTIONS, ...options });
  }

  /** Session ids of one vessel, for resolving tag-only packets. */
  sessionsOf(vessel: string): ReadonlyMap<number, LinkSession> {
    const out = new Map<number, LinkSession>();
    for (const [id, s] of this.sessions) if (s.vessel === vessel) out.set(id, s.link);
    return out;
  }

  /**
   * The session `sessionId` of `vessel`, created on first use. Undefined when the id is taken by
   * another vessel (a vessel cannot inject frames into another's session). A session that another
   * gateway node terminated before (the vessel reconnected here) resumes after the last frame
   * JetStream holds: the new ARQ receiver starts there, so the vessel's first ack from us tells it
   * what to resend.
   */
  async open(vessel: string, sessionId: number): Promise<LinkSession | undefined | 'down'> {
    if (this.closed) throw new InvalidStateError('UplinkHub used after close()');
    const known = this.sessions.get(sessionId);
    if (known) return known.vessel === vessel ? known.link : undefined;
    const opening = this.opening.get(sessionId);
    if (opening) return opening.vessel === vessel ? opening.link : undefined;
    const link = (async (): Promise<LinkSession | undefined | 'down'> => {
      // A shore→ship session of this vessel (its acks): not a session the vessel may open.
      const known0 = await this.retry(() => this.calls.get(sessionKey(sessionId)));
      if (known0 && known0.operation === 'PUT' && (JSON.parse(new TextDecoder().decode(known0.value)) as CallRecord).direction === 'down') return 'down';
      const resumeSeq = await this.retry(() => this.storedUpTo(vessel, sessionId));
      const known2 = this.sessions.get(sessionId);
      if (known2) return known2.vessel === vessel ? known2.link : undefined;
      // Acknowledged to the vessel only once stored (publishFrame → confirm).
      const session = new LinkSession(sessionId, { ...this.options.link, receiver: { ...this.options.link.receiver, confirmDelivery: true } });
      if (resumeSeq > 0) {
        // A forward notice to our own receiver: everything below resumeSeq is delivered (it is in JetStream).
        session.receiver.accept([{ version: 1, sessionId, seq: resumeSeq, time: 0, payload: { type: 'ack', cumulative: resumeSeq, sack: 0n, nack: [] } }], performance.now());
        this.stats.resumedSessions++;
      }
      const entry: UplinkSession = { vessel, link: session, done: Promise.resolve() };
      entry.done = this.pump(vessel, sessionId, session).catch(() => {});
      this.sessions.set(sessionId, entry);
      this.stats.sessions++;
      return session;
    })();
    this.opening.set(sessionId, { vessel, link });
    try {
      return await link;
    } finally {
      this.opening.delete(sessionId);
    }
  }

  /**
   * The session a tag-only packet means when this node does not hold it: a vessel that reconnects
   * to another gateway node names its session by the 3-bit tag only. The call registry knows the
   * vessel's active calls; exactly one with that tag is the answer (else the vessel must name it in full).
   */
  async resolveTag(vessel: string, tag: number): Promise<number | undefined> {
    const keys: string[] = [];
    for (const k of await listKeys(this.calls)) if (sessionTagOf(Number(k)) === tag) keys.push(k);
    let found: number | undefined;
    for (const k of keys) {
      const e = await this.calls.get(k);
      if (!e || e.operation !== 'PUT') continue;
      const call = JSON.parse(new TextDecoder().decode(e.value)) as CallRecord;
      if (call.vessel !== vessel) continue;
      if (found !== undefined) return undefined; // ambiguous
      found = call.sessionId;
    }
    return found;
  }

  private readonly opening = new Map<number, { vessel: string; link: Promise<LinkSession | undefined | 'down'> }>();

  /** Seq after the last frame JetStream holds for the session (0: none). */
  private async storedUpTo(vessel: string, sessionId: number): Promise<number> {
    try {
      const m = await this.jsm.streams.getMessage(UP_STREAM, { last_by_subj: upSubject(vessel, sessionId) });
      return decodeFrameMessage(m.data).seq + 1;
    } catch (err) {
      if (/no message found|not found/i.test(String((err as Error).message))) return 0;
      throw err;
    }
  }

  private async pump(vessel: string, sessionId: number, link: LinkSession): Promise<void> {
    const subject = upSubject(vessel, sessionId);
    let registered = false;
    for await (const frame of link.frames()) {
      if (!registered) {
        await this.retry(() => this.register({ sessionId, vessel, subject, state: 'active', startedAtMs: Date.now() }));
        registered = true;
      }
      await this.publishFrame(subject, frame);
      link.confirm(frame.seq);
      if (frame.payload.type === 'end') {
        const t = setTimeout(() => this.forget(sessionId), this.options.lingerMs);
        t.unref?.();
      }
    }
  }

  private async register(record: CallRecord): Promise<void> {
    try {
      await this.calls.create(sessionKey(record.sessionId), JSON.stringify(record));
    } catch (err) {
      // Already registered (a resumed session, or another gateway node got its first packet).
      if (!/wrong last sequence|exists/i.test(String((err as Error).message))) throw err;
    }
  }

  private async publishFrame(subject: string, frame: Frame): Promise<void> {
    const data = encodeFrameMessage(frame);
    const h = headers();
    h.set('Nats-Msg-Id', upMsgId(frame.sessionId, frame.seq));
    const ack = await this.retry(() => this.js.publish(subject, data, { headers: h, timeout: this.options.publishTimeoutMs }));
    if (ack.duplicate) this.stats.duplicatesIgnored++;
    this.stats.framesPublished++;
  }

  private async retry<T>(op: () => Promise<T>): Promise<T> {
    for (;;) {
      if (this.abort.signal.aborted) throw new InvalidStateError('UplinkHub closed');
      try {
        return await op();
      } catch (err) {
        if (err instanceof InvalidStateError) throw err;
        this.stats.publishRetries++;
        await new Promise((r) => setTimeout(r, this.options.retryMs));
      }
    }
  }

  private forget(sessionId: number): void {
    const s = this.sessions.get(sessionId);
    if (!s) return;
    s.link.close();
    this.sessions.delete(sessionId);
  }

  /** Number of sessions currently held. */
  get activeSessions(): number {
    return this.sessions.size;
  }

  /** Closes every session; idempotent. Frames not yet stored are dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    for (const s of this.sessions.values()) s.link.close();
    await Promise.all([...this.sessions.values()].map((s) => s.done));
    this.sessions.clear();
  }
}
