import { randomBytes, timingSafeEqual } from 'node:crypto';
import { WebSocket, WebSocketServer } from 'ws';
import { TransportError } from '../core/errors.ts';
import { MAX_PACKET_BYTES } from './packet.ts';
import { packetRoute, resolveRoute } from './link-packet.ts';
import type { LinkSession, PacketPort } from './link-session.ts';
import { acceptSecureNoise, ANY_PEER, CLOSE_AUTH_FAILED, CLOSE_REKEY, connectSecureNoise, PROTECTION_OVERHEAD_BYTES, type SecureConnection } from './secure/index.ts';

/**
 * Pre-shared-key protection of a link, the edge daemon's scheme (src/transport/secure): mutual
 * challenge–response, then every packet encrypted and tagged (10 bytes per packet, counted).
 */
export interface LinkSecurity {
  /** The shared key, ≥ 16 bytes. */
  psk: string;
  /** Name the dialing side announces (default `stcts`). */
  name?: string;
}

/** Largest WebSocket message a link accepts: a sealed link packet (the handshake's are smaller). */
const MAX_MESSAGE_BYTES = MAX_PACKET_BYTES + PROTECTION_OVERHEAD_BYTES;
/** Close code for a connection that named a session another connection holds (issue #20 item 5). */
export const CLOSE_SESSION_HELD = 4403;

/**
 * HTTP header of the WebSocket upgrade carrying a plain link's per-session resume secret (issue #20
 * item 5): 16 random bytes, hex, chosen by the sender for its session and kept in its state dir.
 * The receiver binds the session to the first secret it sees; a later connection naming the same
 * session must show the same secret (from any address: a sender whose NAT mapping moved may resume).
 * It costs nothing on the link (it rides the HTTP upgrade, once per connection).
 */
export const RESUME_HEADER = 'stcts-resume';
const RESUME_SECRET_RE = /^[0-9a-f]{32}$/;

/** A new resume secret (hex). */
export function newResumeSecret(): string {
  return randomBytes(16).toString('hex');
}

/** Where a receiver keeps each session's resume secret (a state dir keeps them across restarts). */
export interface ResumeSecretStore {
  get(sessionId: number): string | undefined;
  set(sessionId: number, secret: string): void;
}

const sameSecret = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** This process's id in handshakes (the peer sees a restart as a new id). */
const INSTANCE_ID = randomBytes(8);

/** A protected connection as a packet port. */
function securePort(conn: SecureConnection): PacketPort {
  return {
    get connected() {
      return conn.open;
    },
    send: (packet) => conn.send(packet),
  };
}

/** A WebSocket as a packet port: one binary message = one link packet. */
export class WebSocketPort implements PacketPort {
  constructor(private readonly ws: WebSocket) {}
  get connected(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }
  send(packet: Uint8Array): void {
    if (this.connected) this.ws.send(packet);
  }
}

export interface ServerOptions {
  host: string;
  port: number;
  /** Called for each new session id (first packet of a new peer); returns its LinkSession. */
  sessionFor: (sessionId: number) => LinkSession;
  /** Require peers to prove they know this key, and seal every packet (default: plain link). */
  security?: LinkSecurity;
  /** Protocol problems and refused peers (`auth_failed`: a wrong key or no key); the server goes on. */
  onError?: (err: TransportError) => void;
  /** Plain links: keeps the sessions' resume secrets (default: in memory, for this process's life). */
  resumeSecrets?: ResumeSecretStore;
}

/**
 * Listens for peers. Sessions are keyed by the session id in the first frame of the first packet,
 * and survive reconnects: a peer that comes back with the same session id resumes where it was.
 */
export async function listenLink(options: ServerOptions): Promise<{ close(): Promise<void>; port: number }> {
  const sessions = new Map<number, LinkSession>();
  /**
   * Who holds each session (issue #20 item 5): on a plain link only a connection that shows the
   * session's resume secret ({@link RESUME_HEADER}) may resume it, so a stranger cannot take a
   * session over by guessing or sniffing its id, even from the same NAT address; a sender too old
   * to send a secret is bound to its first remote address instead. On a secured link only a peer
   * that proved the key may (the handshake did). The resuming connection replaces the old one.
   */
  const owners = new Map<number, { ws: WebSocket; address: string }>();
  const memorySecrets = new Map<number, string>();
  const secrets: ResumeSecretStore = options.resumeSecrets ?? { get: (id) => memorySecrets.get(id), set: (id, secret) => void memorySecrets.set(id, secret) };
  const wss = new WebSocketServer({ host: options.host, port: options.port, maxPayload: MAX_MESSAGE_BYTES });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', (e) => reject(new TransportError('refused', `cannot listen on ${options.host}:${options.port}: ${e.message}`)));
  });
  wss.on('connection', (ws, req) => {
    let session: LinkSession | undefined;
    const address = req.socket.remoteAddress ?? '';
    const header = req.headers[RESUME_HEADER];
    const secret = typeof header === 'string' && RESUME_SECRET_RE.test(header) ? header : undefined;
    const onPacket = (bytes: Uint8Array, port: PacketPort, wireBytes = bytes.length) => {
      if (!session) {
        // A new connection names its session in full (a resume after a reconnect may name it by tag).
        const r = resolveRoute(packetRoute(bytes), sessions);
        if (!r) return;
        const owner = r.session ? owners.get(r.id) : undefined;
        if (!options.security) {
          const bound = secrets.get(r.id);
          const refusal = bound !== undefined ? (secret === undefined || !sameSecret(bound, secret) ? 'without its resume secret' : undefined) : owner && owner.address !== address ? `from ${address} (it belongs to ${owner.address})` : undefined;
          if (refusal) {
            options.onError?.(new TransportError('refused', `a connection named session ${r.id} ${refusal}; refused`, { reason: 'session_held', address }));
            ws.close(CLOSE_SESSION_HELD, 'session held by another peer');
            return;
          }
        }
        // The same peer back (its old socket may linger half-open after an outage): the newest wins.
        if (owner && owner.ws !== ws) owner.ws.terminate();
        session = r.session ?? options.sessionFor(r.id);
        // A new session is bound to the secret its first connection showed.
        if (!options.security && !owner && secret !== undefined && secrets.get(r.id) === undefined) secrets.set(r.id, secret);
        sessions.set(r.id, session);
        owners.set(r.id, { ws, address });
        session.attach(port);
      }
      void session.onPacket(bytes, wireBytes);
    };
    ws.on('error', (e) => options.onError?.(new TransportError('protocol', e.message)));
    const security = options.security;
    if (security) {
      acceptSecureNoise(ws, 'stcts-receive', () => [{ name: ANY_PEER, psk: security.psk }], { instanceId: INSTANCE_ID }).then(
        (conn) => {
          const port = securePort(conn);
          conn.onPacket((bytes) => onPacket(bytes, port, bytes.length + conn.overheadBytes));
          conn.onReject((reason) => options.onError?.(new TransportError('protocol', `rejected a link packet (${reason})`)));
          conn.onClose(() => session?.detach());
        },
        (err: unknown) => options.onError?.(err instanceof TransportError ? err : new TransportError('protocol', String(err))),
      );
      return;
    }
    const port = new WebSocketPort(ws);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        options.onError?.(new TransportError('protocol', 'text message on the link; closing'));
        ws.close(1003);
        return;
      }
      onPacket(new Uint8Array(data), port);
    });
    ws.on('close', () => session?.detach());
  });
  const address = wss.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    close: () => new Promise<void>((resolve) => {
      for (const c of wss.clients) c.terminate();
      wss.close(() => resolve());
    }),
  };
}


