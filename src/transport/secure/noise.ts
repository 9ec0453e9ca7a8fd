import { createCipheriv, createDecipheriv, createHash, createHmac, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, timingSafeEqual } from 'node:crypto';
import { TransportError } from '../../core/errors.ts';

/**
 * The Noise Protocol Framework (revision 34, https://noiseprotocol.org/noise.html) for one
 * protocol: `Noise_XXpsk3_25519_ChaChaPoly_SHA256`, on node:crypto primitives only.
 *
 *     XXpsk3:
 *       -> e
 *       <- e, ee, s, es
 *       -> s, se, psk
 *
 * Why XXpsk3 (not IKpsk2): the fleet config holds node names and per-pair PSKs, not static public
 * keys; XX learns the peer's static key inside the handshake (both encrypted, the initiator's even
 * from an active attacker), so a box can generate its static key at first start and nothing else
 * has to be distributed. IKpsk2 would save one message (~50 bytes, ~1.3 s at 300 bit/s) but needs
 * every dialer to know the responder's static key beforehand. A pinned key can still be checked
 * here ({@link NoiseHandshakeOptions.expectedRemoteStatic}).
 *
 * Transport-agnostic: messages are `Uint8Array` in and out; retransmission lives in
 * `link-handshake.ts`. Errors are `TransportError('auth_failed')` (a tag or DH that fails) or
 * `TransportError('protocol')` (wrong length, wrong order).
 */
export const NOISE_PROTOCOL_NAME = 'Noise_XXpsk3_25519_ChaChaPoly_SHA256';
export const DH_BYTES = 32;
export const HASH_BYTES = 32;
export const NOISE_TAG_BYTES = 16;
/** Largest Noise message (spec §3). */
export const MAX_NOISE_MESSAGE_BYTES = 65535;
/** Largest number of PSKs a responder tries on message 3 (one per configured peer). */
export const MAX_PSK_CANDIDATES = 64;

export interface KeyPair {
  /** Raw X25519 public key, 32 bytes. */
  publicKey: Uint8Array;
  /** Raw X25519 private key, 32 bytes. */
  privateKey: Uint8Array;
}

const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');

/** A fresh X25519 key pair (static identity or ephemeral). */
export function generateKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return {
    privateKey: new Uint8Array(privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_X25519.length)),
    publicKey: new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_X25519.length)),
  };
}

/** The key pair of a raw 32-byte X25519 private key (test vectors, key files). */
export function keyPairFromPrivate(privateKey: Uint8Array): KeyPair {
  if (privateKey.length !== DH_BYTES) throw new TransportError('protocol', `an X25519 private key is ${DH_BYTES} bytes, got ${privateKey.length}`);
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_X25519, privateKey]), format: 'der', type: 'pkcs8' });
  const pub = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return { privateKey: new Uint8Array(privateKey), publicKey: new Uint8Array(pub.subarray(SPKI_X25519.length)) };
}

/** X25519(priv, pub). A low-order public key (all-zero result) is an `auth_failed`, never a key. */
export function dh(privateKey: Uint8Array, publicKey: Uint8Array): Buffer {
  let out: Buffer;
  try {
    out = diffieHellman({
      privateKey: createPrivateKey({ key: Buffer.concat([PKCS8_X25519, privateKey]), format: 'der', type: 'pkcs8' }),
      publicKey: createPublicKey({ key: Buffer.concat([SPKI_X25519, publicKey]), format: 'der', type: 'spki' }),
    });
  } catch (err) {
    throw new TransportError('auth_failed', 'the peer sent an invalid X25519 public key', undefined, { cause: err });
  }
  if (out.every((b) => b === 0)) throw new TransportError('auth_failed', 'the peer sent a low-order X25519 public key');
  return out;
}

const sha256 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const hmac = (key: Uint8Array, ...parts: Uint8Array[]): Buffer => {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest();
};

/** Noise's HKDF (spec §4.3): HMAC-SHA256 chained, two or three 32-byte outputs. */
export function noiseHkdf(chainingKey: Uint8Array, ikm: Uint8Array, outputs: 2 | 3): Buffer[] {
  const temp = hmac(chainingKey, ikm);
  const o1 = hmac(temp, Buffer.from([1]));
  const o2 = hmac(temp, o1, Buffer.from([2]));
  if (outputs === 2) return [o1, o2];
  return [o1, o2, hmac(temp, o2, Buffer.from([3]))];
}

