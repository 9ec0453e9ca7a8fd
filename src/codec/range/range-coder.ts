import { DecodeError, EncodeError } from '../../core/errors.ts';

/*
 * A 48-bit range coder with carry propagation (the LZMA "cache + pending 0xFF" scheme, widened).
 *
 * Why 48 bits: word-level models need totals far above 2^16, and a 32-bit range normalised at 2^24
 * would waste up to tot/2^24 of every interval. JS numbers hold integers exactly up to 2^53, and
 * every operation below stays under 2^49 (low < 2^48 plus one carry bit; r·cum < range ≤ 2^48), so
 * all arithmetic is exact integer arithmetic and gives the same bits on every IEEE-754 machine.
 * Division is `Math.floor(range / tot)`: for range < 2^48 and tot ≤ 2^24 the rounded quotient is
 * within q·2^-53 < 1/tot of the true one, so the floor is exact.
 *
 * Stream layout: the decoder's 48-bit `code` window reads 6 bytes ahead. The first byte LZMA
 * writes (always 0) is never emitted. `finish()` emits the shortest tail that pins a value inside
 * the final interval (at most 1 byte beyond the pending carry bytes, because range ≥ 2^40) and drops
 * trailing zero bytes, which the decoder supplies as padding.
 */

/** Largest `totFreq` accepted by encode/decode/getFreq: 2^24. */
export const MAX_TOTAL_FREQ = 1 << 24;

const TOP = 2 ** 48;
const BOTTOM = 2 ** 40;
const SHIFT = 2 ** 40; // low / SHIFT = byte leaving the window

function checkArgs(cumFreq: number, freq: number, totFreq: number): void {
  if (
    !Number.isInteger(cumFreq) || !Number.isInteger(freq) || !Number.isInteger(totFreq) ||
    freq <= 0 || cumFreq < 0 || cumFreq + freq > totFreq || totFreq > MAX_TOTAL_FREQ
  ) {
    throw new EncodeError('invalid_value', `range coder: bad interval cum=${cumFreq} freq=${freq} tot=${totFreq} (need 0 ≤ cum, 0 < freq, cum+freq ≤ tot ≤ 2^24)`);
  }
}

/**
 * Range encoder. Encode symbols as (cumFreq, freq, totFreq) intervals, then call {@link finish}
 * once to get the bytes. Several models (text, prosody, …) may share one encoder; set
 * {@link channel} before each part to attribute its information content in {@link infoBits}.
 */
export class RangeEncoder {
  private low = 0;
  private range = TOP;
  /** Byte waiting for a possible carry; -1 = none yet (the implicit leading 0 is never emitted). */
  private cache = -1;
  /** Number of 0xFF bytes pending behind `cache`. */
  private pendingFF = 0;
  private readonly out: number[] = [];
  private finished = false;
  /** Channel name that subsequent symbols are accounted to (reporting only). Default 'default'. */
  channel = 'default';
  /** Sum of −log2(freq/totFreq) per channel, bits (floating point, for reporting only). */
  readonly infoBits = new Map<string, number>();

  /** Encodes the interval [cumFreq, cumFreq+freq) of totFreq (totFreq ≤ {@link MAX_TOTAL_FREQ}). */
  encode(cumFreq: number, freq: number, totFreq: number): void {
    if (this.finished) throw new EncodeError('invalid_value', 'RangeEncoder used after finish()');
    checkArgs(cumFreq, freq, totFreq);
    const r = Math.floor(this.range / totFreq);
    this.low += r * cumFreq;
    // The last symbol takes the rounding remainder: nothing of the range is wasted at the top.
    this.range = cumFreq + freq === totFreq ? this.range - r * cumFreq : r * freq;
    while (this.range < BOTTOM) {
      this.shiftLow();
      this.range *= 256;
    }
    this.infoBits.set(this.channel, (this.infoBits.get(this.channel) ?? 0) + Math.log2(totFreq / freq));
  }

