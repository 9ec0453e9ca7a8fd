import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { TransportError } from '../../core/errors.ts';

/**
 * Per-packet protection with one standard AEAD: AES-128-CCM with an 8-byte tag (RFC 3610; the
 * AEAD_AES_128_CCM_8 of RFC 6655, as OSCORE/RFC 8613 uses it), keys from the Noise handshake's
 * Split() (one secret per direction and connection, see `link-handshake.ts`).
 *
 *     packet = pn16 ‖ CCM(key_epoch, nonce = iv_epoch ⊕ pn, aad = pn16, plaintext) ‖ tag8
 *
 * 10 bytes of overhead: the low 16 bits of the 48-bit packet number and the tag. The receiver
 * reconstructs the full number from its window (as SRTP does with its roll-over counter); after
 * a long loss it tries the next few 2^16 windows (bounded, rate-limited) and otherwise tells the
 * caller to reconnect ({@link AeadPacketOpener.needsReconnect}).
 *
 * Rekeying: every {@link AeadOptions.epochPackets} packet numbers (default 2^20) both sides move
 * to the next key by a one-way ratchet of the direction secret, so no CCM key protects more than
 * 2^20 packets (well inside the AEAD usage limits of RFC 9001 §6.6 for CCM: 2^21.5 packets) and an
 * old key cannot be recomputed from a newer one. The epoch follows from the packet number, so no
 * header bit is spent on it. A time limit (default 24 h) and the end of the 48-bit space ask the
 * caller for a fresh handshake ({@link AeadPacketSealer.rehandshakeDue}).
 */
export const AEAD_SEQ_BYTES = 2;
export const AEAD_TAG_BYTES = 8;
export const AEAD_OVERHEAD_BYTES = AEAD_SEQ_BYTES + AEAD_TAG_BYTES;
export const AEAD_NONCE_BYTES = 13;
/** Packets older than this many behind the newest are refused as replays. */
export const AEAD_REPLAY_WINDOW = 256;
/** Largest packet number (48 bits); beyond it the connection must be re-established. */
export const MAX_PACKET_NUMBER = 2 ** 48 - 1;
/** Largest plaintext: CCM with a 13-byte nonce carries at most 2^16 − 1 bytes. */
export const MAX_AEAD_PLAINTEXT_BYTES = 65535 - AEAD_OVERHEAD_BYTES;

export interface AeadOptions {
  /**
   * Packet numbers per key: a power of two ≥ 2^16, so one 16-bit window spans at most two keys
   * and looking ahead after a loss ratchets at most `resyncWindows + 1` times. Default 2^20.
   */
  epochPackets: number;
  /** Ask for a new handshake after this many ms. Default 24 h. */
  maxAgeMs: number;
  /** Ask for a new handshake from this packet number on. Default 2^47. */
  rehandshakeAtPacket: number;
  /** 2^16 windows ahead the receiver tries after a long loss (each costs one CCM check). Default 32. */
  resyncWindows: number;
  /** At most one resync attempt per this many ms (bounds the work a forger can cause). Default 1000. */
  resyncIntervalMs: number;
  /** Consecutive unauthenticated packets, with resync tried and failed, before needsReconnect. Default 64. */
  reconnectAfterFailures: number;
  /** Clock, ms. Default Date.now. */
  now: () => number;
  /**
   * false: authenticate only, the payload travels in the clear (amateur radio, where encoding to
   * obscure meaning is not allowed, e.g. FCC §97.113(a)(4); a tag proving who sent it is not
   * encryption). The same 10 bytes; both ends must agree (the keys differ per mode). Default true.
   */
  encrypt: boolean;
}

export const DEFAULT_AEAD_OPTIONS: Readonly<AeadOptions> = Object.freeze({
  epochPackets: 2 ** 20,
  maxAgeMs: 24 * 3600 * 1000,
  rehandshakeAtPacket: 2 ** 47,
  resyncWindows: 32,
  resyncIntervalMs: 1000,
  reconnectAfterFailures: 64,
  now: () => Date.now(),
  encrypt: true,
});

