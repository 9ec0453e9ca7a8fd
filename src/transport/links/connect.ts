import { TransportError, UsageError } from '../../core/errors.ts';
import { packetRoute, resolveRoute } from '../link-packet.ts';
import type { LinkSession, PacketPort } from '../link-session.ts';
import { connectLink, listenLink, type LinkSecurity } from '../ws.ts';
import { webSocketCost } from './cost.ts';
import { openKissLink } from './kiss.ts';
import { parseKissUrl, type KissLinkOptions } from './kiss-url.ts';
import type { DatagramLink, LinkKind, LinkState, PacketCostModel } from './types.ts';
import { openUdpLink, type UdpLinkOptions } from './udp.ts';

/**
 * Link URLs (issue #14): one place that turns `ws://`, `wss://`, `udp://`, `kiss+tcp://` and
 * `kiss:` into a carrier for LinkSessions, so `stcts send`/`receive` (and the daemon) never know
 * which link they ride. A bare `HOST:PORT` to listen on means `ws://HOST:PORT` (as before).
 */

export type LinkUrlKind = Extract<LinkKind, 'ws' | 'udp' | 'kiss'>;

export const LINK_URL_FORMS = 'ws://HOST:PORT, wss://HOST:PORT, udp://HOST:PORT, kiss+tcp://HOST:PORT or kiss:/dev/DEVICE[?baud=9600]';

/** The kind of a link URL; a UsageError naming the accepted forms otherwise. */
export function linkKindOf(url: string): LinkUrlKind {
  if (/^wss?:\/\//i.test(url)) return 'ws';
  if (/^udp:\/\//i.test(url)) return 'udp';
  if (/^kiss(\+tcp)?:/i.test(url)) return 'kiss';
  throw new UsageError(`unknown link '${url}': use ${LINK_URL_FORMS}`);
}

/** Options common to every link kind. */
export interface LinkUrlOptions {
  /** The link budget, bit/s: what the ARQ paces to on IP links (radio links pace to their airtime). */
  budgetBitsPerSecond: number;
  /** Pre-shared key (WebSocket links; see LinkSecurity). */
  security?: LinkSecurity;
  /** KISS amateur mode etc. (see KissLinkOptions); merged over the URL's own query. */
  kiss?: Partial<KissLinkOptions>;
  udp?: Partial<Omit<UdpLinkOptions, 'role'>>;
  onState?: (state: LinkState | 'connected' | 'disconnected') => void;
  /** A failure retrying cannot fix (a refused key). */
  onFatal?: (err: TransportError) => void;
  /** Protocol problems (a packet for no session, a refused peer); the link goes on. */
  onError?: (err: TransportError) => void;
}

/** A link to one peer that LinkSessions ride. */
export interface SessionCarrier {
  readonly kind: LinkUrlKind;
  readonly cost: PacketCostModel;
  /** The datagram link (UDP, KISS), for its stats; undefined on WebSocket links. */
  readonly link?: DatagramLink;
  close(): Promise<void>;
}

/** A datagram link as a LinkSession's packet port; `send` reports the wire bytes (link headers included). */
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

function refuseSecurity(url: string, kind: LinkUrlKind, o: LinkUrlOptions): void {
  if (kind === 'kiss' && o.security && (o.kiss?.callsign ?? parseKissUrl(url).options.callsign) !== undefined) {
    throw new UsageError('amateur mode (a callsign) refuses encryption: amateur rules forbid obscuring the meaning of traffic (drop --psk-file, or the callsign on a non-amateur channel)');
  }
  // The PSK handshake and packet sealing exist for WebSocket links; the Noise handshake for every
  // link kind is issue #20. Refusing beats silently sending in the clear.
  if (o.security) throw new UsageError(`--psk-file works on ws:// links only for now; a ${kind} link would carry the packets unprotected`);
}

async function openDatagram(url: string, kind: 'udp' | 'kiss', role: 'dial' | 'listen', o: LinkUrlOptions): Promise<DatagramLink> {
  if (kind === 'udp') return openUdpLink(url, { ...o.udp, role, budgetBitsPerSecond: o.budgetBitsPerSecond });
  return openKissLink(url, o.kiss ?? {});
}

/**
 * Dials `url` and runs `session` over it (`stcts send`). `makeSession(cost)` builds the session
 * once the link's cost model is known (ARQ tuning and pacing follow from it). WebSocket links
 * reconnect by themselves; UDP needs no reconnect; KISS re-attaches to a TNC that went away.
 */
export async function dialSession(url: string, makeSession: (cost: PacketCostModel) => LinkSession, o: LinkUrlOptions): Promise<SessionCarrier & { session: LinkSession }> {
  const kind = linkKindOf(url);
  if (kind === 'ws') {
    const cost = webSocketCost({ client: true, budgetBitsPerSecond: o.budgetBitsPerSecond });
    const session = makeSession(cost);
    const conn = connectLink(url, session, { ...(o.onState ? { onState: o.onState } : {}), ...(o.security ? { security: o.security } : {}), ...(o.onFatal ? { onFatal: o.onFatal } : {}) });
    return { kind, cost, session, close: async () => conn.close() };
  }
  refuseSecurity(url, kind, o);
  const link = await openDatagram(url, kind, 'dial', o);
  const session = makeSession(link.cost);
  link.onState((s) => o.onState?.(s));
  link.onDatagram((d) => void session.onPacket(d, link.cost.packetCost(d.length).wireBytes));
  session.attach(datagramPort(link));
  return { kind, cost: link.cost, link, session, close: () => link.close() };
}

/**
 * Routes a datagram link's packets to sessions by session id (a new id → `sessionFor`), as
 * `listenLink` does for WebSocket peers; a compact packet naming its session by tag goes to the one
 * session with that tag.
 */
export function serveSessionsOn(link: DatagramLink, sessionFor: (sessionId: number) => LinkSession, onError?: (err: TransportError) => void): ReadonlyMap<number, LinkSession> {
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
      onError?.(new TransportError('protocol', 'a packet for no known session (it names its session by tag only); dropped'));
      return;
    }
    if (session !== current) {
      current?.detach();
      current = session;
      session.attach(port);
    }
    void session.onPacket(d, link.cost.packetCost(d.length).wireBytes);
  });
  return sessions;
}

