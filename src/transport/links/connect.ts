import { randomBytes } from 'node:crypto';
import { TransportError, UsageError } from '../../core/errors.ts';
import { packetRoute, resolveRoute } from '../link-packet.ts';
import type { LinkSession, PacketPort } from '../link-session.ts';
import { ANY_PEER, generateKeyPair, HandshakeAdmission, HS_MSG1, type KeyPair, MAX_HANDSHAKE_DATAGRAM_BYTES, noisePskOf, SecureDatagramLink } from '../secure/index.ts';
import { connectLink, listenLink, type LinkSecurity, type ResumeSecretStore } from '../ws.ts';
import { webSocketCost } from './cost.ts';
import { openKissLink } from './kiss.ts';
import { openFreedvLink } from './freedv/url.ts';
import { parseKissUrl, type KissLinkOptions } from './kiss-url.ts';
import type { DatagramLink, LinkKind, LinkState, PacketCostModel } from './types.ts';
import { openUdpLink, type UdpLink, type UdpLinkOptions, type UdpPeer } from './udp.ts';

/**
 * Link URLs (issue #14): one place that turns `ws://`, `wss://`, `udp://`, `kiss+tcp://` and
 * `kiss:` into a carrier for LinkSessions, so `stcts send`/`receive` (and the daemon) never know
 * which link they ride. A bare `HOST:PORT` to listen on means `ws://HOST:PORT` (as before).
 */

export type LinkUrlKind = Extract<LinkKind, 'ws' | 'udp' | 'kiss' | 'freedv'>;

export const LINK_URL_FORMS = 'ws://HOST:PORT, wss://HOST:PORT, udp://HOST:PORT, kiss+tcp://HOST:PORT, kiss:/dev/DEVICE[?baud=9600] or freedv://?modes=…&audio=…&ptt=…';

