import { randomBytes } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { TransportError } from '../core/errors.ts';
import type { LinkKind } from '../transport/links/types.ts';
import { packetRoute, resolveRoute } from '../transport/link-packet.ts';
import type { LinkSession, PacketPort } from '../transport/link-session.ts';
import { MAX_PACKET_BYTES } from '../transport/packet.ts';
import { WebSocketPort } from '../transport/ws.ts';
import { acceptSecureNoise, PROTECTION_OVERHEAD_BYTES } from '../transport/secure/index.ts';
import { generateKeyPair, HandshakeAdmission, noisePskOf } from '../transport/secure/index.ts';
import { listenKissPeers, UdpPeerListener, type DatagramPeerConnection } from '../daemon/datagram-peer.ts';
import type { DownlinkHub } from './downlink.ts';
import type { UplinkHub } from './uplink.ts';
import { isValidVesselName } from './subjects.ts';

/**
 * A link terminator: listens on one link kind and hands each vessel's packets to the
 * {@link UplinkHub}. Adding a link kind (UDP, KISS: src/transport/links) = one class that turns
 * its datagrams into `hub.sessionFor(vessel, id)` + `LinkSession.attach(port)` / `onPacket`.
 */
export interface LinkTerminator {
  /** A datagram link kind, or `sbd-directip` (Iridium's DirectIP: src/gateway/sbd-terminator.ts). */
  readonly kind: LinkKind | 'sbd-directip';
  /** Where it listens, e.g. `ws://127.0.0.1:8790`. */
  readonly address: string;
  /** Protocol problems and refused vessels (`auth_failed`), counted by the caller. */
  close(): Promise<void>;
}

/** Settings of {@link listenWebSocketTerminator}. */
export interface WebSocketTerminatorOptions {
  host: string;
  /** 0 = any free port. */
  port: number;
  /**
   * Keys by vessel name: a vessel authenticates with the daemon's Noise PSK handshake as its name
   * and every packet is sealed. (The responder tries at most 64 keys: a larger fleet needs a
   * lookup by announced name in src/transport/secure.) Absent: plain link, the vessel named by the URL path `/vessel/<name>`.
   */
  vesselKeys?: ReadonlyMap<string, string>;
  /** Shore→ship sessions for the vessels attached here (none: ship→shore only). */
  downlinks?: DownlinkHub;
  onError?: (err: TransportError) => void;
}

const INSTANCE_ID = randomBytes(8);
const MAX_MESSAGE_BYTES = MAX_PACKET_BYTES + PROTECTION_OVERHEAD_BYTES;

/** Vessel name from a plain link's URL path (`/vessel/<name>`), else `anonymous`. */
export function vesselFromPath(url: string | undefined): string | undefined {
  const m = /^\/vessel\/([^/?#]+)/.exec(url ?? '');
  if (!m) return 'anonymous';
  const name = decodeURIComponent(m[1]!);
  return isValidVesselName(name) ? name : undefined;
}

/** The WebSocket link terminator (the link `stcts send` and the edge daemon dial). */
export async function listenWebSocketTerminator(hub: UplinkHub, options: WebSocketTerminatorOptions): Promise<LinkTerminator> {
  const wss = new WebSocketServer({ host: options.host, port: options.port, maxPayload: MAX_MESSAGE_BYTES });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', (e) => reject(new TransportError('refused', `cannot listen on ${options.host}:${options.port}: ${e.message}`)));
  });
  const onError = (e: TransportError) => options.onError?.(e);
  wss.on('connection', (ws: WebSocket, req) => {
    ws.on('error', (e) => onError(new TransportError('protocol', e.message)));
    const keys = options.vesselKeys;
    if (keys) {
      // The daemon's Noise XXpsk3 handshake; the vessel is the name whose key it proved.
      const peers = [...keys].map(([name, psk]) => ({ name, psk }));
      acceptSecureNoise(ws, 'stcts-gateway', () => peers, { instanceId: INSTANCE_ID }).then(
        (conn) => {
          const port: PacketPort = { get connected() { return conn.open; }, send: (p) => conn.send(p) };
          const carry = carrier(hub, conn.remoteName, port, onError, options.downlinks);
          conn.onPacket((bytes: Uint8Array) => carry.packet(bytes, bytes.length + conn.overheadBytes));
          conn.onClose(() => carry.detach());
        },
        (err: unknown) => onError(err instanceof TransportError ? err : new TransportError('protocol', String(err))),
      );
      return;
    }
    const vessel = vesselFromPath(req.url);
    if (!vessel) {
      onError(new TransportError('protocol', `bad vessel name in ${req.url}`));
      ws.close(1008, 'bad vessel name');
      return;
    }
    const carry = carrier(hub, vessel, new WebSocketPort(ws), onError, options.downlinks);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        onError(new TransportError('protocol', 'text message on the link; closing'));
        ws.close(1003);
        return;
      }
      carry.packet(new Uint8Array(data), data.length);
    });
    ws.on('close', () => carry.detach());
  });
  const address = wss.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  let closing: Promise<void> | undefined;
  return {
    kind: 'ws',
    address: `ws://${options.host}:${port}`,
    close: () => (closing ??= new Promise<void>((resolve) => {
      for (const c of wss.clients) c.terminate();
      wss.close(() => resolve());
    })),
  };
}

/** Settings of {@link listenUdpTerminator}. */
export interface UdpTerminatorOptions {
  host: string;
  /** 0 = any free port. */
  port: number;
  /** Keys by vessel name (required: the Noise handshake names the vessel; a datagram does not). */
  vesselKeys: ReadonlyMap<string, string>;
  /** Pacing budget of the acknowledgements sent back, bit/s. Default 2400. */
  budgetBitsPerSecond?: number;
  /** Vessels tracked at once (authenticated or in a handshake). Default 1024. */
  maxSources?: number;
  downlinks?: DownlinkHub;
  onError?: (err: TransportError) => void;
}