  /** Encodes `bitCount` (0..48) raw bits of the non-negative integer `value`, as uniform symbols. */
  encodeBits(value: number, bitCount: number): void {
    if (!Number.isInteger(bitCount) || bitCount < 0 || bitCount > 48 || !Number.isInteger(value) || value < 0 || value >= 2 ** bitCount) {
      throw new EncodeError('invalid_value', `encodeBits: value ${value} does not fit in ${bitCount} bits`);
    }
    let rest = bitCount;
    while (rest > 0) {
      const n = Math.min(16, rest);
      rest -= n;
      const chunk = Math.floor(value / 2 ** rest) % 2 ** n;
      this.encode(chunk, 1, 2 ** n);
    }
  }

  /** Encodes an integer uniformly distributed in [0, n), n ≤ 2^24. */
  encodeUniform(value: number, n: number): void {
    this.encode(value, 1, n);
  }

  private shiftLow(): void {
    const low = this.low;
    if (low < 0xff * SHIFT || low >= TOP) {
      const carry = low >= TOP ? 1 : 0;
      if (this.cache >= 0) this.out.push((this.cache + carry) & 0xff);
      for (; this.pendingFF > 0; this.pendingFF--) this.out.push((0xff + carry) & 0xff);
      this.cache = Math.floor(low / SHIFT) % 256;
    } else {
      this.pendingFF++;
    }
    this.low = (low % SHIFT) * 256;
  }

  /** Bytes emitted so far plus pending ones (for reporting; the final length is known after finish). */
  get approxBytes(): number {
    return this.out.length + (this.cache >= 0 ? 1 : 0) + this.pendingFF;
  }

  /**
   * Terminates the stream and returns its bytes. The tail is minimal: at most one byte after the
   * carry-pending bytes, and trailing zero bytes are dropped (the decoder pads with zeros).
   * Further calls throw.
   */
  finish(): Uint8Array {
    if (this.finished) throw new EncodeError('invalid_value', 'RangeEncoder.finish() called twice');
    this.finished = true;
    // Smallest value with the most trailing zero bytes inside [low, low + range).
    if (this.low % TOP !== 0) {
      // range ≥ 2^40, so a multiple of 2^40 lies in the interval.
      this.low = Math.ceil(this.low / SHIFT) * SHIFT;
      this.shiftLow(); // emits or settles everything before the final byte
      this.shiftLow(); // settles the final byte itself
    } else {
      this.shiftLow();
    }
    // Flush cache and pending bytes (low is now a multiple of 2^48 — zero in the window).
    if (this.cache >= 0) this.out.push(this.cache);
    for (; this.pendingFF > 0; this.pendingFF--) this.out.push(0xff);
    let n = this.out.length;
    while (n > 0 && this.out[n - 1] === 0) n--;
    return Uint8Array.from(this.out.slice(0, n));
  }
}

/**
 * Range decoder mirroring {@link RangeEncoder}. Reads past the end as zero bytes (never out of
 * bounds); {@link overreadBytes} tells how many were supplied that way. Call {@link finish} after
 * the last symbol to check that the bytes are exactly what the encoder would have produced.
 */
export class RangeDecoder {
  private low = 0;
  private range = TOP;
  private code = 0;
  private pos = 0;
  private lastR = 0;
  private lastTot = 0;
  /** Channel that subsequent symbols are accounted to (reporting only), as on the encoder. */
  channel = 'default';
  /** Sum of −log2(freq/totFreq) per channel, bits (reporting only: `stcts inspect`). */
  readonly infoBits = new Map<string, number>();

  constructor(private readonly bytes: Uint8Array) {
    for (let i = 0; i < 6; i++) this.code = this.code * 256 + this.nextByte();
  }

  private nextByte(): number {
    const b = this.pos < this.bytes.length ? (this.bytes[this.pos] as number) : 0;
    this.pos++;
    return b;
  }

  /** Bytes read so far, including the 6-byte look-ahead and zero padding past the end. */
  get bytesConsumed(): number {
    return this.pos;
  }

