import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { InvalidStateError, TransportError } from '../core/errors.ts';
import { linkKindOf } from '../transport/links/connect.ts';
import { udpCost } from '../transport/links/cost.ts';
import { openKissLink } from '../transport/links/kiss.ts';
import { chargeIn, chargeOut, newDatagramLinkStats, type DatagramLink, type DatagramLinkStats, type LinkState, type PacketCostModel } from '../transport/links/types.ts';
import { openUdpLink, UDP_MTU_BYTES } from '../transport/links/udp.ts';
import { AEAD_OVERHEAD_BYTES, type EstablishedLink, type HandshakeAdmission, HS_MSG1, type LocalIdentity, MAX_HANDSHAKE_DATAGRAM_BYTES, type PeerCredentials, type RejectReason, SecureDatagramLink } from '../transport/secure/index.ts';

/**
 * Edge-daemon peers over datagram links (issue #14 item 2): `peers[].url` = `udp://`, `kiss+tcp://`
 * or `kiss:` (this side starts the handshake), `link.listen` = `udp://HOST:PORT` (one socket, any
 * number of peers, told apart by source address and then by the name they authenticate with). The
 * peer's LinkSessions ride a {@link SecureDatagramLink} exactly as they ride a WebSocket: each
 * completed handshake becomes a {@link DatagramPeerConnection} that PeerLink attaches like a
 * SecureConnection (a re-handshake with a new process id is a peer restart, as on a WebSocket).
 */

/** A daemon dialer refused by its peer (a wrong key) tries again after this long, ms (WebSocket peers: 10 s too). */
const REFUSED_RETRY_MS = 10_000;

/** Bytes of handshake message 2, the longest (measured: 97–98 with short node names). */
const HANDSHAKE_MSG2_BYTES = 98;

/** Handshake timers from the link's airtime: the first repeat after ≈ 2× message 2's airtime. */
export function datagramHandshakeOptions(cost: PacketCostModel) {
  const retransmitMs = Math.max(1000, Math.ceil(2 * cost.packetCost(HANDSHAKE_MSG2_BYTES).airtimeMs));
  return { retransmitMs, maxRetransmitMs: Math.max(16_000, 4 * retransmitMs), deadlineMs: Math.max(60_000, 12 * retransmitMs) };
}

/** One authenticated handshake on a datagram link, in the shape PeerLink uses for a SecureConnection. */
export class DatagramPeerConnection {
  readonly overheadBytes = AEAD_OVERHEAD_BYTES;
  readonly remoteName: string;
  readonly remoteInstance: string;
  private closed = false;
  private packetHandler: (p: Uint8Array) => void = () => {};
  private readonly closeHandlers: Array<(code: number) => void> = [];

  constructor(
    private readonly link: SecureDatagramLink,
    est: EstablishedLink,
    /** Called when PeerLink closes the connection that is still the link's current one. */
    private readonly onClosed: (c: DatagramPeerConnection) => void,
  ) {
    this.remoteName = est.remoteName;
    this.remoteInstance = est.remoteInstance;
  }

  get open(): boolean {
    return !this.closed && this.link.state === 'up';
  }

  /** Link type (udp, kiss). */
  get kind(): string {
    return this.link.kind;
  }

  /** The secured link's cost model (its headers, airtime and the 10 bytes of protection). */
  get cost(): PacketCostModel {
    return this.link.cost;
  }

  /** Packet-number gaps under the current keys (packets lost on the way to us). */
  get opener(): { stats: { gaps: number } } {
    return { stats: { gaps: this.link.openerStats?.gaps ?? 0 } };
  }

  /** The datagram layer renews its keys by itself. */
  get rehandshakeDue(): boolean {
    return false;
  }

  /** The link seals on send: nothing to do here. */
  seal(packet: Uint8Array): Uint8Array {
    return packet;
  }

  sendSealed(packet: Uint8Array): boolean {
    if (!this.open) return false;
    this.link.send(packet);
    return true;
  }

  onPacket(h: (p: Uint8Array) => void): void {
    this.packetHandler = h;
  }

  /** Rejected packets are counted in the link's opener stats (never reported one by one). */
  onReject(_h: (reason: RejectReason) => void): void {}

  onClose(h: (code: number) => void): void {
    if (this.closed) h(1000);
    else this.closeHandlers.push(h);
  }

  /** @internal the link's packet for this connection. */
  deliver(p: Uint8Array): void {
    if (!this.closed) this.packetHandler(p);
  }

  /** @internal the link went down, or a newer handshake replaced this one. */
  end(code: number): void {
    if (this.closed) return;
    this.closed = true;
    for (const h of this.closeHandlers.splice(0)) h(code);
  }

  /** Idempotent. (`_code`: the WebSocket close code a SecureConnection takes; unused here.) */
  close(_code?: number): void {
    if (this.closed) return;
    this.end(1000);
    this.onClosed(this);
  }
}