/** Options of {@link connectLink}. */
export interface ConnectOptions {
  maxBackoffMs?: number;
  onState?: (s: 'connected' | 'disconnected') => void;
  /** Prove the key to the server and seal every packet (the server must use the same key). */
  security?: LinkSecurity;
  /** Plain links: this session's resume secret ({@link RESUME_HEADER}; default: a new one for this call). */
  resumeSecret?: string;
  /**
   * A failure that retrying cannot fix: `auth_failed` (the server refused our key, or could not
   * prove it knows it). The link then stops reconnecting.
   */
  onFatal?: (err: TransportError) => void;
}

/**
 * Connects a session to a peer and keeps it connected: on close or error it reconnects with
 * exponential back-off (capped), re-attaching the same LinkSession so the transfer resumes.
 */
export function connectLink(url: string, session: LinkSession, options: ConnectOptions = {}): { close(): void } {
  let stopped = false;
  let backoff = 250;
  let ws: WebSocket | undefined;
  let retry: NodeJS.Timeout | undefined;
  const resumeSecret = options.resumeSecret ?? newResumeSecret();
  if (!RESUME_SECRET_RE.test(resumeSecret)) throw new TransportError('protocol', 'a resume secret is 32 hex digits');
  const opened = (port: PacketPort) => {
    backoff = 250;
    session.attach(port);
    options.onState?.('connected');
  };
  const connect = () => {
    if (stopped) return;
    const socket = (ws = new WebSocket(url, { maxPayload: MAX_MESSAGE_BYTES, ...(options.security ? {} : { headers: { [RESUME_HEADER]: resumeSecret } }) }));
    socket.binaryType = 'nodebuffer';
    const security = options.security;
    if (security) {
      connectSecureNoise(socket, security.name ?? 'stcts', { name: ANY_PEER, psk: security.psk }, { instanceId: INSTANCE_ID }).then(
        (conn) => {
          conn.onPacket((bytes) => void session.onPacket(bytes, bytes.length + conn.overheadBytes));
          opened(securePort(conn));
        },
        (err: unknown) => {
          if (err instanceof TransportError && err.code === 'auth_failed' && !stopped) {
            stopped = true; // (the socket's close, code 4401, may have said so already)
            options.onFatal?.(err);
          }
          socket.terminate(); // a lost or refused handshake: 'close' retries unless stopped
        },
      );
    } else {
      socket.on('open', () => opened(new WebSocketPort(socket)));
      socket.on('message', (data: Buffer) => void session.onPacket(new Uint8Array(data)));
    }
    socket.on('close', (code: number) => {
      session.detach();
      options.onState?.('disconnected');
      if (code === CLOSE_SESSION_HELD && !stopped) {
        // Our session id belongs to another peer on that receiver: retrying cannot help.
        stopped = true;
        options.onFatal?.(new TransportError('refused', 'the receiver holds this session for another peer'));
      }
      if (code === CLOSE_AUTH_FAILED && !stopped) {
        // The server requires a key we did not give (or refused ours): retrying cannot help.
        stopped = true;
        options.onFatal?.(new TransportError('auth_failed', security ? 'the peer refused our key' : 'the peer requires a pre-shared key (--psk-file)'));
      }
      if (!stopped) {
        // 4409 (keys due for renewal, or the receiver lost its place): reconnect at once, a fresh
        // handshake, the session resumes; anything else backs off.
        if (code === CLOSE_REKEY) {
          backoff = 250;
          retry = setTimeout(connect, 0);
        } else {
          retry = setTimeout(connect, backoff);
          backoff = Math.min(options.maxBackoffMs ?? 5000, backoff * 2);
        }
      }
    });
    socket.on('error', () => {});
  };
  connect();
  return {
    close() {
      stopped = true;
      if (retry) clearTimeout(retry);
      ws?.close();
    },
  };
}
