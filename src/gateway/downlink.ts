import type { AckPayload } from '../codec/frame/index.ts';
import { InvalidStateError } from '../core/errors.ts';
import { LinkSession, type LinkSessionOptions, type PacketPort } from '../transport/link-session.ts';
import { listKeys, type GatewayJetStream } from './jetstream.ts';
import { storedMessages } from './stored.ts';
import { decodeFrameMessage, deliveredSubject, DOWN_STREAM, sessionKey, type CallRecord } from './subjects.ts';

/** Settings of {@link DownlinkHub}. */
export interface DownlinkOptions {
  /** The ARQ sender of each shore→ship session. */
  link: Partial<LinkSessionOptions>;
  /** How often the call registry is scanned for shore→ship sessions of the vessels attached here, ms. Default 250. */
  scanMs: number;
  retryMs: number;
  /** A session is forgotten this long after the vessel acknowledged its End, ms. Default 10 s. */
  lingerMs: number;
}

export const DEFAULT_DOWNLINK_OPTIONS: Readonly<DownlinkOptions> = Object.freeze({ link: Object.freeze({}), scanMs: 250, retryMs: 250, lingerMs: 10_000 });

/** What the talking shore client hears about a session (core NATS `stcts.v1.delivered.<session>`, JSON). */
export interface DeliveredNotice {
  /** Every frame below this seq is acknowledged by the vessel. */
  cumulative: number;
  /** The vessel acknowledged the End: the whole session is delivered. */
  end?: true;
  /** Over SBD: why the talk could not be handed to Iridium (with `end`). */
  error?: string;
}

export interface DownlinkStats {
  sessions: number;
  framesQueued: number;
  sessionsDelivered: number;
}

interface DownSession {
  vessel: string;
  link: LinkSession;
  abort: AbortController;
}

/**
 * The shore→ship half of a terminator node (issue #18): for every vessel whose link ends here, the
 * frames workers coded for it (stream `STCTS_DOWN`) go through one ARQ sender per session over that
 * link; the vessel's acknowledgements come back through the same link. A vessel that reconnects to
 * another node gets its sessions from there: that node sends from the first stored frame and the
 * vessel's first ack says what it already has (the ARQ resends nothing acknowledged). When the
 * vessel acknowledges a session's End, its registry entry is deleted.
 */
export class DownlinkHub {
  readonly options: Readonly<DownlinkOptions>;
  readonly stats: DownlinkStats = { sessions: 0, framesQueued: 0, sessionsDelivered: 0 };
  /** Attached vessels: their current packet port (the newest connection). */
  private readonly ports = new Map<string, PacketPort>();
  private readonly sessions = new Map<number, DownSession>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private timer: NodeJS.Timeout | undefined;
  private scanning = false;
  private closed = false;

  constructor(private readonly jet: GatewayJetStream, options: Partial<DownlinkOptions> = {}) {
    this.options = Object.freeze({ ...DEFAULT_DOWNLINK_OPTIONS, ...options });
  }

  /** The shore→ship sessions of one vessel held here (for routing its acknowledgements). */
  sessionsOf(vessel: string): ReadonlyMap<number, LinkSession> {
    const out = new Map<number, LinkSession>();
    for (const [id, s] of this.sessions) if (s.vessel === vessel) out.set(id, s.link);
    return out;
  }

  /** A connection of `vessel` came up here; returns its detach (call it when the connection closes). */
  attach(vessel: string, port: PacketPort): () => void {
    if (this.closed) throw new InvalidStateError('DownlinkHub used after close()');
    this.ports.set(vessel, port);
    for (const s of this.sessions.values()) if (s.vessel === vessel) s.link.attach(port);
    this.start();
    void this.scan();
    return () => {
      if (this.ports.get(vessel) !== port) return;
      this.ports.delete(vessel);
      for (const s of this.sessions.values()) if (s.vessel === vessel) s.link.detach();
    };
  }

