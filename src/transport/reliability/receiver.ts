import type { AckPayload, Frame } from '../../codec/frame/index.ts';
import { isReliable } from './classes.ts';

export interface ReliableReceiverOptions {
  /** Most out-of-order frames held while waiting for a gap to fill. */
  maxReorderFrames: number;
  /** Delay before acknowledging in-order data (acks are batched), ms. */
  ackDelayMs: number;
  /** Acknowledge at once when this many packets with new data arrived since the last ack. */
  ackEveryPackets: number;
  /**
   * Half-duplex courtesy: never ack sooner than this long after the last packet arrived (the peer
   * may still be mid-burst; the ack then goes after its transmission, one for the whole burst), ms.
   * 0 on full-duplex links.
   */
  quietMs: number;
  /**
   * Acknowledge a delivered frame only once the application confirmed it ({@link ReliableReceiver.confirm}),
   * e.g. once it is stored elsewhere (the shore gateway: in JetStream), and never selectively
   * acknowledge what is not confirmed: a crash of this process then loses nothing the peer
   * believes delivered (it resends). Default false: delivered = acknowledged.
   */
  confirmDelivery: boolean;
}

export const DEFAULT_RELIABLE_RECEIVER_OPTIONS: Readonly<ReliableReceiverOptions> = Object.freeze({
  maxReorderFrames: 1024,
  ackDelayMs: 30,
  ackEveryPackets: 4,
  quietMs: 0,
  confirmDelivery: false,
});

/** How many recent seqs' times the receiver remembers (a compact packet's implied time, src/transport/link-packet.ts). */
const TIMES_KEPT = 256;

export interface ReceiverStats {
  framesIn: number;
  duplicates: number;
  reorderOverflow: number;
  staleBestEffort: number;
  acksSent: number;
}

/**
 * Receiver half of the reliability layer: drops duplicates, delivers reliable frames strictly in
 * seq order (holding later ones in a bounded buffer), hands best-effort prosody detail over at once
 * (or drops it when its phrase was already delivered), honours the sender's forward notices, and
 * produces Ack payloads (cumulative + 64-bit SACK + NACKs) when one is due.
 */
export class ReliableReceiver {
  readonly options: Readonly<ReliableReceiverOptions>;
  readonly stats: ReceiverStats = { framesIn: 0, duplicates: 0, reorderOverflow: 0, staleBestEffort: 0, acksSent: 0 };
  private nextSeq = 0;
  /** Frames at or beyond nextSeq; null = received and already handed over (best effort). */
  private readonly held = new Map<number, Frame | null>();
  private forwardTo = 0;
  private ackDueAtMs: number | undefined;
  private highestSeen = -1;
  private lastArrivalMs = -Infinity;
  private packetsSinceAck = 0;
  /** Time of each recently received frame by seq. */
  private readonly times = new Map<number, number>();
  /** With confirmDelivery: seqs of delivered reliable frames not yet confirmed, in order. */
  private readonly unconfirmed: number[] = [];
  /** First arrival of recent reliable frames by seq (at most 256), to time the peer's resends. */
  private readonly arrivals = new Map<number, number>();
  private resendGapMs = 0;

  constructor(options: Partial<ReliableReceiverOptions> = {}) {
    this.options = Object.freeze({ ...DEFAULT_RELIABLE_RECEIVER_OPTIONS, ...options });
  }

  /** Next seq to deliver: every seq below it is delivered or known abandoned. */
  get cumulative(): number {
    return this.nextSeq;
  }

  /**
   * Longest time between a reliable frame's first arrival and its repeat, ms (0: none repeated):
   * how long the peer waits before resending when our ack was lost (its retransmission timeout, as
   * this link makes it; about 9 s at 300 bd). A receiver that lingers after the End to answer a
   * resend must wait at least about that long.
   */
  get peerResendGapMs(): number {
    return this.resendGapMs;
  }

  /** What our acks announce: {@link cumulative}, or with confirmDelivery the first delivered frame not yet confirmed. */
  get acknowledgedBelow(): number {
    return this.unconfirmed.length ? this.unconfirmed[0]! : this.nextSeq;
  }

  /** (confirmDelivery) The application has made every delivered frame up to `seq` safe: they may be acknowledged. */
  confirm(seq: number, nowMs: number): void {
    let n = 0;
    while (n < this.unconfirmed.length && this.unconfirmed[n]! <= seq) n++;
    if (n === 0) return;
    this.unconfirmed.splice(0, n);
    this.scheduleAck(nowMs, this.unconfirmed.length ? this.options.ackDelayMs : 0);
  }

  /**
   * The frames the last {@link accept} took (not duplicates, not dropped): what a durable receiver
   * journals before its ack can acknowledge them; feeding the same batches to a fresh receiver
   * rebuilds this one's state (src/transport/journal/inbox.ts).
   */
  get lastAccepted(): readonly Frame[] {
    return this.taken;
  }

