import { WebSocket } from 'ws';
import { decodeItemBody, newFrameContext, readItemHeader } from '../codec/frame/index.ts';
import { isCompactPacket, packetRoute, readCompactHeader, resolveRoute, sessionTagOf } from '../transport/link-packet.ts';
import { TransportError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { LinkEmulator, type LinkOptions } from '../transport/emulator.ts';
import type { LinkSession, PacketPort } from '../transport/link-session.ts';
import { LinkPacer } from '../transport/reliability/pacer.ts';
import { streamOf } from '../transport/reliability/index.ts';
import { type AggregatedLog, CLOSE_REKEY, connectSecureNoise, PROTECTION_OVERHEAD_BYTES, type KeyPair, type PeerSecrets, type RejectReason, type SecureConnection } from '../transport/secure/index.ts';
import { arqTuning } from '../transport/links/arq-tuning.ts';
import { linkKindOf } from '../transport/links/connect.ts';
import type { PacketCostModel } from '../transport/links/types.ts';
import { noisePskOf } from '../transport/secure/index.ts';
import type { SecureDatagramLink } from '../transport/secure/index.ts';
import type { PeerConfig } from './config.ts';
import { dialDatagramPeer, DatagramPeerConnection } from './datagram-peer.ts';

/** A peer's authenticated connection: a WebSocket (SecureConnection) or a datagram link's handshake. */
export type PeerConnection = SecureConnection | DatagramPeerConnection;

/** Where the bits of a link packet go: the four stream classes plus the packet protection. */
export type WireClass = 'text' | 'speaker' | 'prosody' | 'control' | 'overhead';
export const WIRE_CLASSES: readonly WireClass[] = ['text', 'speaker', 'prosody', 'control', 'overhead'];

export type PeerState = 'connected' | 'connecting' | 'disconnected';

/** Counters of one peer link (monotonic since the daemon started). */
export interface PeerCounters {
  bitsOut: Record<WireClass, number>;
  bitsIn: Record<WireClass, number>;
  packetsOut: number;
  packetsIn: number;
  /** Packets the emulated link dropped (loss, outage, queue), when an emulator is configured. */
  packetsLostOut: number;
  /** Gaps in the peer's packet numbers: packets lost on the way to us. */
  packetsLostIn: number;
  rejected: Record<RejectReason | 'auth', number>;
  connects: number;
  peerRestarts: number;
}

const zeroBits = (): Record<WireClass, number> => ({ text: 0, speaker: 0, prosody: 0, control: 0, overhead: 0 });

/** Per-frame bits of a link packet (full or compact) by stream class (acks and packet headers are control). Never throws. */
export function classifyPacket(bytes: Uint8Array, into: Record<WireClass, number>): void {
  const ctx = newFrameContext();
  let pos = 0;
  try {
    if (isCompactPacket(bytes)) {
      const h = readCompactHeader(bytes);
      // Only the frames' sizes matter here: any session id and time decode them.
      Object.assign(ctx, { sessionId: h.sessionId ?? 0, nextSeq: h.seq0 ?? 0, time: h.time ?? 0 });
      into.control += h.itemsOffset * 8;
      pos = h.itemsOffset;
    }
    while (pos < bytes.length) {
      const p = readItemHeader(bytes, pos);
      if (!p || pos + p.headerBytes + p.length > bytes.length) break;
      const frame = decodeItemBody(p, bytes.subarray(pos + p.headerBytes, pos + p.headerBytes + p.length), ctx);
      into[streamOf(frame)] += (p.headerBytes + p.length) * 8;
      pos += p.headerBytes + p.length;
    }
  } catch {
    // counted as control below
  }
  into.control += (bytes.length - pos) * 8;
}

/** Seqs of the frames in a link packet (full or compact). Never throws. */
export function frameSeqsOf(bytes: Uint8Array): number[] {
  const ctx = newFrameContext();
  const seqs: number[] = [];
  let pos = 0;
  try {
    if (isCompactPacket(bytes)) {
      const h = readCompactHeader(bytes);
      Object.assign(ctx, { sessionId: h.sessionId ?? 0, nextSeq: h.seq0 ?? 0, time: h.time ?? 0 });
      pos = h.itemsOffset;
    }
    while (pos < bytes.length) {
      const p = readItemHeader(bytes, pos);
      if (!p || pos + p.headerBytes + p.length > bytes.length) break;
      seqs.push(decodeItemBody(p, bytes.subarray(pos + p.headerBytes, pos + p.headerBytes + p.length), ctx).seq);
      pos += p.headerBytes + p.length;
    }
  } catch {
    // what was read so far
  }
  return seqs;
}

export interface PeerLinkOptions {
  peer: PeerConfig;
  /** This node's name (sent when dialing). */
  node: string;
  secrets: PeerSecrets;
  instanceId: Uint8Array;
  /** This node's static Noise key. */
  staticKey?: KeyPair;
  /** This peer is accepted on a udp:// listener (pacing by the UDP cost model). */
  listensOverDatagrams?: boolean;
  /** Emulated link applied to every packet we send to this peer. */
  emulator?: Partial<LinkOptions>;
  maxMessageBytes: number;
  log: Logger;
  /** Where rejected packets are noted (rate-limited, aggregated: a forger cannot flood the log). */
  refusals?: AggregatedLog;
  /** A session id of the peer's parity we have not seen: the peer started a call. */
  onIncomingSession: (sessionId: number) => LinkSession | undefined;
  /** The peer came back with a new process id: its sessions are gone (called before re-attaching). */
  onPeerRestart: () => void;
  onState?: (state: PeerState) => void;
}

/**
 * The link to one remote edge box: one authenticated, encrypted WebSocket (dialed by us when the
 * peer has a url, else accepted from it) that carries every call in both directions. Link packets
 * are routed to LinkSessions by the session id in their first frame; the dialing side numbers its
 * sessions odd, the accepting side even, so ids never collide. LinkSessions outlive the socket:
 * a reconnect re-attaches them and the ARQ resumes.
 */
export class PeerLink {
  readonly name: string;
  readonly counters: PeerCounters = { bitsOut: zeroBits(), bitsIn: zeroBits(), packetsOut: 0, packetsIn: 0, packetsLostOut: 0, packetsLostIn: 0, rejected: { malformed: 0, tamper: 0, replay: 0, auth: 0 }, connects: 0, peerRestarts: 0 };
  private readonly sessions = new Map<number, LinkSession>();
  private conn: PeerConnection | undefined;
  /** The datagram link this side dials (udp://, kiss): it retries and rekeys by itself. */
  private datagram: SecureDatagramLink | undefined;
  private datagramOpening = false;
  private remoteInstance: string | undefined;
  private readonly emulator: LinkEmulator | undefined;
  private readonly t0 = performance.now();
  private readonly timers = new Set<NodeJS.Timeout>();
  private dialTimer: NodeJS.Timeout | undefined;
  private dialSocket: WebSocket | undefined;
  private closed = false;
  private stateValue: PeerState = 'disconnected';
  private lostInBase = 0;
  private retransmissionsClosed = 0;
  private backoffMs = 250;
  /** Per session, the packet being handled (packets of a session are handled one at a time). */
  private readonly inbound = new Map<LinkSession, Promise<void>>();
  /** The port every LinkSession of this peer is attached to. */
  readonly port: PacketPort;
  private readonly sentListeners = new Set<(sessionId: number, seqs: readonly number[]) => void>();
  /** Airtime (or, on IP links, wire time at the budget) of what we sent, ms. */
  airtimeMsOut = 0;

  constructor(private readonly o: PeerLinkOptions) {
    this.name = o.peer.name;
    if (o.emulator) this.emulator = new LinkEmulator(o.emulator);
    const self = this;
    this.port = {
      get connected() {
        return self.conn?.open ?? false;
      },
      send: (packet) => this.sendPacket(packet),
    };
  }

  get state(): PeerState {
    return this.stateValue;
  }

  /** True when this side dials (its session ids are odd). */
  get dials(): boolean {
    return this.o.peer.url !== undefined;
  }

  /** Link rate the senders of this peer pace to, bit/s: the budget less the packet protection (~10 %). */
  get senderBitsPerSecond(): number {
    const budget = Math.min(this.o.peer.bitsPerSecond, this.o.emulator?.bitsPerSecond ?? Infinity);
    return budget * (96 / (96 + PROTECTION_OVERHEAD_BYTES));
  }

  private pacerValue: LinkPacer | undefined;
  /**
   * The one pacer of this peer's outgoing direction: every session to the peer (concurrent calls,
   * incoming sessions' acks) sends through it, so together they keep to the peer's budget. On a
   * datagram link it paces by the link's cost model (UDP headers, KISS airtime, the 10 bytes of
   * protection), looked up per packet since the link may come up after the first session.
   */
  get pacer(): LinkPacer {
    if (this.pacerValue) return this.pacerValue;
    if (!this.overDatagrams) return (this.pacerValue = new LinkPacer(this.senderBitsPerSecond));
    const self = this;
    const cost: PacketCostModel = {
      packetCost: (n) => self.linkCost.packetCost(n),
      get halfDuplex() {
        return self.linkCost.halfDuplex;
      },
      get channelBitsPerSecond() {
        return self.linkCost.channelBitsPerSecond;
      },
    };
    return (this.pacerValue = new LinkPacer(Math.min(this.o.peer.bitsPerSecond, this.o.emulator?.bitsPerSecond ?? Infinity), cost));
  }

  /** True when this peer's link is a datagram link (dialed udp:// or kiss, or accepted on link.listen udp://). */
  get overDatagrams(): boolean {
    return this.o.peer.url !== undefined ? linkKindOf(this.o.peer.url) !== 'ws' : this.o.listensOverDatagrams === true;
  }

  /** The link's packet cost model, packet protection included (a WebSocket: its 10 bytes at the budget). */
  get linkCost(): PacketCostModel {
    const budget = Math.min(this.o.peer.bitsPerSecond, this.o.emulator?.bitsPerSecond ?? Infinity);
    const inner = this.datagram?.cost ?? (this.conn instanceof DatagramPeerConnection ? this.conn.cost : undefined);
    if (inner) return inner;
    return { halfDuplex: false, packetCost: (n) => ({ wireBytes: n + PROTECTION_OVERHEAD_BYTES + 28, airtimeMs: ((n + PROTECTION_OVERHEAD_BYTES + 28) * 8000) / budget }) };
  }

  /** LinkSession options for a session to this peer: the shared pacer, and ARQ tuning from the link's cost model (arqTuning). */
  sessionOptions(sessionId: number) {
    const t = this.overDatagrams ? arqTuning(this.linkCost) : { sender: {}, receiver: {} };
    return { sender: { ...t.sender, pacer: this.pacer, tagUnique: () => this.tagUnique(sessionId) }, receiver: t.receiver, ...(this.overDatagrams ? { cost: this.linkCost } : {}) };
  }

  /** Link type for /metrics and the browser page: ws, udp or kiss. */
  get linkKind(): string {
    if (this.datagram) return this.datagram.kind;
    if (this.o.peer.url !== undefined) return linkKindOf(this.o.peer.url);
    return this.conn instanceof DatagramPeerConnection ? this.conn.kind : 'ws';
  }

  /** The datagram link's counters (airtime, wire bytes), when this side dials one. */
  get datagramStats() {
    return this.datagram?.stats;
  }

  /** Reliable frames waiting to be sent or acknowledged, over all sessions. */
  get queuedFrames(): number {
    let n = 0;
    for (const s of this.sessions.values()) n += s.sender.outstanding;
    return n;
  }

  get retransmissions(): number {
    return this.retransmissionsClosed + [...this.sessions.values()].reduce((n, s) => n + s.sender.stats.retransmissions, 0);
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** A fresh session id of our parity. */
  newSessionId(): number {
    for (;;) {
      const id = (Math.floor(Math.random() * 2 ** 30) * 2 + (this.dials ? 1 : 2)) >>> 0;
      if (!this.sessions.has(id)) return id;
    }
  }

  /** True when no other session on this link shares `sessionId`'s 3-bit tag (its packets may then name it by tag). */
  tagUnique(sessionId: number): boolean {
    const tag = sessionTagOf(sessionId);
    for (const id of this.sessions.keys()) if (id !== sessionId && sessionTagOf(id) === tag) return false;
    return true;
  }

  isOurs(sessionId: number): boolean {
    return (sessionId % 2 === 1) === this.dials;
  }

  addSession(id: number, session: LinkSession): void {
    this.sessions.set(id, session);
    session.attach(this.port);
  }

  /** Forgets a session (the caller closes it). */
  removeSession(id: number): void {
    const s = this.sessions.get(id);
    if (s) this.retransmissionsClosed += s.sender.stats.retransmissions;
    this.sessions.delete(id);
  }

  /** Takes a freshly authenticated connection (dialed or accepted); the newest one wins. */
  attach(conn: PeerConnection): void {
    if (this.closed) {
      conn.close();
      return;
    }
    if (this.remoteInstance !== undefined && conn.remoteInstance !== this.remoteInstance) {
      this.counters.peerRestarts++;
      this.o.log.warn('peer restarted: its sessions are gone, resending what it had not acknowledged', { peer: this.name });
      this.o.onPeerRestart();
    }
    this.remoteInstance = conn.remoteInstance;
    const old = this.conn;
    this.conn = conn;
    this.counters.connects++;
    if (old) {
      this.lostInBase += old.opener.stats.gaps;
      old.close();
    }
    conn.onPacket((p) => this.onPacket(p));
    conn.onReject((reason) => {
      this.counters.rejected[reason]++;
      if (this.o.refusals) this.o.refusals.note('link packets rejected', reason, this.name, Date.now());
      else this.o.log.warn('packet rejected', { peer: this.name, reason });
    });
    conn.onClose((code) => {
      if (this.conn !== conn) return;
      this.lostInBase += conn.opener.stats.gaps;
      this.conn = undefined;
      // 4409: the keys ran out (packet numbers, age) or the receiver lost its place: an ordinary
      // reconnect with a fresh handshake, at once (sessions resume over it).
      const rekey = code === CLOSE_REKEY;
      if (rekey) this.o.log.info('link rekey: new handshake', { peer: this.name });
      this.setState(this.dials && !this.closed ? 'connecting' : 'disconnected');
      if (this.dials && !this.overDatagrams) {
        if (rekey) this.backoffMs = 250;
        this.scheduleDial(rekey ? 0 : 250);
      }
    });
    this.setState('connected');
    for (const s of this.sessions.values()) s.attach(this.port);
  }

  private setState(s: PeerState): void {
    if (s === this.stateValue) return;
    this.stateValue = s;
    this.o.log.info('peer link', { peer: this.name, state: s });
    this.o.onState?.(s);
  }

  /** Counts a refused authentication (wrong key) on this peer. */
  countAuthFailure(): void {
    this.counters.rejected.auth++;
  }

  get packetsLostIn(): number {
    return this.lostInBase + (this.conn?.opener.stats.gaps ?? 0);
  }

  private now(): number {
    return performance.now() - this.t0;
  }

  /** Calls `l(sessionId, seqs)` with the frame seqs of each packet put on the link (phrase "sent" state); returns the unsubscribe. */
  onFramesSent(l: (sessionId: number, seqs: readonly number[]) => void): () => void {
    this.sentListeners.add(l);
    return () => this.sentListeners.delete(l);
  }

  /** Smallest retransmission timeout over this peer's sessions with an RTT sample, ms (undefined when none). */
  get rtoMs(): number | undefined {
    let m: number | undefined;
    for (const s of this.sessions.values()) if (s.sender.stats.packets > 0) m = Math.min(m ?? Infinity, s.sender.rtoMs);
    return m;
  }

  /** Share of the peer's packets lost on the way to us (gaps in its packet numbers), 0..1. */
  get lossIn(): number {
    const lost = this.packetsLostIn;
    return lost + this.counters.packetsIn > 0 ? lost / (lost + this.counters.packetsIn) : 0;
  }

  private sendPacket(packet: Uint8Array): void {
    const conn = this.conn;
    if (!conn?.open) return;
    this.airtimeMsOut += this.linkCost.packetCost(packet.length).airtimeMs;
    if (this.sentListeners.size > 0) {
      const route = resolveRoute(packetRoute(packet), this.sessions);
      if (route) {
        const seqs = frameSeqsOf(packet);
        for (const l of this.sentListeners) l(route.id, seqs);
      }
    }
    if (conn.rehandshakeDue) {
      conn.close(CLOSE_REKEY);
      return;
    }
    classifyPacket(packet, this.counters.bitsOut);
    this.counters.bitsOut.overhead += PROTECTION_OVERHEAD_BYTES * 8;
    this.counters.packetsOut++;
    const sealed = conn.seal(packet);
    if (!this.emulator) {
      conn.sendSealed(sealed);
      return;
    }
    const now = this.now();
    const v = this.emulator.send(sealed.length, now);
    if (!v.delivered) {
      this.counters.packetsLostOut++;
      return;
    }
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.conn === conn) conn.sendSealed(sealed);
    }, Math.max(0, v.arriveAtMs - now));
    this.timers.add(t);
  }

  private onPacket(packet: Uint8Array): void {
    classifyPacket(packet, this.counters.bitsIn);
    this.counters.bitsIn.overhead += PROTECTION_OVERHEAD_BYTES * 8;
    this.counters.packetsIn++;
    const route = resolveRoute(packetRoute(packet), this.sessions);
    if (!route) return;
    const id = route.id;
    let s = route.session;
    if (!s && !this.isOurs(id)) {
      s = this.o.onIncomingSession(id);
      if (s) this.addSession(id, s);
    }
    if (s) {
      // One packet at a time per session: LinkSession.onPacket awaits between delivered frames, and
      // two packets handled concurrently would interleave their frames (out-of-order text).
      const prev = this.inbound.get(s) ?? Promise.resolve();
      const session = s;
      const next = prev.then(() => session.onPacket(packet)).catch((err) => this.o.log.error('packet handling failed', { peer: this.name, error: err as Error }));
      this.inbound.set(s, next);
      void next.then(() => {
        if (this.inbound.get(session) === next) this.inbound.delete(session);
      });
    }
  }

  /** Starts dialing when the peer has a url; reconnects with capped back-off. */
  start(): void {
    if (this.dials) this.scheduleDial(0);
  }

  private scheduleDial(delayMs: number): void {
    if (this.closed || this.dialTimer) return;
    this.setState('connecting');
    this.dialTimer = setTimeout(() => {
      this.dialTimer = undefined;
      void this.dial();
    }, delayMs);
  }

  private async dialDatagram(): Promise<void> {
    if (this.datagram || this.datagramOpening) return;
    this.datagramOpening = true;
    try {
      const pin = this.o.peer.publicKey ? { staticKey: Buffer.from(this.o.peer.publicKey, 'hex') } : {};
      const link = await dialDatagramPeer(this.o.peer.url!, {
        me: { name: this.o.node, staticKey: this.o.staticKey!, instanceId: this.o.instanceId },
        peer: { name: this.o.peer.name, psk: noisePskOf(this.o.secrets.psk), ...pin },
        budgetBitsPerSecond: this.o.peer.bitsPerSecond,
        attach: (c) => this.attach(c),
        onFailed: (err) => {
          if (err.code === 'auth_failed') this.countAuthFailure();
          this.o.log.debug('peer handshake failed', { peer: this.name, url: this.o.peer.url, error: err });
        },
      });
      if (this.closed) {
        await link.close();
        return;
      }
      this.datagram = link;
    } catch (err) {
      this.o.log.error('cannot open the link to the peer', { peer: this.name, url: this.o.peer.url, error: err as Error });
      this.backoffMs = Math.min(5000, this.backoffMs * 2);
      this.datagramOpening = false;
      this.scheduleDial(this.backoffMs);
      return;
    }
    this.datagramOpening = false;
  }

  private async dial(): Promise<void> {
    if (this.closed || this.conn?.open) return;
    if (this.overDatagrams) return this.dialDatagram();
    const ws = new WebSocket(this.o.peer.url!, { maxPayload: this.o.maxMessageBytes, handshakeTimeout: 5000 });
    this.dialSocket = ws;
    ws.on('error', () => {});
    try {
      const pin = this.o.peer.publicKey ? { staticKey: Buffer.from(this.o.peer.publicKey, 'hex') } : {};
      const conn = await connectSecureNoise(ws, this.o.node, { name: this.o.peer.name, psk: this.o.secrets.psk, ...pin }, { instanceId: this.o.instanceId, ...(this.o.staticKey ? { staticKey: this.o.staticKey } : {}) });
      this.backoffMs = 250;
      this.attach(conn);
    } catch (err) {
      ws.terminate();
      const auth = err instanceof TransportError && err.code === 'auth_failed';
      if (auth) this.countAuthFailure();
      this.o.log[auth ? 'error' : 'debug']('cannot connect to peer', { peer: this.name, url: this.o.peer.url, error: err as Error });
      // A refused key will not fix itself quickly: back off harder.
      this.backoffMs = auth ? 10_000 : Math.min(5000, this.backoffMs * 2);
      this.scheduleDial(this.backoffMs);
    } finally {
      if (this.dialSocket === ws) this.dialSocket = undefined;
    }
  }

  /** Closes the socket (or datagram link) and stops dialing; sessions are closed by their owners. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.dialTimer) clearTimeout(this.dialTimer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.dialSocket?.terminate();
    this.conn?.close();
    this.conn = undefined;
    this.setState('disconnected');
    await this.datagram?.close();
  }
}