/**
 * Runs a SecureDatagramLink for PeerLink: every handshake that completes hands a fresh
 * {@link DatagramPeerConnection} to `attach`; its packets go to the newest one.
 */
function carry(link: SecureDatagramLink, attach: (c: DatagramPeerConnection) => void, onLastClosed: () => void): { established: (est: EstablishedLink) => void } {
  let current: DatagramPeerConnection | undefined;
  link.onDatagram((d) => current?.deliver(d));
  link.onState((s) => {
    if (s === 'down' || s === 'closed') current?.end(1006);
  });
  return {
    established: (est) => {
      const old = current;
      const c = new DatagramPeerConnection(link, est, (closed) => {
        if (closed === current) onLastClosed();
      });
      current = c;
      attach(c);
      old?.end(1000);
    },
  };
}

export interface DialDatagramPeerOptions {
  me: LocalIdentity;
  peer: PeerCredentials;
  budgetBitsPerSecond: number;
  attach: (c: DatagramPeerConnection) => void;
  onFailed: (err: TransportError) => void;
}

/** This side starts the handshake over `url` (udp://, kiss+tcp://, kiss:) and keeps it up (retries, rekeys). */
export async function dialDatagramPeer(url: string, o: DialDatagramPeerOptions): Promise<SecureDatagramLink> {
  const kind = linkKindOf(url);
  if (kind === 'ws') throw new InvalidStateError('dialDatagramPeer takes udp:// or kiss links');
  const inner: DatagramLink = kind === 'udp' ? await openUdpLink(url, { role: 'dial', budgetBitsPerSecond: o.budgetBitsPerSecond }) : await openKissLink(url, {});
  // (established is bound before any handshake can complete: the first reply arrives on a later tick.)
  let hooks: { established: (est: EstablishedLink) => void } | undefined;
  const handshake = datagramHandshakeOptions(inner.cost);
  // A refused key (message R) is retried every 10 s, as on WebSocket peers: the far end's config may be fixed.
  // A responder that restarted drops our sealed packets silently: after 4 first-repeat intervals
  // (≥ 5 s) of sending without an authenticated answer, handshake again.
  const link = new SecureDatagramLink(inner, { role: 'initiator', me: o.me, peer: o.peer }, { handshake, silenceRehandshakeMs: Math.max(5000, 4 * handshake.retransmitMs), refusedRetryMs: REFUSED_RETRY_MS }, {
    established: (est) => hooks?.established(est),
    failed: o.onFailed,
  });
  hooks = carry(link, o.attach, () => {});
  return link;
}

export interface KissPeerListenerOptions {
  me: LocalIdentity;
  peers: () => readonly PeerCredentials[];
  admission: HandshakeAdmission;
  attach: (c: DatagramPeerConnection) => void;
  onFailed: (err: TransportError) => void;
}

/**
 * `link.listen: kiss+tcp://…` or `kiss:/dev/…`: attach to our own TNC and answer the handshake of
 * whichever configured peer calls on that channel (one at a time: a radio channel is shared).
 */
export async function listenKissPeers(url: string, o: KissPeerListenerOptions): Promise<SecureDatagramLink> {
  const inner = await openKissLink(url, {});
  const handshake = datagramHandshakeOptions(inner.cost);
  let hooks: { established: (est: EstablishedLink) => void } | undefined;
  const link = new SecureDatagramLink(inner, { role: 'responder', me: o.me, peers: o.peers().slice(0, 64) }, { handshake, admission: { admission: o.admission, address: () => 'kiss' } }, {
    established: (est) => hooks?.established(est),
    failed: o.onFailed,
    refused: o.onFailed,
  });
  hooks = carry(link, o.attach, () => {});
  return link;
}

export interface UdpPeerListenerOptions {
  me: LocalIdentity;
  /** The configured peers (each with its own PSK): a source is theirs once it authenticates. */
  peers: () => readonly PeerCredentials[];
  admission: HandshakeAdmission;
  budgetBitsPerSecond: number;
  attach: (c: DatagramPeerConnection) => void;
  onFailed: (err: TransportError, address: string) => void;
  /** Sources tracked at once (authenticated or in a handshake). Default 64. */
  maxSources?: number;
}

/** One remote address:port on the shared listening socket, as a DatagramLink. */
class SourceLink implements DatagramLink {
  readonly kind = 'udp' as const;
  readonly mtu = UDP_MTU_BYTES;
  readonly cost: PacketCostModel;
  readonly stats: DatagramLinkStats = newDatagramLinkStats();
  private handler: (d: Uint8Array) => void = () => {};
  private stateHandler: (s: LinkState) => void = () => {};
  private linkState: LinkState = 'up';

