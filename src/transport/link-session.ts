import type { AckPayload, Frame } from '../codec/frame/index.ts';
import { BoundedQueue } from '../core/queue.ts';
import { InvalidStateError } from '../core/errors.ts';
import { ackPacket, decodeForSession } from './link-packet.ts';
import type { PacketCostModel } from './links/types.ts';
import { ReliableReceiver, ReliableSender, type ReliableReceiverOptions, type ReliableSenderOptions } from './reliability/index.ts';

/** A datagram-like carrier for link packets (a WebSocket, the emulator, a radio modem). */
export interface PacketPort {
  /** Puts a packet on the carrier; may return the bytes that took on the wire (e.g. sealed, larger). */
  send(packet: Uint8Array): void | number;
  /** False while disconnected: packets are not offered then (the ARQ resends later). */
  readonly connected: boolean;
}

/**
 * Durable state hooks (issue #16 item 5; src/transport/journal). Each is called synchronously at
 * the point where it must be durable, and throws to refuse.
 */
export interface SessionJournal {
  /** A frame the application hands over, before it is queued: make it durable (OutboxJournal.append). */
  append?(frame: Frame): void;
  /** An acknowledgement from the peer, after the sender took it (OutboxJournal.acked). */
  acked?(ack: AckPayload): void;
  /** Frames the receiver took from one packet, before any ack can cover them (InboxJournal.accept). */
  accepted?(frames: readonly Frame[]): void;
}

export interface LinkSessionOptions {
  /** Durable outbox / receiver state; none by default (a restart then loses what was in flight). */
  journal: SessionJournal | undefined;
  sender: Partial<ReliableSenderOptions>;
  receiver: Partial<ReliableReceiverOptions>;
  /** The link's cost model: wire bytes (when the port does not report them) and airtime of what we send. */
  cost: PacketCostModel | undefined;
  /** Capacity of the delivered-frames queue (the application reads from it). */
  deliverCapacity: number;
  now: () => number;
}

/**
 * One end of the live link in real time: frames to send go through the ARQ sender, packets that
 * arrive feed the ARQ receiver, timers drive retransmission and delayed acks. The receiver state
 * outlives the carrier, so a reconnect resumes the session: the peer's first ack tells the sender
 * what is missing, nothing is delivered twice and nothing already acknowledged is resent.
 */
export class LinkSession {
  readonly sender: ReliableSender;
  readonly receiver: ReliableReceiver;
  /** Packets that could not be used: malformed, or a compact packet whose implied time we lack (the peer resends in full). */
  readonly rejects = { malformed: 0, unresolved: 0 };
  private readonly delivered: BoundedQueue<Frame>;
  private timer: NodeJS.Timeout | undefined;
  private port: PacketPort | undefined;
  private closed = false;
  private readonly now: () => number;
  /** Bits we put on the link / took in, as the port or the cost model reports them (link headers included). */
  bitsOut = 0;
  bitsIn = 0;
  /** Channel time of what we sent, ms (from the cost model; 0 without one). */
  airtimeMsOut = 0;
  /** When the last packet from the peer arrived (performance.now() clock; -Infinity before any). */
  lastPacketAtMs = -Infinity;
  private readonly cost: PacketCostModel | undefined;
  private readonly journal: SessionJournal | undefined;
  /** Why the session stopped by itself (a journal that refused a write): the delivered stream ended with it. */
  failure: Error | undefined;

  constructor(private readonly sessionId: number, options: Partial<LinkSessionOptions> = {}) {
    this.sender = new ReliableSender(sessionId, options.sender);
    this.receiver = new ReliableReceiver(options.receiver);
    this.cost = options.cost;
    this.journal = options.journal;
    this.delivered = new BoundedQueue<Frame>({ capacity: options.deliverCapacity ?? 4096, overflow: 'block' });
    this.now = options.now ?? (() => performance.now());
  }

  /** Attaches (or re-attaches after a reconnect) the carrier, and announces our state with an ack. */
  attach(port: PacketPort): void {
    this.port = port;
    this.forceAck();
    this.pump();
  }

  detach(): void {
    this.port = undefined;
  }

  private forceAck(): void {
    this.receiver.requestAck(this.now());
  }

  /** Queues a frame for reliable (or best-effort, for prosody) delivery. */
  send(frame: Frame): void {
    if (this.closed) throw new InvalidStateError('LinkSession used after close()');
    this.journal?.append?.(frame);
    this.sender.submit(frame, this.now());
    this.pump();
  }

