import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { InvalidStateError, TransportError, UsageError } from '../../core/errors.ts';
import { packetRoute } from '../link-packet.ts';
import { udpCost } from './cost.ts';
import { chargeIn, chargeOut, newDatagramLinkStats, type DatagramLink, type DatagramLinkStats, type LinkState, type PacketCostModel } from './types.ts';
import { formatUdpUrl, parseUdpUrl } from './udp-url.ts';

/**
 * UDP link adapter (issue #14): one datagram = one link packet, ≤ 1200 bytes (fits every IPv6
 * path's 1280-byte minimum MTU with headers, so nothing is ever fragmented).
 *
 * - **dial** (`stcts send --to udp://HOST:PORT`): a connected socket; the kernel then drops
 *   datagrams from any other source, so pinning is the kernel's. The link is `up` as soon as the
 *   socket is connected, before the peer has said anything: UDP has no connection to wait for, and
 *   the listening side pins the dialer only when the dialer's first packet arrives (waiting for the
 *   peer first would deadlock). Lost datagrams are the ARQ's business.
 * - **listen** (`stcts receive --listen udp://HOST:PORT`): a bound socket, `connecting` until a
 *   peer is pinned, then `up`. By default the first source whose datagram is a valid link packet
 *   ({@link isLinkPacket}) is pinned; with `pinning: 'manual'` a handshake
 *   layer (issue #20) sees datagrams through {@link UdpLink.onCandidate} and calls
 *   {@link UdpLink.pin} once the peer is authenticated. Datagrams from anyone else are dropped and
 *   counted (`foreign_source`). The pinned peer moves (NAT rebinding) only when the caller says so:
 *   {@link UdpLink.pin} with the new address, {@link UdpLink.repin} (the next packet from a new
 *   source that passes `acceptPeer` moves the pin once), or `followPeer: true` (always; only safe
 *   on authenticated links). Pinning on a valid packet is no authentication: garbage that happens
 *   to parse pins too. The handshake (issue #20) is the defence; use `pinning: 'manual'` with it.
 *
 * The link delivers every datagram from its peer up to the MTU; whether it decodes is the session
 * layer's judgement. The link only counts what it can judge itself: oversized datagrams
 * (`too_large`), foreign sources, and — before a peer is pinned in `first-valid` mode — datagrams
 * that are not link packets (`malformed`).
 *
 * NAT keepalive: after `keepaliveMs` without sending, the link sends a 0-byte datagram. A real
 * link packet is never empty (a full packet holds ≥ 1 frame item, a compact one its header byte),
 * so the receiver recognises it, never delivers it, and counts it ({@link UdpLinkStats.keepalivesIn}).
 * It costs only the 28 (IPv6: 48) header bytes, counted in `controlPacketsOut` and `wireBytesOut`.
 */

/** Largest datagram payload a UDP link carries, bytes. */
export const UDP_MTU_BYTES = 1200;
/** Default idle time before a NAT keepalive on a dialing link, ms (NAT mappings may expire after ~30 s). */
export const DEFAULT_UDP_KEEPALIVE_MS = 20_000;

export type UdpRole = 'dial' | 'listen';

/** A datagram's source or a pinned peer. */
export interface UdpPeer {
  address: string;
  port: number;
}

export interface UdpLinkOptions {
  role: UdpRole;
  /** Largest datagram, bytes (≤ {@link UDP_MTU_BYTES}). Default 1200. */
  mtu: number;
  /**
   * Idle time after which a 0-byte keepalive is sent, ms; 0 = never. Default: 20 000 when dialing
   * (the dialer is the side behind a NAT), 0 when listening.
   */
  keepaliveMs: number;
  /** `first-valid` (default): pin the first source that sends a valid link packet. `manual`: wait for {@link UdpLink.pin}. */
  pinning: 'first-valid' | 'manual';
  /** In `first-valid` mode: does this datagram pin its source? Default: it is a valid link packet. */
  acceptPeer: (datagram: Uint8Array, from: UdpPeer) => boolean;
  /** Let the pinned peer move to any source that passes `acceptPeer` (NAT rebinding). Default false. */
  followPeer: boolean;
  /** Budget rate for the cost model's airtime (serialization), bit/s; undefined = unknown (0 ms). */
  budgetBitsPerSecond: number | undefined;
}