  constructor(
    private readonly socket: Socket,
    readonly address: string,
    readonly port: number,
    budgetBitsPerSecond: number,
    private readonly onClose: () => void,
  ) {
    this.cost = udpCost({ ipv6: address.includes(':') && !address.startsWith('::ffff:'), budgetBitsPerSecond });
  }

  get state(): LinkState {
    return this.linkState;
  }

  get description(): string {
    return `udp://${this.address.includes(':') ? `[${this.address}]` : this.address}:${this.port}`;
  }

  send(d: Uint8Array): void {
    if (this.linkState !== 'up') {
      this.stats.dropped.not_connected++;
      return;
    }
    if (d.length > this.mtu) throw new TransportError('too_large', `datagram of ${d.length} bytes exceeds the UDP MTU ${this.mtu}`);
    chargeOut(this.stats, this.cost, d.length);
    try {
      this.socket.send(d, this.port, this.address);
    } catch {
      // socket closed underneath: the listener is closing
    }
  }

  deliver(d: Uint8Array): void {
    if (this.linkState !== 'up') return;
    chargeIn(this.stats, this.cost, d.length);
    this.handler(d);
  }

  onDatagram(h: (d: Uint8Array) => void): void {
    this.handler = h;
  }

  onState(h: (s: LinkState) => void): void {
    this.stateHandler = h;
  }

  async close(): Promise<void> {
    if (this.linkState === 'closed') return;
    this.linkState = 'closed';
    this.stateHandler('closed');
    this.onClose();
  }
}

/**
 * The daemon's `link.listen: udp://HOST:PORT`: one socket; a message 1 from a new source (within
 * the admission caps and `maxSources`) starts a responder over that source; once it authenticates
 * as a configured peer its connection goes to that peer. Sources that never authenticate are
 * dropped after the handshake deadline; anything else from unknown sources is counted and dropped.
 */
export class UdpPeerListener {
  private readonly sources = new Map<string, { link: SourceLink; secure: SecureDatagramLink; sinceMs: number; authenticated: boolean }>();
  /** Datagrams from unknown sources that were not an admissible message 1. */
  droppedForeign = 0;
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    private readonly o: UdpPeerListenerOptions,
  ) {
    socket.on('message', (msg, rinfo) => this.receive(msg, rinfo));
    socket.on('error', () => {});
  }

  static async open(host: string, port: number, o: UdpPeerListenerOptions): Promise<UdpPeerListener> {
    const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (e) => reject(new TransportError('refused', `cannot listen on udp://${host}:${port}: ${e.message}`)));
      socket.bind(port, host, () => resolve());
    });
    return new UdpPeerListener(socket, o);
  }

  get port(): number {
    return this.socket.address().port;
  }

  private receive(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.closed || msg.length > UDP_MTU_BYTES) return;
    const d = new Uint8Array(msg.buffer, msg.byteOffset, msg.length);
    const key = `${rinfo.address}|${rinfo.port}`;
    let s = this.sources.get(key);
    if (!s) {
      if (d.length === 0 || d.length > MAX_HANDSHAKE_DATAGRAM_BYTES || d[0] !== HS_MSG1) {
        this.droppedForeign++;
        return;
      }
      this.sweep();
      if (this.sources.size >= (this.o.maxSources ?? 64)) {
        this.droppedForeign++;
        return;
      }
      const link = new SourceLink(this.socket, rinfo.address, rinfo.port, this.o.budgetBitsPerSecond, () => this.sources.delete(key));
      let hooks: { established: (est: EstablishedLink) => void } | undefined;
      const entry = { link, secure: undefined as unknown as SecureDatagramLink, sinceMs: Date.now(), authenticated: false };
      entry.secure = new SecureDatagramLink(link, { role: 'responder', me: this.o.me, peers: this.o.peers().slice(0, 64) }, { handshake: datagramHandshakeOptions(link.cost), admission: { admission: this.o.admission, address: () => rinfo.address } }, {
        established: (est) => {
          entry.authenticated = true;
          hooks?.established(est);
        },
        failed: (err) => {
          this.o.onFailed(err, rinfo.address);
          if (!entry.authenticated) void entry.secure.close(); // forget a source that failed to authenticate
        },
        // A refused message 3 (message R sent): counted like a failed handshake; the source is forgotten after a minute.
        refused: (err) => this.o.onFailed(err, rinfo.address),
      });
      hooks = carry(entry.secure, this.o.attach, () => void entry.secure.close());
      s = entry;
      this.sources.set(key, s);
    }
    s.link.deliver(d);
  }

  /** Forgets sources that did not authenticate within a minute (bounded memory under a flood). */
  private sweep(): void {
    const now = Date.now();
    for (const s of [...this.sources.values()]) if (!s.authenticated && now - s.sinceMs > 60_000) void s.secure.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.sources.values()]) await s.secure.close();
    await new Promise<void>((r) => this.socket.close(() => r()));
  }
}
