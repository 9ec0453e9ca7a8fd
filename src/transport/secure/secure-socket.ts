import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { WebSocket } from 'ws';
import { TransportError } from '../../core/errors.ts';
import { deriveSessionKeys, PacketOpener, PacketSealer, PROTECTION_OVERHEAD_BYTES, type OpenerStats, type RejectReason } from './packet-protection.ts';

/** WebSocket close code for a failed authentication (4000–4999: application codes). */
export const CLOSE_AUTH_FAILED = 4401;
/** WebSocket close code asking the dialer to reconnect for fresh keys (age/packet limit, or lost sync). */
export const CLOSE_REKEY = 4409;

/** What seals a connection's outgoing packets (the legacy {@link PacketSealer} or `AeadPacketSealer`). */
export interface LinkPacketSealer {
  seal(packet: Uint8Array): Uint8Array;
  /** True when the keys are due for a new handshake (the connection then closes with {@link CLOSE_REKEY}). */
  readonly rehandshakeDue?: boolean;
}

/** What opens a connection's incoming packets; never throws on bad input. */
export interface LinkPacketOpener {
  readonly stats: OpenerStats;
  open(bytes: Uint8Array): { packet: Uint8Array } | { rejected: RejectReason };
  /** True when the receiver lost its place for good (the connection then closes with {@link CLOSE_REKEY}). */
  readonly needsReconnect?: boolean;
}
/** Largest handshake message, bytes. */
const MAX_HANDSHAKE_BYTES = 256;
const NONCE_BYTES = 16;
const INSTANCE_BYTES = 8;
const MAC_BYTES = 32;
const MAGIC = 0x53;
const HELLO = 1;
const AUTH = 2;
const OK = 3;

/** What each side knows about a peer: the authentication key and the end-to-end key. */
export interface PeerSecrets {
  psk: string | Uint8Array;
  /** Input key of the per-session packet keys; default the psk. */
  key?: string | Uint8Array;
}

export interface HandshakeOptions {
  /** This node's random per-process id (8 bytes): the peer learns from it that we restarted. */
  instanceId: Uint8Array;
  /** Give up on a peer that does not finish the handshake, ms. Default 5000. */
  timeoutMs?: number;
}

/**
 * An authenticated, encrypted WebSocket between two edge boxes. Each binary message is one link
 * packet sealed with {@link PacketSealer} (10 bytes of overhead); rejected packets are counted and
 * reported, never thrown.
 */
export class SecureConnection {
  private readonly sealer: LinkPacketSealer;
  readonly opener: LinkPacketOpener;
  private packetHandler: (packet: Uint8Array) => void = () => {};
  private rejectHandler: (reason: RejectReason) => void = () => {};
  private readonly closeHandlers: Array<(code: number) => void> = [];
  private closeCode = 1006;
  private closed = false;