/** ChaChaPoly nonce: 32 zero bits then the 64-bit counter, little-endian (spec §12.3). */
function chachaNonce(n: number): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64LE(BigInt(n), 4);
  return nonce;
}

/** Spec §5.1: a key (or none) and a nonce counter. */
export class CipherState {
  private k: Buffer | undefined;
  private n = 0;

  constructor(k?: Uint8Array) {
    if (k) this.k = Buffer.from(k);
  }

  hasKey(): boolean {
    return this.k !== undefined;
  }

  /** Nonces used so far. */
  get nonce(): number {
    return this.n;
  }

  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    if (!this.k) return plaintext;
    if (this.n >= Number.MAX_SAFE_INTEGER) throw new TransportError('overflow', 'nonce space exhausted; rekey');
    const c = createCipheriv('chacha20-poly1305', this.k, chachaNonce(this.n), { authTagLength: NOISE_TAG_BYTES });
    c.setAAD(ad, { plaintextLength: plaintext.length });
    const out = Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
    this.n++;
    return new Uint8Array(out);
  }

  /** Throws `auth_failed` on a bad tag; the nonce advances only on success (spec §5.1). */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (!this.k) return ciphertext;
    if (ciphertext.length < NOISE_TAG_BYTES) throw new TransportError('protocol', 'ciphertext shorter than its tag');
    const d = createDecipheriv('chacha20-poly1305', this.k, chachaNonce(this.n), { authTagLength: NOISE_TAG_BYTES });
    d.setAAD(ad, { plaintextLength: ciphertext.length - NOISE_TAG_BYTES });
    d.setAuthTag(ciphertext.subarray(ciphertext.length - NOISE_TAG_BYTES));
    let out: Buffer;
    try {
      out = Buffer.concat([d.update(ciphertext.subarray(0, ciphertext.length - NOISE_TAG_BYTES)), d.final()]);
    } catch {
      throw new TransportError('auth_failed', 'a handshake message failed authentication (wrong key, or tampered)');
    }
    this.n++;
    return new Uint8Array(out);
  }

  clone(): CipherState {
    const c = new CipherState(this.k);
    c.n = this.n;
    return c;
  }

  /** The raw key (split() output feeds the packet-protection key schedule); undefined without a key. */
  rawKey(): Buffer | undefined {
    return this.k ? Buffer.from(this.k) : undefined;
  }
}

/** Spec §5.2. */
export class SymmetricState {
  ck: Buffer;
  h: Buffer;
  cs = new CipherState();

  constructor(protocolName: string) {
    const name = Buffer.from(protocolName, 'ascii');
    this.h = name.length <= HASH_BYTES ? Buffer.concat([name, Buffer.alloc(HASH_BYTES - name.length)]) : sha256(name);
    this.ck = Buffer.from(this.h);
  }

  mixKey(ikm: Uint8Array): void {
    const [ck, k] = noiseHkdf(this.ck, ikm, 2) as [Buffer, Buffer];
    this.ck = ck;
    this.cs = new CipherState(k);
  }

  mixHash(data: Uint8Array): void {
    this.h = sha256(this.h, data);
  }

  mixKeyAndHash(ikm: Uint8Array): void {
    const [ck, th, k] = noiseHkdf(this.ck, ikm, 3) as [Buffer, Buffer, Buffer];
    this.ck = ck;
    this.mixHash(th);
    this.cs = new CipherState(k);
  }

  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const c = this.cs.encryptWithAd(this.h, plaintext);
    this.mixHash(c);
    return c;
  }

  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const p = this.cs.decryptWithAd(this.h, ciphertext);
    this.mixHash(ciphertext);
    return p;
  }

  /** Initiator→responder and responder→initiator cipher states. */
  split(): [CipherState, CipherState] {
    const [k1, k2] = noiseHkdf(this.ck, new Uint8Array(0), 2) as [Buffer, Buffer];
    return [new CipherState(k1), new CipherState(k2)];
  }

  clone(): SymmetricState {
    const s = Object.create(SymmetricState.prototype) as SymmetricState;
    s.ck = Buffer.from(this.ck);
    s.h = Buffer.from(this.h);
    s.cs = this.cs.clone();
    return s;
  }
}