/**
 * A link packet that can pin a peer, judged without session state: it parses (src/transport/link-packet.ts
 * `packetRoute`) and names its session in full — a full packet, or a compact one with the session
 * id. A sender names its session in full until the peer has acknowledged it, so a new peer's first
 * packets always qualify; a compact packet naming only the 3-bit tag does not (two random bytes
 * parse as one about a quarter of the time, too weak to pin on).
 */
export const isLinkPacket = (datagram: Uint8Array): boolean => {
  if (datagram.length === 0) return false;
  const route = packetRoute(datagram);
  return route !== undefined && 'sessionId' in route;
};

export const DEFAULT_UDP_LINK_OPTIONS: Readonly<UdpLinkOptions> = Object.freeze({
  role: 'dial',
  mtu: UDP_MTU_BYTES,
  keepaliveMs: DEFAULT_UDP_KEEPALIVE_MS,
  pinning: 'first-valid',
  acceptPeer: isLinkPacket,
  followPeer: false,
  budgetBitsPerSecond: undefined,
});

/** A UDP link's counters: the common ones plus what only UDP has. */
export interface UdpLinkStats extends DatagramLinkStats {
  /** Keepalives received from the peer (not delivered; their header bytes are in wireBytesIn). */
  keepalivesIn: number;
  /** Sends the socket reported failed (e.g. ICMP port unreachable on a dialing link). */
  sendErrors: number;
  /** Times the pinned peer was set or moved. */
  peerChanges: number;
}

const v4Mapped = (address: string) => /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address);

/** A UDP datagram link; open one with {@link openUdpLink}. */
export class UdpLink implements DatagramLink {
  readonly kind = 'udp' as const;
  readonly stats: UdpLinkStats = { ...newDatagramLinkStats(), keepalivesIn: 0, sendErrors: 0, peerChanges: 0 };
  readonly options: Readonly<UdpLinkOptions>;
  private linkState: LinkState;
  private remote: UdpPeer | undefined;
  private movable = false;
  private handler: ((d: Uint8Array) => void) | undefined;
  private candidateHandler: ((d: Uint8Array, from: UdpPeer) => void) | undefined;
  private readonly stateHandlers: Array<(s: LinkState) => void> = [];
  private keepalive: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private costModel: PacketCostModel;

  /** Use {@link openUdpLink}: the socket must be bound (listen) or connected (dial) already. */
  constructor(
    private readonly socket: Socket,
    private readonly local: UdpPeer,
    options: Readonly<UdpLinkOptions>,
    dialPeer?: UdpPeer,
  ) {
    this.options = options;
    this.costModel = this.costFor(dialPeer?.address ?? local.address);
    this.remote = dialPeer;
    this.linkState = dialPeer ? 'up' : 'connecting';
    socket.on('message', (msg, rinfo) => this.receive(msg, rinfo));
    // Socket errors after open (ICMP errors surface here or in a send callback) never crash.
    socket.on('error', () => this.stats.sendErrors++);
    if (dialPeer) this.armKeepalive();
  }

  get mtu(): number {
    return this.options.mtu;
  }

  get cost(): PacketCostModel {
    return this.costModel;
  }

  get state(): LinkState {
    return this.linkState;
  }

  /** The pinned (listen) or dialed peer; undefined while none is pinned. */
  get peer(): UdpPeer | undefined {
    return this.remote && { ...this.remote };
  }

  /** The local address and port (the bound port when listening on port 0). */
  get localAddress(): UdpPeer {
    return { ...this.local };
  }

  get description(): string {
    const local = formatUdpUrl({ host: this.local.address, port: this.local.port });
    if (this.options.role === 'dial') return formatUdpUrl({ host: this.remote!.address, port: this.remote!.port });
    return this.remote ? `${local} (peer ${formatUdpUrl({ host: this.remote.address, port: this.remote.port })})` : `${local} (listening)`;
  }

