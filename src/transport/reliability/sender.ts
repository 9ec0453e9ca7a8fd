import type { AckPayload, Frame } from '../../codec/frame/index.ts';
import { InvalidStateError, UsageError } from '../../core/errors.ts';
import { CompactPacketBuilder } from '../link-packet.ts';
import { isReliable, priorityOf, streamOf, type StreamClass } from './classes.ts';
import { LinkPacer } from './pacer.ts';

export interface ReliableSenderOptions {
  /** Link rate the sender paces itself to, bit/s (never queue more than the link carries). */
  bitsPerSecond: number;
  /**
   * A pacer shared with other senders on the same link (its rate replaces `bitsPerSecond`).
   * Default: one of its own.
   */
  pacer: LinkPacer | undefined;
  /** Largest link packet, bytes. Default 96. */
  maxPacketBytes: number;
  /** Wait this long for more frames before sending a packet that is not full, ms. Default 0. */
  batchDelayMs: number;
  initialRtoMs: number;
  /**
   * Floor of the retransmission timeout beyond the packet's own link time, ms. On a half-duplex
   * radio it must cover the peer's turnaround (its key-up, the ack, our carrier sense): the link
   * adapter's cost model sets it (src/cli/link-url.ts).
   */
  minRtoMs: number;
  /**
   * Retransmissions of a frame at the plain RTO before exponential back-off starts. A burst loss
   * takes the retransmissions with it; backing off at once made one burst cost a phrase tens of
   * seconds (issue #14), while the pacer already keeps the link from congestion.
   */
  fastRetransmits: number;
  /** The longest the peer waits before acknowledging (its ReliableReceiver ackDelayMs / quietMs), ms: part of every RTO. */
  peerAckDelayMs: number;
  /**
   * May packets name this session by its 3-bit tag (src/transport/link-packet.ts)? False when another
   * session on the same link shares the tag. Default: always.
   */
  tagUnique: () => boolean;
  /** Cap of the exponential back-off: during an outage the link is probed at least this often, ms. */
  maxRtoMs: number;
  /** Prosody detail older than this when the link gets to it is dropped (stale), ms. */
  maxProsodyAgeMs: number;
  /** Most frames waiting to be sent or acknowledged; beyond it submit() refuses. */
  maxOutstanding: number;
  /**
   * Forward error correction for the best-effort prosody detail: each detail frame is sent this
   * many times, every copy in a later packet than the one before (repetition code; the receiver
   * drops the extra copies). 1 = off (default). A lost detail frame otherwise also holds its text
   * back until a forward notice, about one round trip later.
   */
  prosodyCopies: number;
}

export const DEFAULT_RELIABLE_SENDER_OPTIONS: Readonly<ReliableSenderOptions> = Object.freeze({
  bitsPerSecond: 300,
  pacer: undefined,
  maxPacketBytes: 96,
  batchDelayMs: 0,
  initialRtoMs: 1000,
  minRtoMs: 250,
  fastRetransmits: 6,
  peerAckDelayMs: 30,
  tagUnique: () => true,
  maxRtoMs: 8000,
  maxProsodyAgeMs: 4000,
  maxOutstanding: 4096,
  prosodyCopies: 1,
});

export interface SenderStats {
  packets: number;
  /** Bits of frames put on the link per stream, retransmissions included. */
  bitsByStream: Record<StreamClass, number>;
  retransmissions: number;
  prosodyDropped: number;
  forwardNotices: number;
  /** Extra copies of prosody detail sent (FEC, {@link ReliableSenderOptions.prosodyCopies}). */
  prosodyCopiesSent: number;
}

/** Size of a frame's content (its coded bytes), for choosing the smallest probe. */
function payloadBytesOf(frame: Frame): number {
  const p = frame.payload;
  if ('coded' in p) return p.coded.length;
  if (p.type === 'speakerProfile') return p.profile.length + (p.embedding?.coded.length ?? 0);
  return 4;
}

/** Least variance margin of the RTO, ms. */
const RTO_GRANULARITY_MS = 100;

interface Outstanding {
  frame: Frame;
  submittedMs: number;
  sentMs: number;
  sends: number;
  nacked: boolean;
  /** Link time of the packet it last went in (serialization, key-up), ms: part of its RTT. */
  txMs: number;
  /** An FEC copy of a best-effort frame already sent. */
  copy?: boolean;
}