/**
 * Listens on (or, for KISS, attaches to) `url` and makes a session for each sender that arrives
 * (`stcts receive`). `HOST:PORT` alone means a WebSocket listener.
 */
export async function listenSessions(url: string, sessionFor: (sessionId: number, cost: PacketCostModel) => LinkSession, o: LinkUrlOptions & { onListening?: (where: string) => void }): Promise<SessionCarrier> {
  const u = /^[a-z+]+:/i.test(url) ? url : `ws://${url}`;
  const kind = linkKindOf(u);
  if (kind === 'ws') {
    const m = /^wss?:\/\/(\[[^\]]+\]|[^:/]*):(\d+)\/?$/i.exec(u);
    if (!m) throw new UsageError(`--listen takes HOST:PORT or ${LINK_URL_FORMS}, got '${url}'`);
    const cost = webSocketCost({ client: false, budgetBitsPerSecond: o.budgetBitsPerSecond });
    const host = m[1]!.replace(/^\[|\]$/g, '') || '127.0.0.1';
    const server = await listenLink({ host, port: Number(m[2]), sessionFor: (id) => sessionFor(id, cost), ...(o.security ? { security: o.security } : {}), ...(o.onError ? { onError: o.onError } : {}) });
    o.onListening?.(`ws://${host.includes(':') ? `[${host}]` : host}:${server.port}`);
    return { kind, cost, close: () => server.close() };
  }
  refuseSecurity(u, kind, o);
  const link = await openDatagram(u, kind, 'listen', o);
  link.onState((s) => o.onState?.(s));
  serveSessionsOn(link, (id) => sessionFor(id, link.cost), o.onError);
  o.onListening?.(link.description);
  return { kind, cost: link.cost, link, close: () => link.close() };
}