  /**
   * Handles one packet from the peer (`wireBytes`: what it took on the wire, if more, e.g. sealed). Calls are serialized: a packet's frames are all handed over
   * before the next packet's (the delivery queue may make a hand-over wait, and two packets arriving
   * close together must not interleave their in-order frames).
   */
  onPacket(bytes: Uint8Array, wireBytes = bytes.length): Promise<void> {
    const run = this.inbound.then(() => this.handlePacket(bytes, wireBytes));
    this.inbound = run.catch(() => {});
    return run;
  }

  private inbound: Promise<void> = Promise.resolve();

  private async handlePacket(bytes: Uint8Array, wireBytes: number): Promise<void> {
    if (this.closed) return;
    this.bitsIn += wireBytes * 8;
    this.lastPacketAtMs = performance.now();
    const now = this.now();
    const { frames, ack, reject } = decodeForSession(bytes, this.sessionId, (seq) => this.receiver.timeOf(seq));
    if (reject) this.rejects[reject]++;
    if (ack) this.takeAck(ack, now);
    // Ack frames with seq 0 acknowledge our frames; an Ack with seq > 0 inside a data packet is the
    // peer sender's forward notice and goes to our receiver.
    for (const f of frames) if (f.payload.type === 'ack' && f.seq === 0) this.takeAck(f.payload, now);
    const data = frames.filter((f) => f.payload.type !== 'ack' || f.seq !== 0);
    const deliver = this.receiver.accept(data, now);
    if (this.journal?.accepted && this.receiver.lastAccepted.length > 0) {
      try {
        this.journal.accepted(this.receiver.lastAccepted);
      } catch (err) {
        // Not durable, so never acknowledged: stop here (the peer keeps the frames and resends them to the next run).
        this.fail(err as Error);
        return;
      }
    }
    for (const f of deliver) await this.delivered.push(f);
    this.pump();
  }

  private takeAck(ack: AckPayload, now: number): void {
    this.sender.onAck(ack, now);
    try {
      this.journal?.acked?.(ack);
    } catch {
      // An ack that did not reach the journal only means those frames are resent after a crash (the peer drops them).
      this.journalAckFailures++;
    }
  }

  /** Acks the journal could not record (their frames would be resent after a crash, harmlessly). */
  journalAckFailures = 0;

  private fail(err: Error): void {
    this.failure = err;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.sender.close();
    this.delivered.end(err);
  }

  /**
   * Restores the receiver of a restarted process from its journal (InboxJournal.accepted(): the
   * batches it took, in order) before attaching; returns the frames it had delivered, in order,
   * which the application replays (the session decoder needs them all).
   */
  restoreReceiver(batches: readonly (readonly Frame[])[]): Frame[] {
    const out: Frame[] = [];
    const now = this.now();
    for (const b of batches) out.push(...this.receiver.accept(b, now));
    return out;
  }

  /** Restores the sender of a restarted process (OutboxJournal.pending(), acknowledgedBelow): those frames go again, same seqs. */
  restoreSender(frames: readonly Frame[], acknowledgedBelow: number): void {
    this.sender.restore(frames, acknowledgedBelow, this.now());
    this.pump();
  }

  /**
   * With `receiver.confirmDelivery`: every frame delivered up to `seq` is safe (e.g. stored), so
   * the peer may now be told it arrived.
   */
  confirm(seq: number): void {
    if (this.closed) return;
    this.receiver.confirm(seq, this.now());
    this.pump();
  }

  /** Frames from the peer, in order (prosody detail as soon as it arrives). */
  frames(): AsyncIterable<Frame> {
    return this.delivered;
  }

  private pump(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const now = this.now();
    const port = this.port;
    if (port?.connected) {
      let ack = this.receiver.takeAck(now);
      for (let i = 0; i < 64; i++) {
        // Our acknowledgement rides in the first data packet that goes (piggybacked).
        const p = this.sender.nextPacket(now, ack);
        if (!p) break;
        ack = undefined;
        this.account(p, port.send(p));
      }
      if (ack) {
        const bytes = ackPacket(this.sessionId, ack, !this.sender.options.tagUnique());
        this.account(bytes, port.send(bytes));
        this.sender.pacer.chargePacket(bytes.length, now); // acks take link time too
      }
    }
    const wake = [this.sender.nextWakeMs(now), this.receiver.ackDueMs].filter((t): t is number => t !== undefined);
    if (wake.length) {
      const delay = Math.max(5, Math.min(...wake) - now);
      this.timer = setTimeout(() => this.pump(), Math.min(delay, 10_000));
      this.timer.unref?.();
    }
  }

  private account(packet: Uint8Array, wire: void | number): void {
    const c = this.cost?.packetCost(packet.length);
    this.bitsOut += (typeof wire === 'number' ? wire : (c?.wireBytes ?? packet.length)) * 8;
    this.airtimeMsOut += c?.airtimeMs ?? 0;
  }

  /** Ends the delivered stream; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.sender.close();
    this.delivered.end();
  }
}