/**
 * Sender half of the reliability layer: selective-repeat ARQ over link packets. Text, speaker and
 * control frames are retransmitted until acknowledged (on NACK, on a SACK gap, on RTO with capped
 * back-off); prosody detail is sent once. Frames are batched into packets in priority order and
 * paced to the link rate. When the receiver is missing only best-effort frames, a forward notice
 * (an Ack frame from the sender: "nothing below N is coming") lets it deliver text in order.
 * Driven by the caller's clock: call {@link nextPacket} whenever {@link nextWakeMs} is due.
 */
export class ReliableSender {
  readonly options: Readonly<ReliableSenderOptions>;
  readonly stats: SenderStats = { packets: 0, bitsByStream: { text: 0, speaker: 0, prosody: 0, control: 0 }, retransmissions: 0, prosodyDropped: 0, forwardNotices: 0, prosodyCopiesSent: 0 };
  private readonly queue: Outstanding[] = [];
  private readonly unacked = new Map<number, Outstanding>();
  private readonly bestEffortSent = new Set<number>();
  private srttMs: number | undefined;
  private rttvarMs = 0;
  /** The link's pacer (shared when given in the options). */
  readonly pacer: LinkPacer;
  private peerCumulative = 0;
  private forwardSentAtMs = -Infinity;
  /** An ack showed a best-effort frame missing at the receiver: a forward notice is worth sending. */
  private forwardPending = false;
  private closed = false;
  /** The peer acknowledged something of this session: it knows the session id. */
  private peerKnowsSession = false;
  /**
   * A frame sent after the last ack timed out: like TCP after an RTO (a congestion window of one
   * segment), retransmit one frame per packet until the peer answers. During a burst loss each try
   * is then a small packet, not the whole backlog: fewer bits and less link time per try.
   */
  private probing = false;
  /** The one frame retransmitted while probing. */
  private probeSeq: number | undefined;
  private lastAckMs = -Infinity;
  private lastCumulative = 0;
  /** Times of recently acknowledged reliable frames by seq (the peer has them: a compact packet may imply them). */
  private readonly ackedTimes = new Map<number, number>();

  constructor(private readonly sessionId: number, options: Partial<ReliableSenderOptions> = {}) {
    this.options = Object.freeze({ ...DEFAULT_RELIABLE_SENDER_OPTIONS, ...options });
    this.pacer = this.options.pacer ?? new LinkPacer(this.options.bitsPerSecond);
    const c = this.options.prosodyCopies;
    if (!Number.isInteger(c) || c < 1 || c > 4) throw new UsageError(`prosodyCopies must be an integer 1..4, got ${c}`);
  }

  get rtoMs(): number {
    const o = this.options;
    if (this.srttMs === undefined) return o.initialRtoMs;
    // As QUIC's probe timeout: smoothed RTT + variance (at least a timer granularity) + the peer's ack delay.
    return Math.min(o.maxRtoMs, Math.max(o.minRtoMs, this.srttMs + Math.max(4 * this.rttvarMs, RTO_GRANULARITY_MS)) + o.peerAckDelayMs);
  }

  /** Frames not yet acknowledged or still queued. */
  get outstanding(): number {
    return this.queue.length + this.unacked.size;
  }

  /** True when everything reliable was acknowledged. */
  get idle(): boolean {
    return this.queue.length === 0 && this.unacked.size === 0;
  }

  /**
   * Idle, and no forward notice owed: the receiver is not left holding frames behind a best-effort
   * seq it will never get (a harness that stops at `idle` cut off the text queued behind a dropped
   * prosody frame, measured in hf-call).
   */
  get settled(): boolean {
    return this.idle && !this.needsForward();
  }

  /** Seqs of reliable frames still queued or waiting for their ack (the edge daemon resends them after a peer restart). */
  pendingSeqs(): Set<number> {
    const out = new Set<number>(this.unacked.keys());
    for (const q of this.queue) if (isReliable(q.frame)) out.add(q.frame.seq);
    return out;
  }

  submit(frame: Frame, nowMs: number): void {
    if (this.closed) throw new InvalidStateError('ReliableSender used after close()');
    // A link packet names one session: a frame of another would be decoded as this one's.
    if (frame.sessionId !== this.sessionId) throw new InvalidStateError(`frame of session ${frame.sessionId} submitted to the sender of session ${this.sessionId}`);
    if (this.outstanding >= this.options.maxOutstanding) throw new InvalidStateError(`more than ${this.options.maxOutstanding} frames outstanding: the link is down or too slow`);
    this.queue.push({ frame, submittedMs: nowMs, sentMs: -Infinity, sends: 0, nacked: false, txMs: 0 });
  }