function merge(o: Partial<AeadOptions>): AeadOptions {
  const m = { ...DEFAULT_AEAD_OPTIONS, ...o };
  if (!Number.isInteger(Math.log2(m.epochPackets)) || m.epochPackets < 0x10000) throw new RangeError('epochPackets must be a power of two ≥ 2^16');
  return m;
}

interface EpochKeys {
  epoch: number;
  secret: Buffer;
  key: Buffer;
  iv: Buffer;
}

const expand = (secret: Uint8Array, info: string, n: number) => Buffer.from(hkdfSync('sha256', secret, new Uint8Array(0), `stcts/v1/ccm/${info}`, n));

function epochKeys(secret: Buffer, epoch: number): EpochKeys {
  return { epoch, secret, key: expand(secret, 'key', 16), iv: expand(secret, 'iv', AEAD_NONCE_BYTES) };
}

/** Keys of epoch e+1 from those of e (one-way). */
function nextEpoch(k: EpochKeys): EpochKeys {
  return epochKeys(expand(k.secret, 'next', 32), k.epoch + 1);
}

function nonceOf(iv: Buffer, pn: number): Buffer {
  const n = Buffer.from(iv);
  const hi = Math.floor(pn / 2 ** 32);
  const lo = pn >>> 0;
  // XOR the 48-bit number into the last 6 bytes (RFC 8613 style IV ⊕ sequence number).
  n[7]! ^= (hi >>> 8) & 0xff;
  n[8]! ^= hi & 0xff;
  n[9]! ^= (lo >>> 24) & 0xff;
  n[10]! ^= (lo >>> 16) & 0xff;
  n[11]! ^= (lo >>> 8) & 0xff;
  n[12]! ^= lo & 0xff;
  return n;
}

function trafficSecret(secret: Uint8Array, encrypt: boolean): Buffer {
  if (secret.length !== 32) throw new TransportError('protocol', 'a traffic secret is 32 bytes');
  return expand(secret, encrypt ? 'traffic' : 'traffic/auth-only', 32);
}

/**
 * CCM over one packet: encrypt-and-tag, or (auth-only) tag over header ‖ payload with the payload
 * left in the clear (CCM with an empty plaintext is its CBC-MAC).
 */
function ccmSeal(k: EpochKeys, pn: number, header: Uint8Array, packet: Uint8Array, encrypt: boolean): { body: Uint8Array; tag: Uint8Array } {
  const c = createCipheriv('aes-128-ccm', k.key, nonceOf(k.iv, pn), { authTagLength: AEAD_TAG_BYTES });
  if (encrypt) {
    c.setAAD(header, { plaintextLength: packet.length });
    const body = c.update(packet);
    c.final();
    return { body, tag: c.getAuthTag() };
  }
  c.setAAD(Buffer.concat([header, packet]), { plaintextLength: 0 });
  c.update(new Uint8Array(0)); // OpenSSL computes the CCM tag only in an update call
  c.final();
  return { body: packet, tag: c.getAuthTag() };
}

/** Seals outgoing packets of one direction. */
export class AeadPacketSealer {
  private readonly o: AeadOptions;
  private keys: EpochKeys;
  private nextPn = 0;
  private readonly startedMs: number;

  constructor(secret: Uint8Array, options: Partial<AeadOptions> = {}) {
    this.o = merge(options);
    this.keys = epochKeys(trafficSecret(secret, this.o.encrypt), 0);
    this.startedMs = this.o.now();
  }

  /** Packets sealed (the next packet number). */
  get sealed(): number {
    return this.nextPn;
  }

  /** True when the connection should be re-established (age or packet numbers): do a new handshake. */
  get rehandshakeDue(): boolean {
    return this.nextPn >= this.o.rehandshakeAtPacket || this.o.now() - this.startedMs >= this.o.maxAgeMs;
  }

  /** Skips packet numbers (tests of long loss and rekeying). */
  advance(n: number): void {
    if (!Number.isInteger(n) || n < 0) throw new RangeError('advance: n must be a non-negative integer');
    this.nextPn += n;
  }