  /** Number of zero bytes supplied beyond the end of the input so far. */
  get overreadBytes(): number {
    return Math.max(0, this.pos - this.bytes.length);
  }

  /** Returns the cumulative frequency (0..totFreq−1) the next symbol falls at; follow with decode(). */
  getFreq(totFreq: number): number {
    if (!Number.isInteger(totFreq) || totFreq <= 0 || totFreq > MAX_TOTAL_FREQ) {
      throw new DecodeError('invalid_value', `getFreq: totFreq ${totFreq} out of range 1..2^24`);
    }
    const r = Math.floor(this.range / totFreq);
    this.lastR = r;
    this.lastTot = totFreq;
    const v = Math.floor(this.code / r);
    return v < totFreq ? v : totFreq - 1;
  }

  /** Consumes the symbol [cumFreq, cumFreq+freq) of totFreq found via {@link getFreq}. */
  decode(cumFreq: number, freq: number, totFreq: number): void {
    if (totFreq !== this.lastTot) this.getFreq(totFreq);
    if (freq <= 0 || cumFreq < 0 || cumFreq + freq > totFreq) {
      throw new DecodeError('invalid_value', `decode: bad interval cum=${cumFreq} freq=${freq} tot=${totFreq}`);
    }
    const r = this.lastR;
    this.lastTot = 0;
    this.infoBits.set(this.channel, (this.infoBits.get(this.channel) ?? 0) - Math.log2(freq / totFreq));
    const sub = r * cumFreq;
    this.code -= sub;
    this.low += sub;
    this.range = cumFreq + freq === totFreq ? this.range - sub : r * freq;
    if (this.code < 0 || this.code >= this.range) {
      throw new DecodeError('malformed', 'range decoder: symbol outside the coded interval (corrupt data or model mismatch)');
    }
    while (this.range < BOTTOM) {
      this.low = (this.low % SHIFT) * 256;
      this.code = this.code * 256 + this.nextByte();
      this.range *= 256;
    }
  }

  /** Decodes `bitCount` (0..48) raw bits written by {@link RangeEncoder.encodeBits}. */
  decodeBits(bitCount: number): number {
    if (!Number.isInteger(bitCount) || bitCount < 0 || bitCount > 48) {
      throw new DecodeError('invalid_value', `decodeBits: bitCount ${bitCount} out of range 0..48`);
    }
    let value = 0;
    let rest = bitCount;
    while (rest > 0) {
      const n = Math.min(16, rest);
      rest -= n;
      const tot = 2 ** n;
      const c = this.getFreq(tot);
      this.decode(c, 1, tot);
      value = value * tot + c;
    }
    return value;
  }

  /** Decodes an integer written by {@link RangeEncoder.encodeUniform}. */
  decodeUniform(n: number): number {
    const c = this.getFreq(n);
    this.decode(c, 1, n);
    return c;
  }

  /**
   * Checks canonical termination after the last symbol: the remaining bytes must be exactly the
   * tail {@link RangeEncoder.finish} writes. Throws DecodeError('malformed') otherwise — this is how
   * garbage, trailing data, and truncation that happened to decode are caught.
   */
  finish(): void {
    // The encoder's final value is low rounded up to a multiple of 2^40, followed by zeros; the
    // code register holds (value − low) over the 48-bit window, so it must equal the round-up.
    const rem = this.low % SHIFT;
    const expected = rem === 0 ? 0 : SHIFT - rem;
    if (this.code !== expected) {
      throw new DecodeError('malformed', 'range decoder: stream does not end where the coded data ends (corrupt data or model mismatch)');
    }
    // Bytes past the window's first byte would be beyond the encoder's final byte.
    const maxLen = this.pos - 5;
    if (this.bytes.length > maxLen) {
      throw new DecodeError('malformed', `range decoder: ${this.bytes.length - maxLen} trailing byte(s) after the coded data`);
    }
  }
}
