import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { TransportError } from '../../core/errors.ts';
import { CipherState, type KeyPair, XXpsk3Handshake } from './noise.ts';

/**
 * The stcts link handshake (issue #20): Noise_XXpsk3_25519_ChaChaPoly_SHA256 (`noise.ts`) plus one
 * confirmation message, as datagrams, with retransmission of a lost message by a timer, so it runs
 * over any link (WebSocket, UDP, KISS, FreeDV). Pure state machines: the caller passes bytes and
 * the clock in and puts the returned datagrams on its link.
 *
 *     1 I→R  0x51 ‖ e ‖ tag                                     (49 bytes)
 *     2 R→I  0x52 ‖ e ‖ enc(s) ‖ tag                            (97 bytes)
 *     3 I→R  0x53 ‖ enc(s) ‖ enc(from, to, instance) ‖ tag      (≈ 86 bytes with 5–6 letter names)
 *     4 R→I  0x54 ‖ enc(from, instance) ‖ tag                   (≈ 31 bytes)
 *     R  R→I  0x55 ‖ MAC(refusal key, SHA-256(message 3))[0..16]  (17 bytes, instead of 4)
 *
 * Identities: neither name travels in the clear. The initiator names itself and the node it means
 * to reach inside message 3 (under the pair's PSK); the responder learns which peer is calling from
 * which configured PSK authenticates message 3 and refuses a caller whose claimed name is not that
 * peer's (one PSK per pair, so a box holding the B–C key cannot pose as A to C). Message 4 proves
 * to the initiator that the responder holds the PSK and names the responder.
 *
 * Refusal: a message 3 that fails (a wrong PSK, a claimed name that is not the key's peer, a
 * different `to`) is answered with message R, a MAC under a key both sides derive from the
 * chaining key after message 2 (ee, es: secret to the two ends of this handshake) over the hash of
 * that message 3. The initiator accepts it only for its own message 3, so an off-path forger cannot
 * stop a dialer, and a forged message 3 injected by a third party earns a refusal the genuine
 * initiator ignores. It tells the dialer "the node you reached refused your key" at once, where it
 * would otherwise repeat message 3 until its deadline and start again, forever. (It does not prove
 * the responder holds any PSK: a stranger posing as the responder can refuse, as it can drop.)
 *
 * Retransmission: the initiator repeats message 1 until message 2 arrives and message 3 until
 * message 4 arrives; the responder answers a repeated message 1 or 3 with the same cached reply and
 * repeats message 2 until message 3 arrives. Every timer backs off (×2) up to a deadline.
 */
export const HS_VERSION_NIBBLE = 0x50;
export const HS_MSG1 = 0x51;
export const HS_MSG2 = 0x52;
export const HS_MSG3 = 0x53;
export const HS_MSG4 = 0x54;
export const HS_REFUSAL = 0x55;
const REFUSAL_TAG_BYTES = 16;
/** Largest handshake datagram accepted (a responder allocates nothing bigger before authentication). */
export const MAX_HANDSHAKE_DATAGRAM_BYTES = 256;
export const INSTANCE_ID_BYTES = 8;
const MAX_NAME_BYTES = 63;
/** Bound into every transcript (Noise prologue): protocol and version. */
export const LINK_PROLOGUE = new TextEncoder().encode('stcts/v1 link handshake');

/** True for a datagram that is a handshake message (first byte 0x51–0x55). */
export function isHandshakeDatagram(d: Uint8Array): boolean {
  return d.length > 0 && d[0]! >= HS_MSG1 && d[0]! <= HS_REFUSAL;
}

/** True for the initiator's error after the responder refused it (message R): retrying with the same key cannot help. */
export function refusedByPeer(err: TransportError): boolean {
  return (err.details as { refused?: unknown } | undefined)?.refused === true;
}

/** Message R for a refused message 3: the MAC binds it to that message and to this handshake's keys. */
function refusalOf(key: Uint8Array, msg3: Uint8Array): Uint8Array {
  const tag = createHmac('sha256', key).update('refused').update(createHash('sha256').update(msg3).digest()).digest().subarray(0, REFUSAL_TAG_BYTES);
  return frame(HS_REFUSAL, tag);
}

/**
 * The 32-byte Noise PSK of a configured secret (hex, base64 or text as written in the config):
 * HKDF-SHA256 of its bytes, so any encoding of ≥ 128 bits of key material gives a uniform key.
 */