  /**
   * Restores the queue of a sender that crashed (src/transport/journal/outbox.ts): `frames` (its
   * unacknowledged reliable frames, same seqs) go first, in seq order; `acknowledgedBelow` is the
   * peer's last known cumulative ack. Seqs in between that are not among `frames` were best-effort
   * detail or acknowledged out of order: a forward notice tells the receiver not to wait for them.
   */
  restore(frames: readonly Frame[], acknowledgedBelow: number, nowMs: number): void {
    if (this.closed) throw new InvalidStateError('ReliableSender used after close()');
    if (this.outstanding > 0) throw new InvalidStateError('restore() only into a new sender');
    const sorted = [...frames].sort((a, b) => a.seq - b.seq);
    this.peerCumulative = acknowledgedBelow;
    const have = new Set(sorted.map((f) => f.seq));
    const top = sorted.length ? sorted[sorted.length - 1]!.seq : acknowledgedBelow;
    for (let s = acknowledgedBelow; s < top; s++) if (!have.has(s)) this.bestEffortSent.add(s);
    if (this.bestEffortSent.size > 0) this.forwardPending = true;
    for (const frame of sorted) this.queue.push({ frame, submittedMs: nowMs, sentMs: -Infinity, sends: 0, nacked: false, txMs: 0 });
  }

  onAck(ack: AckPayload, nowMs: number): void {
    this.peerCumulative = Math.max(this.peerCumulative, ack.cumulative);
    this.peerKnowsSession = true;
    const before = this.unacked.size;
    // One RTT sample per ack, from the newest frame it acknowledges that was sent once (Karn): an ack
    // that follows lost acks also covers frames sent long before, whose waits are not round trips.
    let sample = Infinity;
    const acked = (seq: number) => {
      const o = this.unacked.get(seq);
      if (!o) return;
      if (o.sends === 1) sample = Math.min(sample, Math.max(0, nowMs - o.sentMs - o.txMs));
      this.unacked.delete(seq);
      this.ackedTimes.set(seq, o.frame.time);
      if (this.ackedTimes.size > 64) this.ackedTimes.delete(this.ackedTimes.keys().next().value!);
    };
    for (const seq of [...this.unacked.keys()]) if (seq < ack.cumulative) acked(seq);
    for (let i = 0; i < 64; i++) if ((ack.sack >> BigInt(i)) & 1n) acked(ack.cumulative + 1 + i);
    if (sample < Infinity) this.rttSample(sample);
    // Probing ends when the peer makes progress, not on any ack: on a busy half-duplex channel stale
    // acks keep arriving while our packets queue behind the peer's, and resending the whole backlog
    // on each of them collapsed the channel (measured in sim --link kiss-1200).
    if (this.unacked.size < before || ack.cumulative > this.lastCumulative) {
      this.probing = false;
      this.probeSeq = undefined;
      this.lastAckMs = nowMs;
    }
    this.lastCumulative = Math.max(this.lastCumulative, ack.cumulative);
    for (const s of [...this.bestEffortSent]) if (s < ack.cumulative) this.bestEffortSent.delete(s);
    // A best-effort frame is known missing when NACKed or when a later seq was SACKed.
    let highestSacked = -1;
    for (let i = 63; i >= 0; i--) if ((ack.sack >> BigInt(i)) & 1n) { highestSacked = ack.cumulative + 1 + i; break; }
    for (const s of this.bestEffortSent) {
      const sacked = s > ack.cumulative && s - ack.cumulative - 1 < 64 && ((ack.sack >> BigInt(s - ack.cumulative - 1)) & 1n) === 1n;
      if (ack.nack.includes(s) || (!sacked && s < highestSacked)) this.forwardPending = true;
    }
    for (const seq of ack.nack) {
      const o = this.unacked.get(seq);
      // Ignore a NACK for a copy that cannot have arrived yet: sent less than its own link time and half an RTT ago.
      if (o && nowMs - o.sentMs - o.txMs > (this.srttMs ?? this.options.initialRtoMs) / 2) o.nacked = true;
    }
  }

