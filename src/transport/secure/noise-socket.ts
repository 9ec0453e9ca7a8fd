import { WebSocket } from 'ws';
import { TransportError } from '../../core/errors.ts';
import { AeadPacketOpener, AeadPacketSealer, type AeadOptions } from './aead-packet.ts';
import type { AdmissionTicket, HandshakeAdmission } from './admission.ts';
import { ANY_PEER, type EstablishedLink, type HandshakeStep, HS_MSG1, LinkHandshakeInitiator, LinkHandshakeResponder, MAX_HANDSHAKE_DATAGRAM_BYTES, noisePskOf, type PeerCredentials } from './link-handshake.ts';
import { generateKeyPair, type KeyPair } from './noise.ts';
import { CLOSE_AUTH_FAILED, SecureConnection } from './secure-socket.ts';

/**
 * The issue-#20 handshake (Noise XXpsk3 + confirmation, `link-handshake.ts`) and AES-128-CCM
 * packets (`aead-packet.ts`) on a WebSocket, returning the same {@link SecureConnection} as the
 * legacy `acceptSecure`/`connectSecure`, so the daemon and `ws.ts` swap one call each. Link keys
 * come from the handshake only (ephemeral DH + the pair's PSK): an end-to-end key, if configured,
 * is never a link key.
 */

/** One configured peer as the socket layer needs it. */
export interface NoisePeer {
  /** Node name, or '*' for any (plain `stcts send`/`receive` with one key). */
  name: string;
  /** The pair's pre-shared key as configured (hex, base64 …); hashed into a 32-byte Noise PSK. */
  psk: string | Uint8Array;
  /** Pinned static public key of the peer (optional). */
  staticKey?: Uint8Array;
}

export interface NoiseSocketOptions {
  /** This node's random per-process id (8 bytes). */
  instanceId: Uint8Array;
  /** This node's static key; default a fresh one per connection (then only the PSK identifies us). */
  staticKey?: KeyPair;
  /** Whole-handshake deadline, ms. Default 5000 (unanswered messages go again after ≤ 1 s). */
  timeoutMs?: number;
  /** Responder only: caps and rate limits before any work; `address` is the remote address. */
  admission?: { admission: HandshakeAdmission; address: string };
  /** Packet-protection options (tests: clock, limits). */
  aead?: Partial<AeadOptions>;
  now?: () => number;
}

const credentials = (p: NoisePeer): PeerCredentials => ({ name: p.name, psk: noisePskOf(p.psk), ...(p.staticKey ? { staticKey: p.staticKey } : {}) });

function connectionOf(ws: WebSocket, est: EstablishedLink, aead: Partial<AeadOptions> | undefined): SecureConnection {
  return new SecureConnection(ws, est.remoteName, est.remoteInstance, new AeadPacketSealer(est.sendSecret, aead), new AeadPacketOpener(est.receiveSecret, aead), est.handshakeHash);
}

interface Machine {
  receive(d: Uint8Array, nowMs: number): HandshakeStep;
  poll(nowMs: number): HandshakeStep;
  nextTimerMs(): number;
}

/**
 * Handshake timers on a WebSocket: the transport is reliable, but a relay may drop what arrives
 * before its upstream is open, so a message without an answer goes again after a second.
 */
const wsHandshakeOptions = (timeoutMs: number) => ({ retransmitMs: Math.min(1000, timeoutMs / 4), maxRetransmitMs: 2000, deadlineMs: timeoutMs });

/**
 * Runs a handshake machine on a socket: every binary message goes to it until it is established;
 * the connection is built synchronously inside the message handler, so a data packet that arrives
 * in the same TCP segment as the last handshake message reaches the connection's listener.
 */