  constructor(
    private readonly ws: WebSocket,
    /** Name the peer authenticated as. */
    readonly remoteName: string,
    /** The peer's per-process id, hex: changes when the peer restarts. */
    readonly remoteInstance: string,
    sealer: LinkPacketSealer,
    opener: LinkPacketOpener,
    /**
     * A secret-free value unique to this connection's keys (the Noise handshake hash; empty for the
     * legacy handshake): bind a session resume to it, or derive a per-session resume secret from it.
     */
    readonly channelBinding: Uint8Array = new Uint8Array(0),
  ) {
    this.sealer = sealer;
    this.opener = opener;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        this.rejectHandler('malformed');
        return;
      }
      const r = this.opener.open(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      if ('packet' in r) this.packetHandler(r.packet);
      else {
        this.rejectHandler(r.rejected);
        if (this.opener.needsReconnect) this.close(CLOSE_REKEY);
      }
    });
    ws.on('error', (e: Error & { code?: string }) => {
      // ws closes the socket (1009) on a message beyond maxPayload: count it as a rejected packet.
      if (e.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.rejectHandler('malformed');
    });
    ws.on('close', (code: number) => {
      this.closed = true;
      this.closeCode = code;
      for (const h of this.closeHandlers.splice(0)) h(code);
    });
  }

  get open(): boolean {
    return !this.closed && this.ws.readyState === WebSocket.OPEN;
  }

  /** Bytes each packet costs on top of the link packet. */
  get overheadBytes(): number {
    return PROTECTION_OVERHEAD_BYTES;
  }

  onPacket(h: (packet: Uint8Array) => void): void {
    this.packetHandler = h;
  }

  onReject(h: (reason: RejectReason) => void): void {
    this.rejectHandler = h;
  }

  /** `h` gets the WebSocket close code ({@link CLOSE_REKEY}: new keys due, reconnect at once). */
  onClose(h: (code: number) => void): void {
    if (this.closed) h(this.closeCode);
    else this.closeHandlers.push(h);
  }

  /** Seals and sends one link packet; returns the bytes put on the socket (0 when closed). */
  send(packet: Uint8Array): number {
    if (!this.open) return 0;
    if (this.sealer.rehandshakeDue) {
      this.close(CLOSE_REKEY);
      return 0;
    }
    const sealed = this.sealer.seal(packet);
    this.ws.send(sealed);
    return sealed.length;
  }

  /** True when the keys are due for a new handshake: close with {@link CLOSE_REKEY} and reconnect. */
  get rehandshakeDue(): boolean {
    return this.sealer.rehandshakeDue === true;
  }

  /** Seals without sending (the caller puts it on the wire later, e.g. through the link emulator). */
  seal(packet: Uint8Array): Uint8Array {
    return this.sealer.seal(packet);
  }

  /** Sends already sealed bytes; false when the socket is gone. */
  sendSealed(sealed: Uint8Array): boolean {
    if (!this.open) return false;
    this.ws.send(sealed);
    return true;
  }

  /** Idempotent. */
  close(code = 1000): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code);
    else this.ws.terminate();
  }
}

function toBytes(k: string | Uint8Array): Buffer {
  return typeof k === 'string' ? Buffer.from(k, 'utf8') : Buffer.from(k);
}

function authMac(psk: string | Uint8Array, role: 'client' | 'server', sn: Uint8Array, cn: Uint8Array, si: Uint8Array, ci: Uint8Array, name: Uint8Array): Buffer {
  return createHmac('sha256', toBytes(psk)).update(`stcts/v1/auth/${role}`).update(sn).update(cn).update(si).update(ci).update(name).digest();
}