export function noisePskOf(secret: string | Uint8Array): Uint8Array {
  const ikm = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  return new Uint8Array(hkdfSync('sha256', ikm, 'stcts/v1', 'noise psk', 32));
}

export interface LocalIdentity {
  /** This node's name (1–63 bytes UTF-8). */
  name: string;
  /** Static X25519 key pair (generate once per box; it is not secret-shared with anyone). */
  staticKey: KeyPair;
  /** Random per-process id: the peer learns from it that we restarted. */
  instanceId: Uint8Array;
}

/** A peer name that matches any name: plain `stcts send`/`receive` with one key and no names. */
export const ANY_PEER = '*';

export interface PeerCredentials {
  /** The peer's node name, or {@link ANY_PEER} (accept whatever name the key's holder gives). */
  name: string;
  /** 32-byte Noise PSK of this pair ({@link noisePskOf}). */
  psk: Uint8Array;
  /** Pin the peer's static public key (optional). */
  staticKey?: Uint8Array;
}

export interface LinkHandshakeOptions {
  /** First retransmission after this many ms; doubles each time. Default 4000 (a 97-byte message takes 2.6 s at 300 bit/s). */
  retransmitMs: number;
  /** Longest gap between retransmissions, ms. Default 16000. */
  maxRetransmitMs: number;
  /** Give up this long after the start, ms. Default 60000. */
  deadlineMs: number;
  /**
   * Unauthenticated messages 2/3 tolerated before the handshake fails (the state is kept across a
   * bad one, so a forged message injected on a datagram link cannot kill a genuine handshake).
   * Default 1: fail at the first (a WebSocket, where nobody can inject). Datagram links: 3.
   */
  maxBadMessages: number;
  /** Ephemeral key pair to use: only tests of forward secrecy set it (default: fresh per handshake). */
  ephemeralKey?: KeyPair;
}

export const DEFAULT_LINK_HANDSHAKE_OPTIONS: Readonly<LinkHandshakeOptions> = Object.freeze({ retransmitMs: 4000, maxRetransmitMs: 16000, deadlineMs: 60000, maxBadMessages: 1 });

/** Reads a message on a copy of the state; a failed read leaves the state as it was. */
function tryRead(hs: XXpsk3Handshake, body: Uint8Array): { hs: XXpsk3Handshake; payload: Uint8Array } {
  const trial = hs.clone();
  const payload = trial.readMessage(body);
  return { hs: trial, payload };
}

/** What a finished handshake gives the packet layer (`aead-packet.ts`). */
export interface EstablishedLink {
  /** Traffic secret of what we send / receive (per direction and per connection). */
  sendSecret: Uint8Array;
  receiveSecret: Uint8Array;
  remoteName: string;
  /** The peer's per-process id, hex. */
  remoteInstance: string;
  remoteStatic: Uint8Array;
  /** Noise transcript hash (channel binding, e.g. to bind a session resume to this connection). */
  handshakeHash: Uint8Array;
}

