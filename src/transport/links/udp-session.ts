import type { TransportError } from '../../core/errors.ts';
import type { LinkSession } from '../link-session.ts';
import { datagramPort, serveSessionsOn } from './connect.ts';
import type { DatagramLink } from './types.ts';
import { openUdpLink, type OpenUdpLinkOptions, type UdpLink } from './udp.ts';

/**
 * LinkSessions over UDP links, the UDP counterparts of `connectLink` / `listenLink` (src/transport/ws.ts)
 * for `stcts send --to udp://…` and `stcts receive --listen udp://…`.
 */

export { datagramPort };

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
  const sessions = serveSessionsOn(link, sessionFor, onError);
  return { link, sessions, close: () => link.close() };
}