  /**
   * The link's pump knows that reliable frames sent at or before `sentAtOrBeforeMs` are lost (on a
   * half-duplex turn link: the peer answered our whole turn without acknowledging them): they go
   * again with the next packet, without waiting for their RTO.
   */
  declareLost(sentAtOrBeforeMs: number): void {
    for (const o of this.unacked.values()) if (o.sentMs <= sentAtOrBeforeMs) o.nacked = true;
  }

  private rttSample(ms: number): void {
    if (this.srttMs === undefined) {
      this.srttMs = ms;
      this.rttvarMs = ms / 2;
    } else {
      this.rttvarMs = 0.75 * this.rttvarMs + 0.25 * Math.abs(this.srttMs - ms);
      this.srttMs = 0.875 * this.srttMs + 0.125 * ms;
    }
  }

  /** Priority of the packet we would send now (lower = more urgent; see priorityOf), for the shared pacer. */
  private urgency(nowMs: number): number {
    let p = 3;
    for (const o of this.unacked.values()) if (this.retransmitDue(o, nowMs)) p = Math.min(p, priorityOf(o.frame));
    for (const q of this.queue) p = Math.min(p, priorityOf(q.frame));
    return this.needsForward() ? Math.min(p, 0) : p;
  }

  /** When `o` is due for retransmission: its packet's link time + RTO, backing off (capped) after the fast retransmissions. */
  private dueAtMs(o: Outstanding): number {
    return o.sentMs + o.txMs + Math.min(this.options.maxRtoMs, this.rtoMs * 2 ** Math.max(0, o.sends - 1 - this.options.fastRetransmits));
  }

  private retransmitDue(o: Outstanding, nowMs: number): boolean {
    // Same expression as nextWakeMs (timerOf) so float rounding cannot make them disagree.
    return nowMs >= this.timerOf(o, nowMs);
  }

  /** When `o` must go again: now when NACKed, else its RTO; while probing only the probe frame has a timer. */
  private timerOf(o: Outstanding, nowMs: number): number {
    const probe = this.probeSeq !== undefined ? this.unacked.get(this.probeSeq) : undefined;
    if (probe && o !== probe) return Infinity;
    return o.nacked ? nowMs : this.dueAtMs(o);
  }

  /** Lowest seq the receiver may still get from us: everything below it is acked or abandoned. */
  private forwardPoint(): number {
    let min = Infinity;
    for (const s of this.unacked.keys()) min = Math.min(min, s);
    for (const q of this.queue) min = Math.min(min, q.frame.seq);
    return min === Infinity ? Math.max(this.peerCumulative, ...this.bestEffortSent, -1) + 1 : min;
  }

  /** When to call {@link nextPacket} next (undefined: nothing to do until new frames or acks). */
  nextWakeMs(nowMs: number): number | undefined {
    if (this.queue.length > 0) {
      const oldest = Math.min(...this.queue.map((q) => q.submittedMs));
      return Math.max(this.pacer.freeAtMs, oldest + this.options.batchDelayMs, nowMs);
    }
    let t = Infinity;
    for (const o of this.unacked.values()) t = Math.min(t, this.timerOf(o, nowMs));
    if (this.needsForward()) t = Math.min(t, Math.max(nowMs, this.forwardSentAtMs + this.rtoMs));
    return t === Infinity ? undefined : Math.max(t, this.pacer.freeAtMs);
  }

  private needsForward(): boolean {
    if (!this.forwardPending) return false;
    const fp = this.forwardPoint();
    return fp > this.peerCumulative && [...this.bestEffortSent].some((s) => s >= this.peerCumulative && s < fp);
  }