export interface HandshakeStep {
  /** Datagrams to put on the link now. */
  send: Uint8Array[];
  /** Set once, when the handshake completes on this side. */
  established?: EstablishedLink;
  /** Set when this handshake is over for good (the caller drops it; the initiator may start anew). */
  failed?: TransportError;
  /** Responder: a message 3 was refused (message R sent) while the handshake waits on for a genuine one. */
  refused?: TransportError;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function nameBytes(name: string): Uint8Array {
  const b = encoder.encode(name);
  if (b.length === 0 || b.length > MAX_NAME_BYTES) throw new TransportError('protocol', `node name must be 1–${MAX_NAME_BYTES} bytes`);
  return b;
}

function readName(p: Uint8Array, at: number): [string, number] {
  const n = p[at];
  if (n === undefined || n === 0 || n > MAX_NAME_BYTES || at + 1 + n > p.length) throw new TransportError('protocol', 'malformed name in the handshake');
  try {
    return [decoder.decode(p.subarray(at + 1, at + 1 + n)), at + 1 + n];
  } catch {
    throw new TransportError('protocol', 'malformed name in the handshake');
  }
}

const frame = (type: number, body: Uint8Array) => {
  const out = new Uint8Array(1 + body.length);
  out[0] = type;
  out.set(body, 1);
  return out;
};

/**
 * Per-direction, per-connection traffic secrets from a finished handshake: HKDF of the Split()
 * keys salted with the transcript hash (so they depend on both ephemeral keys and the PSK).
 */
export function trafficSecretsOf(hs: XXpsk3Handshake): { initiatorToResponder: Uint8Array; responderToInitiator: Uint8Array; handshakeHash: Uint8Array } {
  const s = secrets(hs, true);
  return { initiatorToResponder: s.send, responderToInitiator: s.receive, handshakeHash: s.h };
}

function secrets(hs: XXpsk3Handshake, initiator: boolean): { send: Uint8Array; receive: Uint8Array; h: Uint8Array; r2i: CipherState } {
  const r = hs.result();
  const derive = (cs: CipherState, label: string) => new Uint8Array(hkdfSync('sha256', cs.rawKey()!, r.handshakeHash, `stcts/v1 traffic ${label}`, 32));
  const i2r = derive(r.initiatorToResponder, 'i2r');
  const r2i = derive(r.responderToInitiator, 'r2i');
  return initiator ? { send: i2r, receive: r2i, h: r.handshakeHash, r2i: r.responderToInitiator } : { send: r2i, receive: i2r, h: r.handshakeHash, r2i: r.responderToInitiator };
}

const same = (a: Uint8Array | undefined, b: Uint8Array) => a !== undefined && a.length === b.length && timingSafeEqual(a, b);

/** Retransmission timer with exponential backoff and an overall deadline. */
class Retransmitter {
  private due = Infinity;
  private gap: number;
  private readonly deadline: number;
  constructor(
    private readonly o: LinkHandshakeOptions,
    startMs: number,
  ) {
    this.gap = o.retransmitMs;
    this.deadline = startMs + o.deadlineMs;
  }
  arm(nowMs: number): void {
    this.gap = this.o.retransmitMs;
    this.due = nowMs + this.gap;
  }
  stop(): void {
    this.due = Infinity;
  }
  expired(nowMs: number): boolean {
    return nowMs >= this.deadline;
  }
  /** True when a retransmission is due now (and re-arms with a longer gap). */
  fire(nowMs: number): boolean {
    if (nowMs < this.due) return false;
    this.gap = Math.min(this.gap * 2, this.o.maxRetransmitMs);
    this.due = nowMs + this.gap;
    return true;
  }
  next(): number {
    return Math.min(this.due, this.deadline);
  }
}

/** The dialing side. */
export class LinkHandshakeInitiator {
  private readonly o: LinkHandshakeOptions;
  private hs: XXpsk3Handshake;
  private readonly timer: Retransmitter;
  private badMessages = 0;
  private last: Uint8Array | undefined;
  private lastMsg2: Uint8Array | undefined;
  /** Message R that would refuse our message 3 (computed once message 3 is written). */
  private refusal: Uint8Array | undefined;
  private pending: ReturnType<typeof secrets> | undefined;
  private done = false;

  constructor(
    private readonly me: LocalIdentity,
    private readonly peer: PeerCredentials,
    nowMs: number,
    options: Partial<LinkHandshakeOptions> = {},
  ) {
    this.o = { ...DEFAULT_LINK_HANDSHAKE_OPTIONS, ...options };
    this.hs = new XXpsk3Handshake({
      initiator: true,
      prologue: LINK_PROLOGUE,
      s: me.staticKey,
      psk: peer.psk,
      ...(peer.staticKey ? { expectedRemoteStatic: peer.staticKey } : {}),
      ...(this.o.ephemeralKey ? { e: this.o.ephemeralKey } : {}),
    });
    this.timer = new Retransmitter(this.o, nowMs);
    nameBytes(me.name);
    nameBytes(peer.name);
  }

  /** Message 1. */
  start(nowMs: number): HandshakeStep {
    this.last = frame(HS_MSG1, this.hs.writeMessage());
    this.timer.arm(nowMs);
    return { send: [this.last] };
  }

  /** Earliest time {@link poll} has something to do, ms. */
  nextTimerMs(): number {
    return this.done ? Infinity : this.timer.next();
  }

  poll(nowMs: number): HandshakeStep {
    if (this.done) return { send: [] };
    if (this.timer.expired(nowMs)) return this.fail(new TransportError('timeout', `no handshake with '${this.peer.name}' within ${this.o.deadlineMs} ms`));
    return { send: this.last && this.timer.fire(nowMs) ? [this.last] : [] };
  }