  send(datagram: Uint8Array): void {
    if (this.closing) throw new InvalidStateError('UdpLink used after close()');
    if (datagram.length > this.options.mtu) throw new TransportError('too_large', `datagram of ${datagram.length} bytes exceeds the UDP link MTU of ${this.options.mtu}`, { bytes: datagram.length, mtu: this.options.mtu });
    if (this.linkState !== 'up' || !this.remote) {
      this.stats.dropped.not_connected++;
      return;
    }
    chargeOut(this.stats, this.costModel, datagram.length);
    this.transmit(datagram);
  }

  onDatagram(handler: (datagram: Uint8Array) => void): void {
    this.handler = handler;
  }

  onState(handler: (state: LinkState) => void): void {
    this.stateHandlers.push(handler);
  }

  /**
   * Datagrams from sources other than the pinned peer (all of them before a peer is pinned in
   * `manual` mode), with their source: what a handshake layer inspects before calling {@link pin}.
   * They are still counted as `foreign_source` and never reach {@link onDatagram}'s handler.
   */
  onCandidate(handler: (datagram: Uint8Array, from: UdpPeer) => void): void {
    this.candidateHandler = handler;
  }

  /** Pins (or moves the pin to) `peer` now, e.g. after a handshake authenticated it. Listen role only. */
  pin(peer: UdpPeer): void {
    this.checkListen('pin');
    this.setPeer({ address: peer.address, port: peer.port });
  }

  /**
   * Lets the pinned peer move once: the next datagram from a new source that passes `acceptPeer`
   * moves the pin there (NAT rebinding). Meanwhile the old peer stays pinned. Listen role only.
   */
  repin(): void {
    this.checkListen('repin');
    this.movable = true;
  }

  close(): Promise<void> {
    if (!this.closing) {
      if (this.keepalive) clearTimeout(this.keepalive);
      this.setState('closed');
      this.closing = new Promise<void>((resolve) => {
        try {
          this.socket.close(() => resolve());
        } catch {
          resolve(); // already closed underneath
        }
      });
    }
    return this.closing;
  }

  private checkListen(what: string): void {
    if (this.closing) throw new InvalidStateError('UdpLink used after close()');
    if (this.options.role !== 'listen') throw new InvalidStateError(`${what}() is for a listening UDP link; a dialing link's peer is fixed by its URL`);
  }

  private costFor(address: string): PacketCostModel {
    const ipv6 = address.includes(':') && !v4Mapped(address);
    return udpCost({ ipv6, budgetBitsPerSecond: this.options.budgetBitsPerSecond });
  }

  private setPeer(peer: UdpPeer): void {
    const same = this.remote?.address === peer.address && this.remote.port === peer.port;
    this.movable = false;
    if (same) return;
    this.remote = peer;
    this.costModel = this.costFor(peer.address);
    this.stats.peerChanges++;
    this.armKeepalive();
    this.setState('up');
  }

  private setState(s: LinkState): void {
    if (this.linkState === s || this.linkState === 'closed') return;
    this.linkState = s;
    for (const h of this.stateHandlers) h(s);
  }

  private transmit(datagram: Uint8Array): void {
    const done = (err: Error | null) => {
      if (err) this.stats.sendErrors++;
    };
    try {
      if (this.options.role === 'dial') this.socket.send(datagram, done);
      else this.socket.send(datagram, this.remote!.port, this.remote!.address, done);
    } catch {
      this.stats.sendErrors++; // socket closed underneath us
    }
    this.keepalive?.refresh();
  }

  private armKeepalive(): void {
    if (this.keepalive || this.options.keepaliveMs <= 0 || this.closing) return;
    this.keepalive = setTimeout(() => this.sendKeepalive(), this.options.keepaliveMs);
    this.keepalive.unref();
  }

  private sendKeepalive(): void {
    if (this.closing) return;
    if (this.linkState === 'up' && this.remote) {
      const c = this.costModel.packetCost(0);
      this.stats.controlPacketsOut++;
      this.stats.wireBytesOut += c.wireBytes;
      this.stats.airtimeMsOut += c.airtimeMs;
      this.transmit(new Uint8Array(0)); // (re-arms the timer)
    } else {
      this.keepalive?.refresh();
    }
  }