  seal(packet: Uint8Array): Uint8Array {
    if (packet.length > MAX_AEAD_PLAINTEXT_BYTES) throw new TransportError('too_large', `a packet is at most ${MAX_AEAD_PLAINTEXT_BYTES} bytes`);
    const pn = this.nextPn;
    if (pn > MAX_PACKET_NUMBER) throw new TransportError('overflow', 'packet number space exhausted; reconnect to rekey');
    this.nextPn++;
    const epoch = Math.floor(pn / this.o.epochPackets);
    while (this.keys.epoch < epoch) this.keys = nextEpoch(this.keys); // the old key is dropped
    const out = new Uint8Array(AEAD_SEQ_BYTES + packet.length + AEAD_TAG_BYTES);
    out[0] = (pn >>> 8) & 0xff;
    out[1] = pn & 0xff;
    const { body, tag } = ccmSeal(this.keys, pn, out.subarray(0, AEAD_SEQ_BYTES), packet, this.o.encrypt);
    out.set(body, AEAD_SEQ_BYTES);
    out.set(tag, AEAD_SEQ_BYTES + packet.length);
    return out;
  }
}

export type AeadRejectReason = 'malformed' | 'tamper' | 'replay';

export interface AeadOpenerStats {
  accepted: number;
  rejected: Record<AeadRejectReason, number>;
  /** Packet numbers skipped (lost on the link, or not yet arrived). */
  gaps: number;
  /** Times the receiver found its place again after a loss longer than half the 16-bit window. */
  resyncs: number;
}

/**
 * Verifies, replay-checks and decrypts incoming packets of one direction. Never throws on bad
 * input: returns why a packet was refused and counts it.
 */
export class AeadPacketOpener {
  readonly stats: AeadOpenerStats = { accepted: 0, rejected: { malformed: 0, tamper: 0, replay: 0 }, gaps: 0, resyncs: 0 };
  private readonly o: AeadOptions;
  private highest = -1;
  private readonly window = new Uint8Array(AEAD_REPLAY_WINDOW / 8);
  /** Keys of the epoch of `highest` and the one before (late packets across a rekey). */
  private current: EpochKeys;
  private previous: EpochKeys | undefined;
  /** Last key ratcheted ahead of `current` while looking for a packet (not yet accepted). */
  private ahead: EpochKeys | undefined;
  private consecutiveFailures = 0;
  private resyncFailedSinceAccept = false;
  private lastResyncMs = -Infinity;

  constructor(secret: Uint8Array, options: Partial<AeadOptions> = {}) {
    this.o = merge(options);
    this.current = epochKeys(trafficSecret(secret, this.o.encrypt), 0);
  }

  /**
   * True when many packets in a row failed and looking ahead did not find the sender's packet
   * number: the caller should re-establish the connection (new handshake) rather than wait.
   */
  get needsReconnect(): boolean {
    return this.resyncFailedSinceAccept && this.consecutiveFailures >= this.o.reconnectAfterFailures;
  }

  open(bytes: Uint8Array): { packet: Uint8Array } | { rejected: AeadRejectReason } {
    if (bytes.length < AEAD_SEQ_BYTES + 1 + AEAD_TAG_BYTES || bytes.length > 65535) return this.reject('malformed');
    const low = (bytes[0]! << 8) | bytes[1]!;
    const pn = this.estimate(low);
    const replay = pn >= 0 && pn <= this.highest && (this.highest - pn >= AEAD_REPLAY_WINDOW || this.seen(pn));
    if (!replay && pn >= 0) {
      const p = this.tryOpen(bytes, pn);
      if (p) return this.accept(pn, p);
    }
    // Long loss: the sender may be whole 2^16 windows ahead (its number can even look like an old
    // one). Bounded and rate-limited, since every candidate costs a CCM check a forger could make
    // us do.
    const now = this.o.now();
    if (now - this.lastResyncMs >= this.o.resyncIntervalMs) {
      this.lastResyncMs = now;
      const base = pn >= 0 ? pn : low - 0x10000;
      for (let j = 1; j <= this.o.resyncWindows; j++) {
        const cand = base + j * 0x10000;
        if (cand > MAX_PACKET_NUMBER) break;
        const p = this.tryOpen(bytes, cand);
        if (p) {
          this.stats.resyncs++;
          return this.accept(cand, p);
        }
      }
      this.resyncFailedSinceAccept = true;
    }
    this.consecutiveFailures++;
    return this.reject(replay ? 'replay' : 'tamper');
  }