/** The kind of a link URL; a UsageError naming the accepted forms otherwise. */
export function linkKindOf(url: string): LinkUrlKind {
  if (/^wss?:\/\//i.test(url)) return 'ws';
  if (/^udp:\/\//i.test(url)) return 'udp';
  if (/^kiss(\+tcp)?:/i.test(url)) return 'kiss';
  if (/^freedv:/i.test(url)) return 'freedv';
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
  /** Plain WebSocket dial: the session's resume secret (a state dir keeps it; default: new per call). */
  resumeSecret?: string;
  /** Plain WebSocket listen: where the sessions' resume secrets are kept (default: in memory). */
  resumeSecrets?: ResumeSecretStore;
  /** Protocol problems (a packet for no session, a refused peer); the link goes on. */
  onError?: (err: TransportError) => void;
  /**
   * Run-time warnings (a link without a key, issue #20 item 5). Default: one line on stderr, so a
   * plain `stcts send`/`receive` always says it accepts anyone.
   */
  onWarning?: (message: string) => void;
}

/** What `stcts send`/`receive` say when they run without `--psk-file` (issue #20 item 5). */
export const PLAIN_LINK_WARNING = 'no --psk-file: this link is neither authenticated nor encrypted; anyone who can reach it can listen, and a receiver accepts any sender (make a key: openssl rand -hex 32 > F; chmod 600 F, and give both ends --psk-file F)';

function warnPlain(o: LinkUrlOptions): void {
  if (o.security) return;
  if (o.onWarning) o.onWarning(PLAIN_LINK_WARNING);
  else process.stderr.write(`stcts: warning: ${PLAIN_LINK_WARNING}\n`);
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

/** This process's id in link handshakes (the peer sees a restart as a new id). */
const INSTANCE_ID = randomBytes(8);
/** Bytes of handshake message 2, the longest one (measured: 97 with the CLI's node names). */
const HANDSHAKE_MSG2_BYTES = 97;

/**
 * Amateur mode (a KISS callsign) keeps the handshake's authentication and sends every packet
 * authenticated but not encrypted (issue #20 item 6, `encrypt: false`): amateur rules forbid
 * obscuring the meaning of traffic, not proving who sent it.
 */
function amateurMode(url: string, kind: LinkUrlKind, o: LinkUrlOptions): boolean {
  return kind === 'kiss' && (o.kiss?.callsign ?? parseKissUrl(url).options.callsign) !== undefined;
}

/** Options of a secured datagram link: handshake timers from the link's airtime (≈ 2× message 2's). */
function secureOptions(inner: DatagramLink, amateur: boolean) {
  const retransmitMs = Math.max(1000, Math.ceil(2 * inner.cost.packetCost(HANDSHAKE_MSG2_BYTES).airtimeMs));
  return { handshake: { retransmitMs, maxRetransmitMs: Math.max(16_000, 4 * retransmitMs), deadlineMs: Math.max(60_000, 12 * retransmitMs) }, aead: { encrypt: !amateur }, silenceRehandshakeMs: Math.max(5000, 4 * retransmitMs) };
}

/**
 * A listening UDP link under the handshake: the UDP link pins nobody by itself (`pinning:
 * 'manual'`); a message 1 from a new source, once admitted, pins that source for the handshake —
 * when nobody is authenticated yet, or the authenticated peer has been silent for `idleMs` (it
 * restarted on another port, or its NAT mapping moved). A failed handshake puts the pin back on the
 * authenticated peer. Everything else from other sources stays dropped (`foreign_source`).
 */
function secureUdpListener(udp: UdpLink, security: LinkSecurity, o: { staticKey: KeyPair; admission: HandshakeAdmission; idleMs: number; onError: ((err: TransportError) => void) | undefined }): SecureDatagramLink {
  let handler: (d: Uint8Array) => void = () => {};
  let lastHeardMs = -Infinity;
  let source = '';
  let authenticated: UdpPeer | undefined;
  const view: DatagramLink = {
    kind: udp.kind,
    get mtu() {
      return udp.mtu;
    },
    get cost() {
      return udp.cost;
    },
    get state() {
      return udp.state;
    },
    get stats() {
      return udp.stats;
    },
    get description() {
      return udp.description;
    },
    send: (d) => udp.send(d),
    onDatagram: (h) => {
      handler = h;
    },
    onState: (h) => udp.onState(h),
    close: () => udp.close(),
  };
  udp.onDatagram((d) => {
    lastHeardMs = Date.now();
    source = udp.peer?.address ?? '';
    handler(d);
  });
  udp.onCandidate((d, from) => {
    if (d.length === 0 || d.length > MAX_HANDSHAKE_DATAGRAM_BYTES || d[0] !== HS_MSG1) return;
    if (secured.remote && Date.now() - lastHeardMs < o.idleMs) return;
    udp.pin(from);
    source = from.address;
    handler(d);
  });
  const secured: SecureDatagramLink = new SecureDatagramLink(
    view,
    { role: 'responder', me: { name: security.name ?? 'stcts-receive', staticKey: o.staticKey, instanceId: INSTANCE_ID }, peers: [{ name: ANY_PEER, psk: noisePskOf(security.psk) }] },
    { ...secureOptions(udp, false), admission: { admission: o.admission, address: () => source } },
    {
      established: () => {
        authenticated = udp.peer;
      },
      failed: (err) => {
        o.onError?.(err);
        if (authenticated) udp.pin(authenticated);
      },
      refused: (err) => o.onError?.(err),
    },
  );
  return secured;
}

async function openDatagram(url: string, kind: 'udp' | 'kiss' | 'freedv', role: 'dial' | 'listen', o: LinkUrlOptions): Promise<DatagramLink> {
  const amateur = amateurMode(url, kind, o);
  const security = o.security;
  if (kind === 'udp') {
    const udp = await openUdpLink(url, { ...o.udp, role, budgetBitsPerSecond: o.budgetBitsPerSecond, ...(security && role === 'listen' ? { pinning: 'manual' as const } : {}) });
    if (!security) return udp;
    const staticKey = generateKeyPair();
    if (role === 'listen') return secureUdpListener(udp, security, { staticKey, admission: new HandshakeAdmission(), idleMs: 45_000, onError: o.onError });
    return new SecureDatagramLink(udp, { role: 'initiator', me: { name: security.name ?? 'stcts', staticKey, instanceId: INSTANCE_ID }, peer: { name: ANY_PEER, psk: noisePskOf(security.psk) } }, secureOptions(udp, false), handshakeEvents(o));
  }
  // A radio (KISS TNC or FreeDV modem) has no listen/dial distinction: the sender starts the handshake, the receiver answers.
  const kiss: DatagramLink = kind === 'kiss' ? await openKissLink(url, o.kiss ?? {}) : await openFreedvLink(url);
  if (!security) return kiss;
  const me = { name: security.name ?? (role === 'dial' ? 'stcts' : 'stcts-receive'), staticKey: generateKeyPair(), instanceId: INSTANCE_ID };
  const peer = { name: ANY_PEER, psk: noisePskOf(security.psk) };
  const admission = new HandshakeAdmission();
  const who = role === 'dial' ? { role: 'initiator' as const, me, peer } : { role: 'responder' as const, me, peers: [peer] };
  return new SecureDatagramLink(kiss, who, { ...secureOptions(kiss, amateur), ...(role === 'listen' ? { admission: { admission, address: () => 'kiss' } } : {}) }, handshakeEvents(o));
}

/**
 * A wrong key on the dialing side is fatal (retrying cannot fix it), as on WebSocket links: the
 * responder's authenticated refusal (message R, link-handshake.ts) says so within one round trip.
 */
function handshakeEvents(o: LinkUrlOptions) {
  return {
    failed: (err: TransportError) => {
      if (err.code === 'auth_failed') o.onFatal?.(err);
      else o.onError?.(err);
    },
    refused: (err: TransportError) => o.onError?.(err),
  };
}

/**
 * Dials `url` and runs `session` over it (`stcts send`). `makeSession(cost)` builds the session
 * once the link's cost model is known (ARQ tuning and pacing follow from it). WebSocket links
 * reconnect by themselves; UDP needs no reconnect; KISS re-attaches to a TNC that went away.
 */
export async function dialSession(url: string, makeSession: (cost: PacketCostModel) => LinkSession, o: LinkUrlOptions): Promise<SessionCarrier & { session: LinkSession }> {
  const kind = linkKindOf(url);
  if (kind === 'ws') {
    warnPlain(o);
    const cost = webSocketCost({ client: true, budgetBitsPerSecond: o.budgetBitsPerSecond });
    const session = makeSession(cost);
    const conn = connectLink(url, session, { ...(o.onState ? { onState: o.onState } : {}), ...(o.security ? { security: o.security } : {}), ...(o.onFatal ? { onFatal: o.onFatal } : {}), ...(o.resumeSecret ? { resumeSecret: o.resumeSecret } : {}) });
    return { kind, cost, session, close: async () => conn.close() };
  }
  warnPlain(o);
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
    warnPlain(o);
    const cost = webSocketCost({ client: false, budgetBitsPerSecond: o.budgetBitsPerSecond });
    const host = m[1]!.replace(/^\[|\]$/g, '') || '127.0.0.1';
    const server = await listenLink({ host, port: Number(m[2]), sessionFor: (id) => sessionFor(id, cost), ...(o.security ? { security: o.security } : {}), ...(o.onError ? { onError: o.onError } : {}), ...(o.resumeSecrets ? { resumeSecrets: o.resumeSecrets } : {}) });
    o.onListening?.(`ws://${host.includes(':') ? `[${host}]` : host}:${server.port}`);
    return { kind, cost, close: () => server.close() };
  }
  warnPlain(o);
  const link = await openDatagram(u, kind, 'listen', o);
  link.onState((s) => o.onState?.(s));
  serveSessionsOn(link, (id) => sessionFor(id, link.cost), o.onError);
  o.onListening?.(link.description);
  return { kind, cost: link.cost, link, close: () => link.close() };
}
