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

export interface LinkSessionOptions {
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
  private readonly cost: PacketCostModel | undefined;

  constructor(private readonly sessionId: number, options: Partial<LinkSessionOptions> = {}) {
    this.sender = new ReliableSender(sessionId, options.sender);
    this.receiver = new ReliableReceiver(options.receiver);
    this.cost = options.cost;
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
    const now = this.now();
    const { frames, ack, reject } = decodeForSession(bytes, this.sessionId, (seq) => this.receiver.timeOf(seq));
    if (reject) this.rejects[reject]++;
    if (ack) this.sender.onAck(ack, now);
    // Ack frames with seq 0 acknowledge our frames; an Ack with seq > 0 inside a data packet is the
    // peer sender's forward notice and goes to our receiver.
    for (const f of frames) if (f.payload.type === 'ack' && f.seq === 0) this.sender.onAck(f.payload, now);
    const data = frames.filter((f) => f.payload.type !== 'ack' || f.seq !== 0);
    for (const f of this.receiver.accept(data, now)) await this.delivered.push(f);
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