export interface NoiseHandshakeOptions {
  initiator: boolean;
  /** Bound into the transcript: both ends must give the same bytes (spec §6). */
  prologue: Uint8Array;
  /** This node's static key pair. */
  s: KeyPair;
  /**
   * The PSK (32 bytes), or for a responder that does not yet know who is calling, the candidates to
   * try on message 3 given the caller's static key (one per configured peer, at most
   * {@link MAX_PSK_CANDIDATES}). The index of the one that worked is {@link XXpsk3Handshake.pskIndex}.
   */
  psk: Uint8Array | ((remoteStatic: Uint8Array) => readonly Uint8Array[]);
  /** Refuse a peer whose static key differs (pinning), checked before any PSK-dependent message. */
  expectedRemoteStatic?: Uint8Array;
  /** Ephemeral key pair; tests inject the vectors' keys, otherwise fresh. */
  e?: KeyPair;
}

/** The result of a finished handshake. */
export interface HandshakeResult {
  /** Initiator→responder and responder→initiator cipher states (spec §5.2 Split()). */
  initiatorToResponder: CipherState;
  responderToInitiator: CipherState;
  /** Channel binding: the transcript hash h. */
  handshakeHash: Uint8Array;
  remoteStatic: Uint8Array;
}

/** HandshakeState (spec §5.3) fixed to the XXpsk3 pattern. */
export class XXpsk3Handshake {
  private ss = new SymmetricState(NOISE_PROTOCOL_NAME);
  private readonly s: KeyPair;
  private e: KeyPair | undefined;
  private rs: Uint8Array | undefined;
  private re: Uint8Array | undefined;
  /** Messages processed so far (0..3). */
  private step = 0;
  private failed = false;
  /** Which PSK candidate authenticated message 3 (responder), 0 for a fixed PSK. */
  pskIndex = -1;

  constructor(private readonly o: NoiseHandshakeOptions) {
    this.s = o.s;
    this.e = o.e;
    this.ss.mixHash(o.prologue);
    if (typeof o.psk !== 'function' && o.psk.length !== 32) throw new TransportError('protocol', 'a Noise PSK is 32 bytes');
  }

  get initiator(): boolean {
    return this.o.initiator;
  }

  /** An independent copy (to try a message that may be forged without losing this state). */
  clone(): XXpsk3Handshake {
    const c = Object.create(XXpsk3Handshake.prototype) as XXpsk3Handshake;
    Object.assign(c, this);
    c.ss = this.ss.clone();
    return c;
  }

  /** True once all three messages went through. */
  get finished(): boolean {
    return this.step === 3;
  }

  /** Whose turn: true when this side writes the next message. */
  get mustWrite(): boolean {
    return !this.finished && (this.step % 2 === 0) === this.o.initiator;
  }

  get remoteStatic(): Uint8Array | undefined {
    return this.rs;
  }

  /**
   * A 32-byte key for `label` from the current chaining key (secret: it depends on every DH so
   * far), without changing the state. stcts uses it after message 2, where both sides hold the
   * same chaining key (ee, es), to authenticate a refusal of message 3 (link-handshake.ts).
   */
  exportKey(label: string): Uint8Array {
    return new Uint8Array(hkdfSync('sha256', this.ss.ck, this.ss.h, `stcts/v1 ${label}`, 32));
  }

  /** The next message of this side, carrying `payload` (encrypted except in message 1's confidentiality). */
  writeMessage(payload: Uint8Array = new Uint8Array(0)): Uint8Array {
    this.usable(true);
    const parts: Uint8Array[] = [];
    try {
      if (this.step === 0) {
        parts.push(this.writeE());
      } else if (this.step === 1) {
        parts.push(this.writeE());
        this.ss.mixKey(dh(this.e!.privateKey, this.re!)); // ee
        parts.push(this.ss.encryptAndHash(this.s.publicKey)); // s
        this.ss.mixKey(dh(this.s.privateKey, this.re!)); // es (responder: DH(s, re))
      } else {
        parts.push(this.ss.encryptAndHash(this.s.publicKey)); // s
        this.ss.mixKey(dh(this.s.privateKey, this.re!)); // se (initiator: DH(s, re))
        this.ss.mixKeyAndHash(this.fixedPsk()); // psk
      }
      parts.push(this.ss.encryptAndHash(payload));
    } catch (err) {
      this.failed = true;
      throw err;
    }
    this.step++;
    const out = Buffer.concat(parts);
    if (out.length > MAX_NOISE_MESSAGE_BYTES) throw new TransportError('too_large', 'Noise message over 65535 bytes');
    return new Uint8Array(out);
  }