  private start(): void {
    if (this.timer || this.closed) return;
    const tick = () => {
      void this.scan().finally(() => {
        if (!this.closed) {
          this.timer = setTimeout(tick, this.options.scanMs);
          this.timer.unref?.();
        }
      });
    };
    this.timer = setTimeout(tick, this.options.scanMs);
    this.timer.unref?.();
  }

  private async scan(): Promise<void> {
    if (this.scanning || this.closed || this.ports.size === 0) return;
    this.scanning = true;
    try {
      for (const k of await listKeys(this.jet.calls)) {
        const id = Number(k);
        if (this.closed || this.sessions.has(id) || id % 2 !== 0) continue; // shore→ship ids are even
        const e = await this.jet.calls.get(k);
        if (!e || e.operation !== 'PUT') continue;
        const call = JSON.parse(new TextDecoder().decode(e.value)) as CallRecord;
        if (call.direction !== 'down' || call.via === 'sbd' || !call.downSubject || !this.ports.has(call.vessel) || this.sessions.has(id)) continue;
        this.open(call);
      }
    } catch {
      // server away (restart): the next scan retries
    } finally {
      this.scanning = false;
    }
  }

  private open(call: CallRecord): void {
    const id = call.sessionId;
    let acked = 0;
    let endSeq: number | undefined;
    const abort = new AbortController();
    const onAck = (ack: AckPayload) => {
      if (ack.cumulative <= acked) return;
      acked = ack.cumulative;
      const end = endSeq !== undefined && acked > endSeq;
      this.notify(id, { cumulative: acked, ...(end ? { end: true as const } : {}) });
      if (end) void this.delivered(call);
    };
    const link = new LinkSession(id, { ...this.options.link, journal: { acked: onAck } });
    this.sessions.set(id, { vessel: call.vessel, link, abort });
    this.stats.sessions++;
    const port = this.ports.get(call.vessel);
    if (port) link.attach(port);
    void (async () => {
      let next = 0;
      for await (const m of storedMessages(this.jet.js, DOWN_STREAM, call.downSubject!, abort.signal, this.options.retryMs)) {
        let frame;
        try {
          frame = decodeFrameMessage(m.data);
        } catch {
          continue;
        }
        if (frame.seq < next) continue; // stored twice
        next = frame.seq + 1;
        if (frame.payload.type === 'end') endSeq = frame.seq;
        try {
          link.send(frame);
          this.stats.framesQueued++;
        } catch {
          // backlog cap (the vessel has been away long): given up here for now; the next scan opens it again from its first frame
          abort.abort();
          link.close();
          if (this.sessions.get(id)?.link === link) this.sessions.delete(id);
          return;
        }
        if (endSeq !== undefined) return;
      }
    })();
  }

  private notify(sessionId: number, n: DeliveredNotice): void {
    try {
      this.jet.nc.publish(deliveredSubject(sessionId), JSON.stringify(n));
    } catch {
      // connection closed: the notice is advisory
    }
  }

  /** The vessel has the whole session: drop its registry entry, keep answering a while, then forget it. */
  private async delivered(call: CallRecord): Promise<void> {
    this.stats.sessionsDelivered++;
    for (let i = 0; i < 40 && !this.closed; i++) {
      try {
        await this.jet.calls.delete(sessionKey(call.sessionId));
        break;
      } catch {
        await new Promise((r) => setTimeout(r, this.options.retryMs));
      }
    }
    const t = setTimeout(() => {
      this.timers.delete(t);
      const s = this.sessions.get(call.sessionId);
      if (!s) return;
      s.abort.abort();
      s.link.close();
      this.sessions.delete(call.sessionId);
    }, this.options.lingerMs);
    t.unref?.();
    this.timers.add(t);
  }

  /** Number of shore→ship sessions held. */
  get activeSessions(): number {
    return this.sessions.size;
  }

  /** Stops everything; frames not yet acknowledged stay in JetStream for another node. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const t of this.timers) clearTimeout(t);
    for (const s of this.sessions.values()) {
      s.abort.abort();
      s.link.close();
    }
    this.sessions.clear();
  }
}
