import { TransportError } from '../../core/errors.ts';
import { packetRoute, resolveRoute } from '../link-packet.ts';
import type { LinkSession, PacketPort } from '../link-session.ts';
import type { DatagramLink } from './types.ts';
import { openUdpLink, type OpenUdpLinkOptions, type UdpLink } from './udp.ts';

/**
 * LinkSessions over UDP links, the UDP counterparts of `connectLink` / `listenLink` (src/transport/ws.ts)
 * for `stcts send --to udp://…` and `stcts receive --listen udp://…`.
 */

/**
 * A datagram link as the LinkSession's packet port: connected while the link is `up`; `send`
 * reports the wire bytes (payload + the link's headers) so the session's bit counts include them.
 */
export function datagramPort(link: DatagramLink): PacketPort {
  return {
    get connected() {
      return link.state === 'up';
    },
    send(packet: Uint8Array): number {
      link.send(packet);
      return link.cost.packetCost(packet.length).wireBytes;
    },
  };
}

/** Feeds a link's datagrams to a session (with their wire size) and attaches the session to the link. */
export function bindSession(link: DatagramLink, session: LinkSession): void {
  link.onDatagram((d) => void session.onPacket(d, link.cost.packetCost(d.length).wireBytes));
  session.attach(datagramPort(link));
}

/**
 * Dials `udp://HOST:PORT` and runs `session` over it. UDP needs no reconnect: the link stays `up`
 * and the ARQ resends whatever the network loses while the peer is away (it resumes by itself).
 */
export async function dialUdpSession(url: string, session: LinkSession, options: Omit<Partial<OpenUdpLinkOptions>, 'role'> = {}): Promise<{ link: UdpLink; close(): Promise<void> }> {
  const link = await openUdpLink(url, { ...options, role: 'dial' });
  bindSession(link, session);
  return { link, close: () => link.close() };
}

export interface UdpServeOptions extends Omit<Partial<OpenUdpLinkOptions>, 'role'> {
  /** Called for each new session id (the first packet naming it); returns its LinkSession. */
  sessionFor: (sessionId: number) => LinkSession;
  /** Packets no session could be found for (a compact packet naming its session by tag before any session exists). */
  onError?: (err: TransportError) => void;
}

/**
 * Listens on `udp://HOST:PORT` for one peer (pinned by its first valid packet, see {@link UdpLink})
 * and routes its packets to sessions keyed by session id, as `listenLink` does for WebSocket
 * peers: a new id (a new call from the same peer) gets a new session from `sessionFor`; a packet
 * that names its session only by tag goes to the one session with that tag.
 */
export async function serveUdpSessions(url: string, options: UdpServeOptions): Promise<{ link: UdpLink; readonly sessions: ReadonlyMap<number, LinkSession>; close(): Promise<void> }> {
  const { sessionFor, onError, ...linkOptions } = options;
  const link = await openUdpLink(url, { ...linkOptions, role: 'listen' });
  const sessions = new Map<number, LinkSession>();
  const port = datagramPort(link);
  let current: LinkSession | undefined;
  link.onDatagram((d) => {
    const route = resolveRoute(packetRoute(d), sessions);
    let session = route?.session;
    if (route && !session) {
      session = sessionFor(route.id);
      sessions.set(route.id, session);
    }
    if (!session) {
      onError?.(new TransportError('protocol', 'a UDP packet for no known session (it names its session by tag only); dropped'));
      return;
    }
    if (session !== current) {
      current?.detach();
      current = session;
      session.attach(port);
    }
    void session.onPacket(d, link.cost.packetCost(d.length).wireBytes);
  });
  return { link, sessions, close: () => link.close() };
}