  private taken: Frame[] = [];

  /** Takes the frames of one packet; returns the frames now deliverable, in order. */
  accept(frames: readonly Frame[], nowMs: number): Frame[] {
    this.lastArrivalMs = nowMs;
    const out: Frame[] = [];
    const taken: Frame[] = [];
    this.taken = taken;
    let gap = false;
    let news = 0; // frames that were not duplicates
    for (const f of frames) {
      this.stats.framesIn++;
      if (f.payload.type !== 'ack' && (f.seq < this.nextSeq || this.held.has(f.seq))) {
        // Duplicate. A repeated reliable frame means our ack may have been lost: repeat it soon.
        // (Repeated best-effort frames are FEC copies, sent without waiting for an ack.)
        this.stats.duplicates++;
        if (!isReliable(f)) this.stats.staleBestEffort++;
        else {
          const first = this.arrivals.get(f.seq);
          if (first !== undefined) this.resendGapMs = Math.max(this.resendGapMs, nowMs - first);
          this.scheduleAck(nowMs, 0);
        }
        continue;
      }
      news++;
      if (f.payload.type === 'ack') {
        taken.push(f);
        // A forward notice from the sender: nothing below `cumulative` will come any more.
        this.forwardTo = Math.max(this.forwardTo, f.payload.cumulative);
        continue;
      }
      if (this.held.size >= this.options.maxReorderFrames) {
        this.stats.reorderOverflow++;
        continue;
      }
      taken.push(f);
      if (isReliable(f)) {
        this.arrivals.set(f.seq, nowMs);
        if (this.arrivals.size > 256) this.arrivals.delete(this.arrivals.keys().next().value as number);
      }
      this.highestSeen = Math.max(this.highestSeen, f.seq);
      this.times.set(f.seq, f.time);
      if (f.seq > this.nextSeq) gap = true;
      if (isReliable(f)) this.held.set(f.seq, f);
      else {
        this.held.set(f.seq, null);
        out.push(f);
      }
    }
    while (this.held.has(this.nextSeq) || this.nextSeq < this.forwardTo) {
      const f = this.held.get(this.nextSeq);
      if (f) {
        out.push(f);
        if (this.options.confirmDelivery) this.unconfirmed.push(f.seq);
      }
      this.held.delete(this.nextSeq);
      this.nextSeq++;
    }
    for (const k of this.times.keys()) {
      if (k >= this.nextSeq - TIMES_KEPT) break; // (insertion order ~ seq order)
      this.times.delete(k);
    }
    if (news > 0) {
      this.packetsSinceAck++;
      this.scheduleAck(nowMs, gap || this.packetsSinceAck >= this.options.ackEveryPackets ? 0 : this.options.ackDelayMs);
    }
    // Half duplex: an ack already due waits until the peer has been quiet for a while.
    if (this.ackDueAtMs !== undefined && this.options.quietMs > 0) this.ackDueAtMs = Math.max(this.ackDueAtMs, nowMs + this.options.quietMs);
    return out;
  }

  /** The time of frame `seq` if it was received recently (a compact packet's implied time). */
  timeOf(seq: number): number | undefined {
    return this.times.get(seq);
  }

  /** Asks for an ack now (e.g. after a reconnect, so the peer learns what to resend). */
  requestAck(nowMs: number): void {
    this.scheduleAck(nowMs, 0);
  }

  private scheduleAck(nowMs: number, delayMs: number): void {
    const at = Math.max(nowMs + delayMs, this.lastArrivalMs + this.options.quietMs);
    this.ackDueAtMs = this.ackDueAtMs === undefined ? at : Math.min(this.ackDueAtMs, at);
  }

  /** When an ack is due (undefined: none pending). */
  get ackDueMs(): number | undefined {
    return this.ackDueAtMs;
  }

  /** The ack to send now, or undefined when none is due. */
  takeAck(nowMs: number): AckPayload | undefined {
    if (this.ackDueAtMs === undefined || nowMs < this.ackDueAtMs) return undefined;
    this.ackDueAtMs = undefined;
    this.packetsSinceAck = 0;
    let sack = 0n;
    const nack: number[] = [];
    // With confirmDelivery nothing beyond the confirmed point is safe: no selective acks.
    if (!this.options.confirmDelivery) for (let i = 0; i < 64; i++) if (this.held.has(this.nextSeq + 1 + i)) sack |= 1n << BigInt(i);
    for (let s = this.nextSeq; s < this.highestSeen && nack.length < 16; s++) if (!this.held.has(s)) nack.push(s);
    this.stats.acksSent++;
    return { type: 'ack', cumulative: this.acknowledgedBelow, sack, nack };
  }
}