  /**
   * Builds the next packet if one is due at `nowMs` (pacing, batching, RTO), else undefined. `ack`:
   * our receiver's acknowledgement for the peer, piggybacked in the packet's header when one goes.
   */
  nextPacket(nowMs: number, ack?: AckPayload): Uint8Array | undefined {
    if (this.closed || !this.pacer.mayStart(this, nowMs, this.urgency(nowMs))) return undefined;
    const retransmits = [...this.unacked.values()].filter((o) => this.retransmitDue(o, nowMs)).sort((a, b) => a.frame.seq - b.frame.seq);
    const batchReady = this.queue.some((q) => nowMs >= q.submittedMs + this.options.batchDelayMs);
    // Drop stale prosody before it wastes the link.
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const q = this.queue[i]!;
      if (!isReliable(q.frame) && nowMs - q.submittedMs > this.options.maxProsodyAgeMs) {
        this.queue.splice(i, 1);
        this.stats.prosodyDropped++;
        // Never sent: the receiver waits for its seq until a forward notice says it is not coming.
        this.bestEffortSent.add(q.frame.seq);
        this.forwardPending = true;
      }
    }
    // A frame sent after the last ack timed out (not NACKed): nothing gets through; probe with one frame.
    if (!this.probing && retransmits.some((o) => !o.nacked && o.sentMs >= this.lastAckMs)) this.probing = true;
    // (New frames still go: when it is the acks that are lost, the peer delivers them meanwhile.)
    const fresh = batchReady ? [...this.queue].sort((a, b) => priorityOf(a.frame) - priorityOf(b.frame) || a.frame.seq - b.frame.seq) : [];
    // The probe is the smallest due frame: its ack (with the SACK) then brings the rest at once.
    const probe = this.probing ? [...retransmits].sort((a, b) => payloadBytesOf(a.frame) - payloadBytesOf(b.frame))[0] : undefined;
    if (probe) this.probeSeq = probe.frame.seq;
    const candidates = [...(this.probing ? (probe ? [probe] : []) : retransmits), ...fresh];
    // Name the session in full until the peer has acknowledged it, when its tag is shared, and once
    // the fast retransmissions of a frame failed (the peer may have lost its state: a restart).
    const lost = (o: Outstanding) => o.sends > this.options.fastRetransmits;
    const explicitSession = !this.peerKnowsSession || !this.options.tagUnique() || candidates.some(lost);
    const builder = new CompactPacketBuilder(this.sessionId, this.options.maxPacketBytes, { explicitSession, ...(ack ? { ack } : {}) });
    const chosen: Outstanding[] = [];
    const sizes: number[] = [];
    for (const o of candidates) {
      // The first frame's time is implied when the peer has acknowledged the frame before it with the same time.
      const implied = chosen.length === 0 && !lost(o) ? this.ackedTimes.get(o.frame.seq - 1) : undefined;
      const n = builder.tryAdd(o.frame, implied);
      if (n === 0) break;
      chosen.push(o);
      sizes.push(n);
    }
    const forward = this.needsForward() && nowMs >= this.forwardSentAtMs + this.rtoMs;
    if (forward) {
      const fp = this.forwardPoint();
      // Never seq 0: an Ack with seq 0 is an acknowledgement, with seq > 0 a forward notice.
      const seq = Math.max(1, chosen.length ? chosen[chosen.length - 1]!.frame.seq + 1 : fp);
      if (builder.tryAdd({ version: 1, sessionId: this.sessionId, seq, time: chosen[chosen.length - 1]?.frame.time ?? 0, payload: { type: 'ack', cumulative: fp, sack: 0n, nack: [] } })) {
        this.forwardSentAtMs = nowMs;
        this.forwardPending = false;
        this.stats.forwardNotices++;
      }
    }
    if (builder.frames.length === 0) {
      this.pacer.leave(this);
      return undefined;
    }
    const bytes = builder.finish();
    const txMs = this.pacer.chargePacket(bytes.length, nowMs, this);
    const copies: Outstanding[] = [];
    for (const o of chosen) {
      const i = this.queue.indexOf(o);
      if (i >= 0) this.queue.splice(i, 1);
      if (o.copy) this.stats.prosodyCopiesSent++;
      else if (o.sends > 0) this.stats.retransmissions++;
      o.sends++;
      o.sentMs = nowMs;
      o.txMs = txMs;
      o.nacked = false;
      if (isReliable(o.frame)) this.unacked.set(o.frame.seq, o);
      else {
        this.bestEffortSent.add(o.frame.seq);
        // FEC: the next copy waits for a later packet (queued after this one is built).
        if (o.sends < this.options.prosodyCopies) copies.push({ ...o, copy: true });
      }
    }
    this.queue.push(...copies);
    // Every bit of the packet is charged: each frame (with its framing) to its stream, the rest
    // (packet header, piggybacked ack, forward notices) to control.
    let framed = 0;
    chosen.forEach((o, i) => {
      this.stats.bitsByStream[streamOf(o.frame)] += sizes[i]! * 8;
      framed += sizes[i]! * 8;
    });
    this.stats.bitsByStream.control += bytes.length * 8 - framed;
    this.stats.packets++;
    return bytes;
  }

  /** Idempotent. */
  close(): void {
    this.closed = true;
    this.pacer.leave(this);
  }
}