/**
 * The UDP link terminator (`stcts send --to udp://…`, the edge daemon's `udp://` peers): one socket
 * for every vessel; a source becomes a vessel's connection once the Noise XXpsk3 handshake proves
 * that vessel's key (the daemon's own listener, src/daemon/datagram-peer.ts), then its packets go to
 * the vessel's sessions like a WebSocket's.
 */
export async function listenUdpTerminator(hub: UplinkHub, options: UdpTerminatorOptions): Promise<LinkTerminator> {
  const d = datagramTerminator(hub, options.vesselKeys, options.onError, options.downlinks);
  const listener = await UdpPeerListener.open(options.host, options.port, { ...d, budgetBitsPerSecond: options.budgetBitsPerSecond ?? 2400, maxSources: options.maxSources ?? 1024 });
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return { kind: 'udp', address: `udp://${host}:${listener.port}`, close: () => listener.close() };
}

/**
 * The KISS link terminator: the gateway attaches to its own TNC (`kiss+tcp://HOST:PORT`, e.g.
 * direwolf's KISS port, or `kiss:/dev/ttyUSB0`) and answers whichever listed vessel calls on that
 * radio channel (one at a time: the channel is shared), authenticated by its key as over UDP.
 */
export async function listenKissTerminator(hub: UplinkHub, options: { url: string; vesselKeys: ReadonlyMap<string, string>; downlinks?: DownlinkHub; onError?: (err: TransportError) => void }): Promise<LinkTerminator> {
  const link = await listenKissPeers(options.url, datagramTerminator(hub, options.vesselKeys, options.onError, options.downlinks));
  return { kind: 'kiss', address: options.url, close: () => link.close() };
}

/** What the UDP and KISS terminators share: the gateway's identity, the vessels' keys, and each authenticated vessel's packets → its sessions. */
function datagramTerminator(hub: UplinkHub, vesselKeys: ReadonlyMap<string, string>, onErrorOpt: ((err: TransportError) => void) | undefined, downlinks: DownlinkHub | undefined) {
  const onError = (e: TransportError) => onErrorOpt?.(e);
  const peers = [...vesselKeys].map(([name, psk]) => ({ name, psk: noisePskOf(psk) }));
  return {
    me: { name: 'stcts-gateway', staticKey: generateKeyPair(), instanceId: INSTANCE_ID },
    peers: () => peers,
    admission: new HandshakeAdmission(),
    attach: (conn: DatagramPeerConnection) => {
      // (The link seals what it sends: the packet goes as it is.)
      const port: PacketPort = { get connected() { return conn.open; }, send: (p) => void conn.sendSealed(p) };
      const carry = carrier(hub, conn.remoteName, port, onError, downlinks);
      conn.onPacket((bytes: Uint8Array) => carry.packet(bytes, conn.cost.packetCost(bytes.length + conn.overheadBytes).wireBytes));
      conn.onClose(() => carry.detach());
    },
    onFailed: (err: TransportError) => onError(err),
  };
}

/** Packets held while a connection's session is being opened (its first packet named it). */
const MAX_PENDING_PACKETS = 64;

/**
 * One connection's packets → its vessel's ship→shore session (chosen by the first packet that names
 * it), or to one of the vessel's shore→ship sessions held here (their acknowledgements).
 */
function carrier(hub: UplinkHub, vessel: string, port: PacketPort, onError: (e: TransportError) => void, downlinks: DownlinkHub | undefined) {
  const detachDown = downlinks?.attach(vessel, port);
  let session: LinkSession | undefined;
  let opening: Promise<void> | undefined;
  let detached = false;
  // After a packet that named no session of this vessel, wait before asking the registry again (each ask scans it).
  let quietUntilMs = 0;
  const pending: Array<[Uint8Array, number]> = [];
  return {
    packet(bytes: Uint8Array, wireBytes: number) {
      if (downlinks) {
        const down = resolveRoute(packetRoute(bytes), downlinks.sessionsOf(vessel));
        if (down?.session) {
          void down.session.onPacket(bytes, wireBytes);
          return;
        }
      }
      if (session) {
        void session.onPacket(bytes, wireBytes);
        return;
      }
      if (opening) {
        if (pending.length < MAX_PENDING_PACKETS) pending.push([bytes, wireBytes]);
        return;
      }
      if (performance.now() < quietUntilMs) return;
      const route = packetRoute(bytes);
      const r = resolveRoute(route, hub.sessionsOf(vessel));
      if (!r && !(route && 'tag' in route)) return;
      pending.push([bytes, wireBytes]);
      const id = r ? Promise.resolve(r.id) : hub.resolveTag(vessel, (route as { tag: number }).tag);
      opening = (r?.session ? Promise.resolve(r.session) : id.then((sid) => (sid === undefined ? undefined : hub.open(vessel, sid)))).then(
        (s) => {
          opening = undefined;
          if (s === 'down') {
            // A shore→ship session's ack before this node holds that session (it will at its next scan).
            pending.length = 0;
            return;
          }
          if (!s) {
            pending.length = 0;
            quietUntilMs = performance.now() + 1000;
            onError(new TransportError('refused', `vessel ${vessel} named a session that is not its own (or a tag of none or several)`, { peer: vessel }));
            return;
          }
          session = s;
          if (!detached) s.attach(port);
          for (const [b, w] of pending.splice(0)) void s.onPacket(b, w);
        },
        () => {
          opening = undefined;
          pending.length = 0;
        },
      );
    },
    detach() {
      detached = true;
      session?.detach();
      detachDown?.();
    },
  };
}
