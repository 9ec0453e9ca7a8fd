import { createCipheriv, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/** Bytes of the packet sequence number on the wire (the low 16 bits; the rest is implied). */
export const SEQ_BYTES = 2;
/**
 * Bytes of the authentication tag: HMAC-SHA256 truncated to 64 bits. Why that is enough here: a
 * forger must guess the tag of a packet it has never seen; each wrong guess is one rejected (and
 * counted) packet under keys that live for one connection. At 300 bit/s a link carries about 3
 * packets per second; even at 1 Mbit/s for a year an attacker gets ~10^11 tries against 2^64 ≈
 * 1.8·10^19 tags. Real-time speech frames lose their value in seconds, unlike stored data, so
 * a 64-bit tag gives the same margin SRTP's 80/32-bit tags give voice calls, at 8 bytes a packet.
 */
export const TAG_BYTES = 8;
/** Bytes each protected packet adds to the link packet. */
export const PROTECTION_OVERHEAD_BYTES = SEQ_BYTES + TAG_BYTES;
/** Packets older than this many behind the newest are rejected as replays (sliding window). */
export const REPLAY_WINDOW = 256;

export type Direction = 'c2s' | 's2c';

/** Keys of one direction of one session. */
export interface DirectionKeys {
  /** AES-128-CTR key. */
  enc: Buffer;
  /** HMAC-SHA256 key. */
  mac: Buffer;
}

/**
 * Derives the keys of one session (one authenticated connection) with HKDF-SHA256: input key =
 * the configured key, salt = both handshake nonces, info = direction and purpose. Every session and
 * direction has its own keys, so the implied nonce (the packet number) never repeats under a key.
 */
export function deriveSessionKeys(key: Uint8Array, serverNonce: Uint8Array, clientNonce: Uint8Array): Record<Direction, DirectionKeys> {
  const salt = Buffer.concat([serverNonce, clientNonce]);
  const derive = (info: string, n: number) => Buffer.from(hkdfSync('sha256', key, salt, `stcts/v1/${info}`, n));
  return {
    c2s: { enc: derive('c2s/enc', 16), mac: derive('c2s/mac', 32) },
    s2c: { enc: derive('s2c/enc', 16), mac: derive('s2c/mac', 32) },
  };
}

/** Why a packet was not accepted. */
export type RejectReason = 'malformed' | 'tamper' | 'replay';

export interface OpenerStats {
  accepted: number;
  rejected: Record<RejectReason, number>;
  /** Packet numbers skipped (never received, or not yet): lost on the link, as seen by the receiver. */
  gaps: number;
}

/** AES-128-CTR IV from the packet number: the keystream for packet n starts at block n·2^16. */
function ivOf(seq: number): Buffer {
  const iv = Buffer.alloc(16);
  iv.writeUIntBE(seq, 6, 6); // bytes 6..11; bytes 12..15 count blocks inside the packet
  return iv;
}

function tagOf(mac: Buffer, seq: number, header: Uint8Array, ciphertext: Uint8Array): Buffer {
  const full = Buffer.alloc(8);
  full.writeUIntBE(seq, 2, 6);
  return createHmac('sha256', mac).update(full).update(header).update(ciphertext).digest().subarray(0, TAG_BYTES);
}

/** Encrypts and authenticates outgoing link packets of one direction: `seq16 ‖ AES-CTR(packet) ‖ tag8`. */
export class PacketSealer {
  private nextSeq = 0;
  constructor(private readonly keys: DirectionKeys) {}

  /** Packets sealed so far. */
  get sealed(): number {
    return this.nextSeq;
  }

  seal(packet: Uint8Array): Uint8Array {
    const seq = this.nextSeq++;
    if (seq >= 2 ** 48) throw new RangeError('packet number space exhausted; reconnect to rekey');
    const out = new Uint8Array(SEQ_BYTES + packet.length + TAG_BYTES);
    out[0] = (seq >>> 8) & 0xff;
    out[1] = seq & 0xff;
    const c = createCipheriv('aes-128-ctr', this.keys.enc, ivOf(seq));
    const ct = Buffer.concat([c.update(packet), c.final()]);
    out.set(ct, SEQ_BYTES);
    out.set(tagOf(this.keys.mac, seq, out.subarray(0, SEQ_BYTES), ct), SEQ_BYTES + ct.length);
    return out;
  }
}

/**
 * Verifies, replay-checks and decrypts incoming packets of one direction. The full packet number
 * is the one nearest the highest seen with the transmitted low 16 bits (as SRTP estimates its
 * roll-over counter); the tag covers the full number, so a wrong guess is a rejected packet.
 * Never throws on bad input: it returns why the packet was rejected and counts it.
 */
export class PacketOpener {
  readonly stats: OpenerStats = { accepted: 0, rejected: { malformed: 0, tamper: 0, replay: 0 }, gaps: 0 };
  private highest = -1;
  /** Bit i set: packet (highest − i) was accepted. */
  private readonly window = new Uint8Array(REPLAY_WINDOW / 8);

  constructor(private readonly keys: DirectionKeys) {}

  open(bytes: Uint8Array): { packet: Uint8Array } | { rejected: RejectReason } {
    if (bytes.length < SEQ_BYTES + 1 + TAG_BYTES) return this.reject('malformed');
    const low = (bytes[0]! << 8) | bytes[1]!;
    const seq = this.estimate(low);
    if (seq < 0 || seq >= 2 ** 48) return this.reject('replay');
    if (this.highest - seq >= REPLAY_WINDOW || this.seen(seq)) return this.reject('replay');
    const ct = bytes.subarray(SEQ_BYTES, bytes.length - TAG_BYTES);
    const tag = bytes.subarray(bytes.length - TAG_BYTES);
    if (!timingSafeEqual(tag, tagOf(this.keys.mac, seq, bytes.subarray(0, SEQ_BYTES), ct))) return this.reject('tamper');
    this.mark(seq);
    this.stats.accepted++;
    const d = createCipheriv('aes-128-ctr', this.keys.enc, ivOf(seq));
    return { packet: new Uint8Array(Buffer.concat([d.update(ct), d.final()])) };
  }

  private reject(reason: RejectReason): { rejected: RejectReason } {
    this.stats.rejected[reason]++;
    return { rejected: reason };
  }

  private estimate(low: number): number {
    if (this.highest < 0) return low;
    const base = this.highest - (this.highest & 0xffff);
    let best = base + low;
    for (const c of [best - 0x10000, best + 0x10000]) if (Math.abs(c - this.highest) < Math.abs(best - this.highest)) best = c;
    return best;
  }

  private seen(seq: number): boolean {
    if (seq > this.highest) return false;
    const i = this.highest - seq;
    return (this.window[i >> 3]! & (1 << (i & 7))) !== 0;
  }

  private mark(seq: number): void {
    if (seq > this.highest) {
      const shift = seq - this.highest;
      if (this.highest >= 0) this.stats.gaps += shift - 1;
      else this.stats.gaps += seq;
      this.shiftWindow(shift);
      this.highest = seq;
    } else {
      // A late packet fills a gap counted earlier.
      this.stats.gaps = Math.max(0, this.stats.gaps - 1);
    }
    const i = this.highest - seq;
    this.window[i >> 3]! |= 1 << (i & 7);
  }

  private shiftWindow(n: number): void {
    if (n >= REPLAY_WINDOW) {
      this.window.fill(0);
      return;
    }
    // Shift the bitmap towards higher indices by n bits (older packets move further away).
    const bits = REPLAY_WINDOW;
    const old = this.window.slice();
    this.window.fill(0);
    for (let i = 0; i + n < bits; i++) if (old[i >> 3]! & (1 << (i & 7))) this.window[(i + n) >> 3]! |= 1 << ((i + n) & 7);
  }
}