  private tryOpen(bytes: Uint8Array, pn: number): Uint8Array | undefined {
    const keys = this.keysFor(Math.floor(pn / this.o.epochPackets));
    if (!keys) return undefined;
    const ctLen = bytes.length - AEAD_SEQ_BYTES - AEAD_TAG_BYTES;
    const d = createDecipheriv('aes-128-ccm', keys.key, nonceOf(keys.iv, pn), { authTagLength: AEAD_TAG_BYTES });
    d.setAuthTag(bytes.subarray(bytes.length - AEAD_TAG_BYTES));
    try {
      if (!this.o.encrypt) {
        d.setAAD(bytes.subarray(0, AEAD_SEQ_BYTES + ctLen), { plaintextLength: 0 });
        d.update(new Uint8Array(0));
        d.final();
        return bytes.slice(AEAD_SEQ_BYTES, AEAD_SEQ_BYTES + ctLen);
      }
      d.setAAD(bytes.subarray(0, AEAD_SEQ_BYTES), { plaintextLength: ctLen });
      const out = d.update(bytes.subarray(AEAD_SEQ_BYTES, AEAD_SEQ_BYTES + ctLen));
      d.final();
      return new Uint8Array(out);
    } catch {
      return undefined;
    }
  }

  /** Keys of an epoch: the previous, the current, or ratcheted forward (not stored until accepted). */
  private keysFor(epoch: number): EpochKeys | undefined {
    if (epoch === this.current.epoch) return this.current;
    if (this.previous && epoch === this.previous.epoch) return this.previous;
    if (epoch < this.current.epoch) return undefined; // deleted: forward secrecy inside the connection
    // Candidates come in increasing order: continue the ratchet from the last one computed.
    let k = this.ahead && this.ahead.epoch <= epoch && this.ahead.epoch > this.current.epoch ? this.ahead : this.current;
    while (k.epoch < epoch) k = nextEpoch(k);
    this.ahead = k;
    return k;
  }

  private accept(pn: number, packet: Uint8Array): { packet: Uint8Array } {
    this.consecutiveFailures = 0;
    this.resyncFailedSinceAccept = false;
    const epoch = Math.floor(pn / this.o.epochPackets);
    if (epoch > this.current.epoch) {
      let k = this.current;
      let prev = this.current;
      while (k.epoch < epoch) {
        prev = k;
        k = nextEpoch(k);
      }
      this.previous = prev.epoch === epoch - 1 ? prev : undefined;
      this.current = k;
      this.ahead = undefined;
    }
    this.mark(pn);
    this.stats.accepted++;
    return { packet };
  }

  private reject(reason: AeadRejectReason): { rejected: AeadRejectReason } {
    this.stats.rejected[reason]++;
    return { rejected: reason };
  }

  /** The full number nearest the highest accepted with these low 16 bits (−1: before packet 0). */
  private estimate(low: number): number {
    if (this.highest < 0) return low;
    const base = this.highest - (this.highest & 0xffff);
    let best = base + low;
    for (const c of [best - 0x10000, best + 0x10000]) if (Math.abs(c - this.highest) < Math.abs(best - this.highest)) best = c;
    return best < 0 ? -1 : best;
  }

  private seen(pn: number): boolean {
    const i = this.highest - pn;
    return (this.window[i >> 3]! & (1 << (i & 7))) !== 0;
  }

  private mark(pn: number): void {
    if (pn > this.highest) {
      const shift = pn - this.highest;
      this.stats.gaps += this.highest >= 0 ? shift - 1 : pn;
      this.shiftWindow(shift);
      this.highest = pn;
    } else {
      this.stats.gaps = Math.max(0, this.stats.gaps - 1); // a late packet fills a counted gap
    }
    const i = this.highest - pn;
    this.window[i >> 3]! |= 1 << (i & 7);
  }

  private shiftWindow(n: number): void {
    if (n >= AEAD_REPLAY_WINDOW) {
      this.window.fill(0);
      return;
    }
    const old = this.window.slice();
    this.window.fill(0);
    for (let i = 0; i + n < AEAD_REPLAY_WINDOW; i++) if (old[i >> 3]! & (1 << (i & 7))) this.window[(i + n) >> 3]! |= 1 << ((i + n) & 7);
  }
}