/** Next binary message of a socket during the handshake, with a timeout and a size cap. */
function nextMessage(ws: WebSocket, timeoutMs: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      ws.off('close', onClose);
    };
    const onMessage = (data: Buffer, isBinary: boolean) => {
      cleanup();
      if (!isBinary || data.length > MAX_HANDSHAKE_BYTES) reject(new TransportError('protocol', 'bad handshake message'));
      else resolve(new Uint8Array(data));
    };
    const onClose = (code: number) => {
      cleanup();
      reject(code === CLOSE_AUTH_FAILED ? new TransportError('auth_failed', 'the peer refused our key (wrong psk or unknown node name)') : new TransportError('closed', `connection closed during the handshake (code ${code})`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new TransportError('timeout', `no handshake reply within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.on('message', onMessage);
    ws.on('close', onClose);
  });
}

/**
 * Server side of the challenge–response: sends a nonce, checks the client's HMAC-SHA256 over both
 * nonces (keyed by the psk of the peer it names), proves it knows the same key. A wrong key or an
 * unknown name closes the socket with {@link CLOSE_AUTH_FAILED} and rejects with
 * `TransportError('auth_failed')` (details.peer names who tried).
 */
export async function acceptSecure(ws: WebSocket, lookup: (name: string) => PeerSecrets | undefined, options: HandshakeOptions): Promise<SecureConnection> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const sn = randomBytes(NONCE_BYTES);
  const si = options.instanceId;
  const firstReply = nextMessage(ws, timeoutMs);
  ws.send(Buffer.concat([Buffer.from([MAGIC, HELLO]), sn, si]));
  let m: Uint8Array;
  try {
    m = await firstReply;
  } catch (err) {
    ws.terminate();
    throw err;
  }
  const fail = (why: string, name?: string): never => {
    ws.close(CLOSE_AUTH_FAILED, 'authentication failed');
    throw new TransportError('auth_failed', why, name ? { peer: name } : undefined);
  };
  if (m.length < 2 + NONCE_BYTES + INSTANCE_BYTES + 1 + MAC_BYTES || m[0] !== MAGIC || m[1] !== AUTH) fail('malformed authentication message');
  let o = 2;
  const cn = m.subarray(o, (o += NONCE_BYTES));
  const ci = m.subarray(o, (o += INSTANCE_BYTES));
  const nameLen = m[o++]!;
  if (m.length !== o + nameLen + MAC_BYTES) fail('malformed authentication message');
  const nameBytes = m.subarray(o, (o += nameLen));
  const name = Buffer.from(nameBytes).toString('utf8');
  const mac = m.subarray(o, o + MAC_BYTES);
  const secrets = lookup(name);
  if (!secrets) fail(`unknown peer '${name}'`, name);
  const expected = authMac(secrets!.psk, 'client', sn, cn, si, ci, nameBytes);
  if (!timingSafeEqual(expected, mac)) fail(`wrong key from peer '${name}'`, name);
  ws.send(Buffer.concat([Buffer.from([MAGIC, OK]), authMac(secrets!.psk, 'server', sn, cn, si, ci, nameBytes)]));
  const keys = deriveSessionKeys(toBytes(secrets!.key ?? secrets!.psk), sn, cn);
  return new SecureConnection(ws, name, Buffer.from(ci).toString('hex'), new PacketSealer(keys.s2c), new PacketOpener(keys.c2s));
}

/**
 * Client side: answers the server's challenge as `name` and checks the server's proof (a server
 * that does not know the key is refused the same way). Resolves once the channel is ready.
 */
export async function connectSecure(ws: WebSocket, name: string, secrets: PeerSecrets, options: HandshakeOptions): Promise<SecureConnection> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const hello = nextMessage(ws, timeoutMs);
  hello.catch(() => {}); // awaited below; avoids an unhandled rejection if opening fails first
  if (ws.readyState !== WebSocket.OPEN) {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', (e) => reject(new TransportError('refused', `cannot connect: ${e.message}`)));
      ws.once('close', () => reject(new TransportError('closed', 'connection closed before it opened')));
    });
  }
  const h = await hello;
  if (h.length !== 2 + NONCE_BYTES + INSTANCE_BYTES || h[0] !== MAGIC || h[1] !== HELLO) {
    ws.terminate();
    throw new TransportError('protocol', 'the peer is not an stcts link (bad hello)');
  }
  const sn = h.subarray(2, 2 + NONCE_BYTES);
  const si = h.subarray(2 + NONCE_BYTES);
  const cn = randomBytes(NONCE_BYTES);
  const ci = options.instanceId;
  const nameBytes = Buffer.from(name, 'utf8');
  if (nameBytes.length > 63) throw new TransportError('protocol', 'node name longer than 63 bytes');
  const reply = nextMessage(ws, timeoutMs);
  ws.send(Buffer.concat([Buffer.from([MAGIC, AUTH]), cn, ci, Buffer.from([nameBytes.length]), nameBytes, authMac(secrets.psk, 'client', sn, cn, si, ci, nameBytes)]));
  let ok: Uint8Array;
  try {
    ok = await reply;
  } catch (err) {
    ws.terminate();
    throw err;
  }
  const expected = authMac(secrets.psk, 'server', sn, cn, si, ci, nameBytes);
  if (ok.length !== 2 + MAC_BYTES || ok[0] !== MAGIC || ok[1] !== OK || !timingSafeEqual(expected, ok.subarray(2))) {
    ws.close(CLOSE_AUTH_FAILED, 'authentication failed');
    throw new TransportError('auth_failed', 'the peer could not prove it knows the key', { peer: name });
  }
  const keys = deriveSessionKeys(toBytes(secrets.key ?? secrets.psk), sn, cn);
  return new SecureConnection(ws, '', Buffer.from(si).toString('hex'), new PacketSealer(keys.c2s), new PacketOpener(keys.s2c));
}