  receive(d: Uint8Array, nowMs: number): HandshakeStep {
    if (this.done || d.length > MAX_HANDSHAKE_DATAGRAM_BYTES) return { send: [] };
    try {
      if (d[0] === HS_MSG2) {
        if (this.pending) return { send: same(this.lastMsg2, d) ? [this.last!] : [] }; // our message 3 was lost
        try {
          this.hs = tryRead(this.hs, d.subarray(1)).hs;
        } catch (err) {
          if (err instanceof TransportError && err.code === 'auth_failed' && ++this.badMessages < this.o.maxBadMessages) return { send: [] };
          throw err;
        }
        this.lastMsg2 = d.slice();
        const refusalKey = this.hs.exportKey('refusal');
        const to = nameBytes(this.peer.name);
        const from = nameBytes(this.me.name);
        const p = new Uint8Array(2 + from.length + to.length + INSTANCE_ID_BYTES);
        p[0] = from.length;
        p.set(from, 1);
        p[1 + from.length] = to.length;
        p.set(to, 2 + from.length);
        p.set(this.me.instanceId.subarray(0, INSTANCE_ID_BYTES), 2 + from.length + to.length);
        this.last = frame(HS_MSG3, this.hs.writeMessage(p));
        this.refusal = refusalOf(refusalKey, this.last);
        this.pending = secrets(this.hs, true);
        this.timer.arm(nowMs);
        return { send: [this.last] };
      }
      if (d[0] === HS_REFUSAL && this.refusal) {
        if (!same(this.refusal, d)) return { send: [] }; // forged, or the refusal of someone else's message 3
        throw new TransportError('auth_failed', `the peer refused our handshake (a wrong key, or a name it does not expect)`, { peer: this.peer.name, refused: true });
      }
      if (d[0] === HS_MSG4 && this.pending) {
        let p: Uint8Array;
        try {
          p = this.pending.r2i.clone().decryptWithAd(this.pending.h, d.subarray(1));
        } catch {
          return { send: [] }; // forged or garbled: the real message 4 may still come
        }
        const [name, at] = readName(p, 0);
        if (p.length !== at + INSTANCE_ID_BYTES) throw new TransportError('protocol', 'malformed handshake message 4');
        if (this.peer.name !== ANY_PEER && name !== this.peer.name) throw new TransportError('auth_failed', `the peer holding the key of '${this.peer.name}' calls itself '${name}'`, { peer: this.peer.name });
        this.done = true;
        this.timer.stop();
        return {
          send: [],
          established: { sendSecret: this.pending.send, receiveSecret: this.pending.receive, remoteName: name, remoteInstance: Buffer.from(p.subarray(at)).toString('hex'), remoteStatic: this.hs.remoteStatic!, handshakeHash: this.pending.h },
        };
      }
      return { send: [] };
    } catch (err) {
      return this.fail(err instanceof TransportError ? err : new TransportError('protocol', String(err)));
    }
  }

  private fail(e: TransportError): HandshakeStep {
    this.done = true;
    this.timer.stop();
    return { send: [], failed: e };
  }
}

/**
 * The listening side, one per handshake attempt (per remote address and message 1). Allocation
 * before authentication: this object, the Noise state and two cached messages (< 1 KiB).
 */
export class LinkHandshakeResponder {
  private readonly o: LinkHandshakeOptions;
  private hs: XXpsk3Handshake;
  private readonly timer: Retransmitter;
  private badMessages = 0;
  private msg1: Uint8Array | undefined;
  private msg3: Uint8Array | undefined;
  private reply: Uint8Array | undefined;
  private refusalKey: Uint8Array | undefined;
  private finished = false;
  private over = false;

  constructor(
    private readonly me: LocalIdentity,
    /** The configured peers (their PSKs are tried on message 3; at most 64). */
    private readonly peers: readonly PeerCredentials[],
    nowMs: number,
    options: Partial<LinkHandshakeOptions> = {},
  ) {
    this.o = { ...DEFAULT_LINK_HANDSHAKE_OPTIONS, ...options };
    this.hs = new XXpsk3Handshake({
      initiator: false,
      prologue: LINK_PROLOGUE,
      s: me.staticKey,
      psk: (rs) => this.candidates(rs).map((p) => p.psk),
      ...(this.o.ephemeralKey ? { e: this.o.ephemeralKey } : {}),
    });
    this.timer = new Retransmitter(this.o, nowMs);
  }

  /** True once message 3 authenticated (the responder keeps answering a repeated message 3). */
  get established(): boolean {
    return this.finished;
  }

  nextTimerMs(): number {
    return this.over || this.finished ? Infinity : this.timer.next();
  }