  /** Processes the peer's next message; returns its payload. Any failure ends the handshake. */
  readMessage(message: Uint8Array): Uint8Array {
    this.usable(false);
    if (message.length > MAX_NOISE_MESSAGE_BYTES) throw new TransportError('too_large', 'Noise message over 65535 bytes');
    try {
      const payload = this.read(message);
      this.step++;
      return payload;
    } catch (err) {
      this.failed = true;
      throw err;
    }
  }

  /** Split() after message 3 (spec §5.2), with the transcript hash and the peer's static key. */
  result(): HandshakeResult {
    if (!this.finished) throw new TransportError('protocol', 'the handshake has not finished');
    const [a, b] = this.ss.split();
    return { initiatorToResponder: a, responderToInitiator: b, handshakeHash: new Uint8Array(this.ss.h), remoteStatic: this.rs! };
  }

  private read(m: Uint8Array): Uint8Array {
    const need = (n: number) => {
      if (m.length < n) throw new TransportError('protocol', `handshake message ${this.step + 1} too short`);
    };
    if (this.step === 0) {
      need(DH_BYTES + NOISE_TAG_BYTES);
      this.readE(m.subarray(0, DH_BYTES));
      return this.ss.decryptAndHash(m.subarray(DH_BYTES));
    }
    if (this.step === 1) {
      need(DH_BYTES + DH_BYTES + 2 * NOISE_TAG_BYTES);
      this.readE(m.subarray(0, DH_BYTES));
      this.ss.mixKey(dh(this.e!.privateKey, this.re!)); // ee
      this.rs = this.ss.decryptAndHash(m.subarray(DH_BYTES, 2 * DH_BYTES + NOISE_TAG_BYTES)); // s
      this.checkPinned();
      this.ss.mixKey(dh(this.e!.privateKey, this.rs)); // es (initiator: DH(e, rs))
      return this.ss.decryptAndHash(m.subarray(2 * DH_BYTES + NOISE_TAG_BYTES));
    }
    need(DH_BYTES + 2 * NOISE_TAG_BYTES);
    this.rs = this.ss.decryptAndHash(m.subarray(0, DH_BYTES + NOISE_TAG_BYTES)); // s
    this.checkPinned();
    this.ss.mixKey(dh(this.e!.privateKey, this.rs)); // se (responder: DH(e, rs))
    const rest = m.subarray(DH_BYTES + NOISE_TAG_BYTES);
    const candidates = typeof this.o.psk === 'function' ? this.o.psk(this.rs) : [this.o.psk];
    if (candidates.length > MAX_PSK_CANDIDATES) throw new TransportError('protocol', `more than ${MAX_PSK_CANDIDATES} PSK candidates`);
    // Trial decryption: the payload's tag tells which peer's PSK the caller holds; its identity
    // never travels in the clear.
    for (let i = 0; i < candidates.length; i++) {
      const psk = candidates[i]!;
      if (psk.length !== 32) continue;
      const trial = this.ss.clone();
      trial.mixKeyAndHash(psk);
      try {
        const payload = trial.decryptAndHash(rest);
        this.ss = trial;
        this.pskIndex = i;
        return payload;
      } catch (err) {
        if (!(err instanceof TransportError && err.code === 'auth_failed')) throw err;
      }
    }
    throw new TransportError('auth_failed', 'no configured pre-shared key authenticates the caller');
  }

  private writeE(): Uint8Array {
    this.e ??= generateKeyPair();
    this.ss.mixHash(this.e.publicKey);
    this.ss.mixKey(this.e.publicKey); // psk modifier: "e" also calls MixKey (spec §9.2)
    return this.e.publicKey;
  }

  private readE(re: Uint8Array): void {
    this.re = new Uint8Array(re);
    this.ss.mixHash(this.re);
    this.ss.mixKey(this.re);
  }

  private checkPinned(): void {
    const want = this.o.expectedRemoteStatic;
    if (want && (want.length !== this.rs!.length || !timingSafeEqual(want, this.rs!))) {
      throw new TransportError('auth_failed', 'the peer presented a static key other than the pinned one');
    }
  }

  private fixedPsk(): Uint8Array {
    if (typeof this.o.psk === 'function') throw new TransportError('protocol', 'the initiator needs a fixed PSK');
    this.pskIndex = 0;
    return this.o.psk;
  }

  private usable(write: boolean): void {
    if (this.failed) throw new TransportError('protocol', 'the handshake failed earlier; start a new one');
    if (this.finished) throw new TransportError('protocol', 'the handshake has finished');
    if (this.mustWrite !== write) throw new TransportError('protocol', write ? 'not our turn to write' : 'not our turn to read');
  }
}