  private receive(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.closing) return;
    const datagram = new Uint8Array(msg.buffer, msg.byteOffset, msg.length);
    const from = { address: rinfo.address, port: rinfo.port };
    if (datagram.length > this.options.mtu) {
      this.stats.dropped.too_large++;
      return;
    }
    const fromPeer = this.remote !== undefined && this.remote.address === from.address && this.remote.port === from.port;
    if (!fromPeer && !this.adopt(datagram, from)) return;
    if (datagram.length === 0) {
      this.stats.keepalivesIn++;
      this.stats.wireBytesIn += this.costModel.packetCost(0).wireBytes;
      return;
    }
    chargeIn(this.stats, this.costModel, datagram.length);
    if (this.handler) this.handler(datagram);
    else this.stats.dropped.queue_full++; // nobody to hand it to (no handler set yet)
  }

  /** A datagram from a source that is not the pinned peer: does it pin (or move) the peer? */
  private adopt(datagram: Uint8Array, from: UdpPeer): boolean {
    const o = this.options;
    const mayPin = o.role === 'listen' && o.pinning === 'first-valid' && (this.remote === undefined || this.movable || o.followPeer);
    if (mayPin && datagram.length > 0 && o.acceptPeer(datagram, from)) {
      this.setPeer(from);
      return true;
    }
    if (mayPin && this.remote === undefined && datagram.length > 0) this.stats.dropped.malformed++;
    else this.stats.dropped.foreign_source++;
    this.candidateHandler?.(datagram, from);
    return false;
  }
}

/** Options of {@link openUdpLink}: the role is required, the rest defaults. */
export type OpenUdpLinkOptions = Partial<UdpLinkOptions> & { role: UdpRole };

/**
 * Opens a UDP link. `dial`: `url` names the peer (resolved once, here), the socket binds an
 * ephemeral port and connects. `listen`: `url` names the local address and port to bind (port 0 =
 * any; see {@link UdpLink.localAddress}). Errors: a bad URL or option → `UsageError`; a host
 * that does not resolve, a port in use → `TransportError('refused')`.
 */
export async function openUdpLink(url: string, options: OpenUdpLinkOptions): Promise<UdpLink> {
  const endpoint = parseUdpUrl(url);
  const o: UdpLinkOptions = Object.freeze({
    ...DEFAULT_UDP_LINK_OPTIONS,
    keepaliveMs: options.role === 'listen' ? 0 : DEFAULT_UDP_KEEPALIVE_MS,
    ...options,
  });
  if (o.role !== 'dial' && o.role !== 'listen') throw new UsageError(`UDP link role must be 'dial' or 'listen', got '${String(o.role)}'`);
  if (!Number.isInteger(o.mtu) || o.mtu < 1 || o.mtu > UDP_MTU_BYTES) throw new UsageError(`UDP link MTU must be 1..${UDP_MTU_BYTES} bytes, got ${o.mtu}`);
  if (!(o.keepaliveMs >= 0) || !Number.isFinite(o.keepaliveMs)) throw new UsageError(`keepaliveMs must be ≥ 0 ms (0 = off), got ${o.keepaliveMs}`);
  if (o.role === 'dial' && endpoint.port === 0) throw new UsageError(`cannot dial port 0 in '${url}': name the peer's port`);
  let address = endpoint.host;
  let family = endpoint.family;
  if (family === undefined) {
    try {
      const r = await lookup(endpoint.host);
      address = r.address;
      family = r.family === 6 ? 6 : 4;
    } catch (err) {
      throw new TransportError('refused', `cannot resolve '${endpoint.host}' of ${url}: check the host name`, { host: endpoint.host }, { cause: err });
    }
  }
  const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      const bound = () => {
        if (o.role === 'listen') return resolve();
        socket.connect(endpoint.port, address, () => resolve());
      };
      if (o.role === 'listen') socket.bind(endpoint.port, address, bound);
      else socket.bind(0, bound);
    });
  } catch (err) {
    try {
      socket.close();
    } catch {
      /* never opened */
    }
    const what = o.role === 'listen' ? `listen on ${url}` : `dial ${url}`;
    throw new TransportError('refused', `cannot ${what}: ${(err as Error).message}`, { url }, { cause: err });
  }
  socket.removeAllListeners('error');
  const a = socket.address();
  const local = { address: a.address, port: a.port };
  return new UdpLink(socket, local, o, o.role === 'dial' ? { address, port: endpoint.port } : undefined);
}