function drive(ws: WebSocket, m: Machine, start: HandshakeStep | undefined, o: NoiseSocketOptions, onDone: (outcome: 'authenticated' | 'failed' | 'timeout') => void): Promise<SecureConnection> {
  const now = o.now ?? (() => Date.now());
  const timeoutMs = o.timeoutMs ?? 5000;
  const responder = start === undefined;
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err: TransportError | undefined, conn?: SecureConnection) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(pollTimer);
      ws.off('message', onMessage);
      ws.off('close', onClose);
      onDone(err === undefined ? 'authenticated' : err.code === 'timeout' ? 'timeout' : 'failed');
      if (err) {
        const refuse = err.code === 'auth_failed' || (responder && err.code === 'protocol');
        if (refuse && ws.readyState === WebSocket.OPEN) ws.close(CLOSE_AUTH_FAILED, 'authentication failed');
        else ws.terminate();
        reject(err);
      } else resolve(conn!);
    };
    let pollTimer: NodeJS.Timeout | undefined;
    const apply = (step: HandshakeStep) => {
      for (const d of step.send) if (ws.readyState === WebSocket.OPEN) ws.send(d);
      if (step.failed) return finish(step.failed);
      if (step.established) return finish(undefined, connectionOf(ws, step.established, o.aead));
      clearTimeout(pollTimer);
      const next = m.nextTimerMs();
      if (Number.isFinite(next)) pollTimer = setTimeout(() => !settled && apply(m.poll(now())), Math.max(0, next - now()));
    };
    let first = true;
    const onMessage = (data: Buffer, isBinary: boolean) => {
      if (!isBinary || data.length > MAX_HANDSHAKE_DATAGRAM_BYTES) return finish(new TransportError('protocol', 'the peer is not an stcts link (bad handshake message)'));
      // A WebSocket is reliable and ordered: a caller whose first message is not message 1 is
      // refused (close 4401) like the legacy handshake refused a malformed one.
      if (first && responder && data[0] !== HS_MSG1) return finish(new TransportError('auth_failed', 'not an stcts handshake (expected message 1)'));
      first = false;
      apply(m.receive(new Uint8Array(data), now()));
    };
    const onClose = (code: number) =>
      finish(code === CLOSE_AUTH_FAILED ? new TransportError('auth_failed', 'the peer refused our key (wrong psk or unknown node name)') : new TransportError('closed', `connection closed during the handshake (code ${code})`));
    const timer = setTimeout(() => finish(new TransportError('timeout', `no handshake within ${timeoutMs} ms`)), timeoutMs);
    ws.on('message', onMessage);
    ws.on('close', onClose);
    if (start) apply(start);
  });
}

/** Dialing side. `peer.name` is whom we mean to reach ('*' when unknown, e.g. `stcts send`). */
export async function connectSecureNoise(ws: WebSocket, name: string, peer: NoisePeer, options: NoiseSocketOptions): Promise<SecureConnection> {
  const now = options.now ?? (() => Date.now());
  const timeoutMs = options.timeoutMs ?? 5000;
  if (ws.readyState !== WebSocket.OPEN) {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', (e) => reject(new TransportError('refused', `cannot connect: ${e.message}`)));
      ws.once('close', () => reject(new TransportError('closed', 'connection closed before it opened')));
    });
  }
  const me = { name, staticKey: options.staticKey ?? generateKeyPair(), instanceId: options.instanceId };
  const hs = new LinkHandshakeInitiator(me, credentials({ ...peer, name: peer.name || ANY_PEER }), now(), wsHandshakeOptions(timeoutMs));
  return drive(ws, hs, hs.start(now()), options, () => {});
}

/**
 * Listening side: `name` is this node's name; `peers()` the configured peers (their PSKs are tried
 * on message 3, at most 64). A refusal by {@link NoiseSocketOptions.admission} closes the socket
 * with 1013 (try again later) and rejects with `TransportError('refused')` before any crypto.
 */
export async function acceptSecureNoise(ws: WebSocket, name: string, peers: () => readonly NoisePeer[], options: NoiseSocketOptions): Promise<SecureConnection> {
  const now = options.now ?? (() => Date.now());
  const timeoutMs = options.timeoutMs ?? 5000;
  let ticket: AdmissionTicket | undefined;
  const adm = options.admission;
  if (adm) {
    const r = adm.admission.admit(adm.address, now());
    if ('refused' in r) {
      ws.close(1013, 'try again later');
      throw new TransportError('refused', `handshake from ${adm.address} refused (${r.refused})`, { reason: r.refused });
    }
    ticket = r.ticket;
  }
  const me = { name, staticKey: options.staticKey ?? generateKeyPair(), instanceId: options.instanceId };
  const hs = new LinkHandshakeResponder(me, peers().slice(0, 64).map(credentials), now(), wsHandshakeOptions(timeoutMs));
  return drive(ws, hs, undefined, options, (outcome) => {
    if (ticket && adm) adm.admission.finish(ticket, outcome);
  });
}