  poll(nowMs: number): HandshakeStep {
    if (this.over || this.finished) return { send: [] };
    if (this.timer.expired(nowMs)) return this.fail(new TransportError('timeout', `handshake not completed within ${this.o.deadlineMs} ms`));
    return { send: this.reply && this.timer.fire(nowMs) ? [this.reply] : [] };
  }

  receive(d: Uint8Array, nowMs: number): HandshakeStep {
    if (this.over || d.length > MAX_HANDSHAKE_DATAGRAM_BYTES) return { send: [] };
    try {
      if (d[0] === HS_MSG1) {
        if (this.msg1) return { send: same(this.msg1, d) && !this.finished ? [this.reply!] : [] };
        this.hs.readMessage(d.subarray(1));
        this.msg1 = d.slice();
        this.reply = frame(HS_MSG2, this.hs.writeMessage());
        this.refusalKey = this.hs.exportKey('refusal');
        this.timer.arm(nowMs);
        return { send: [this.reply] };
      }
      if (d[0] === HS_MSG3 && this.msg1) {
        if (this.finished) return { send: same(this.msg3, d) ? [this.reply!] : [] }; // our message 4 was lost
        // Every refused message 3 gets its own message R (only its sender can tell it is for them).
        const refuse = () => [refusalOf(this.refusalKey!, d)];
        let p: Uint8Array;
        try {
          ({ hs: this.hs, payload: p } = tryRead(this.hs, d.subarray(1)));
        } catch (err) {
          if (err instanceof TransportError && err.code === 'auth_failed') {
            if (++this.badMessages < this.o.maxBadMessages) return { send: refuse(), refused: err };
            // Only a pinned static key says who failed; otherwise the caller stays anonymous.
            const pinned = this.candidatesCache.length === 1 && this.candidatesCache[0]!.staticKey ? this.candidatesCache[0]!.name : undefined;
            return this.fail(pinned ? new TransportError('auth_failed', `peer '${pinned}' (pinned static key) used a wrong key`, { peer: pinned }) : err, refuse());
          }
          throw err;
        }
        const peer = this.candidatesCache[this.hs.pskIndex]!;
        const [from, at1] = readName(p, 0);
        const [to, at2] = readName(p, at1);
        if (p.length !== at2 + INSTANCE_ID_BYTES) throw new TransportError('protocol', 'malformed handshake message 3');
        if (peer.name !== ANY_PEER && from !== peer.name) return this.fail(new TransportError('auth_failed', `a caller holding the key of '${peer.name}' claims to be '${from}'`, { peer: peer.name, claimed: from }), refuse());
        if (to !== this.me.name && to !== ANY_PEER) return this.fail(new TransportError('auth_failed', `'${peer.name}' meant to reach '${to}', not us`, { peer: peer.name }), refuse());
        const s = secrets(this.hs, false);
        const name = nameBytes(this.me.name);
        const q = new Uint8Array(1 + name.length + INSTANCE_ID_BYTES);
        q[0] = name.length;
        q.set(name, 1);
        q.set(this.me.instanceId.subarray(0, INSTANCE_ID_BYTES), 1 + name.length);
        this.reply = frame(HS_MSG4, s.r2i.clone().encryptWithAd(s.h, q));
        this.msg3 = d.slice();
        this.finished = true;
        this.timer.stop();
        return {
          send: [this.reply],
          established: { sendSecret: s.send, receiveSecret: s.receive, remoteName: from, remoteInstance: Buffer.from(p.subarray(at2)).toString('hex'), remoteStatic: this.hs.remoteStatic!, handshakeHash: s.h },
        };
      }
      return { send: [] };
    } catch (err) {
      return this.fail(err instanceof TransportError ? err : new TransportError('protocol', String(err)));
    }
  }

  private candidatesCache: PeerCredentials[] = [];

  /** Peers whose PSK to try: those pinned to this static key, else every unpinned peer. */
  private candidates(rs: Uint8Array): PeerCredentials[] {
    const pinned = this.peers.filter((p) => p.staticKey && same(p.staticKey, rs));
    this.candidatesCache = (pinned.length > 0 ? pinned : this.peers.filter((p) => !p.staticKey)).slice(0, 64);
    return this.candidatesCache;
  }

  private fail(e: TransportError, send: Uint8Array[] = []): HandshakeStep {
    this.over = true;
    this.timer.stop();
    return { send, failed: e };
  }
}
