import { DecodeError, EncodeError } from '../../core/errors.ts';
import type { RangeDecoder, RangeEncoder } from '../range/index.ts';

const TOTAL_SCALE = 1 << 12;
const ESCAPE_FREQ = 2;
const ESCAPE_BITS = 16;

/**
 * Static two-sided geometric (discrete Laplace) model for signed integers: |v| ≤ `span` coded in
 * one symbol with P ∝ exp(−|v|/scale); anything larger escapes to a zigzag value in 16 raw bits,
 * so no signed value is clipped. Static (no adaptation): a lost phrase cannot desynchronize it.
 */
export class SignedLaplaceModel {
  private readonly freq: Uint32Array;
  private readonly cum: Uint32Array;
  private readonly total: number;

  constructor(readonly scale: number, readonly span = 15) {
    const n = 2 * span + 2; // symbols −span..span, then escape
    this.freq = new Uint32Array(n);
    for (let v = -span; v <= span; v++) this.freq[v + span] = Math.max(1, Math.round(TOTAL_SCALE * Math.exp(-Math.abs(v) / scale)));
    this.freq[n - 1] = ESCAPE_FREQ;
    this.cum = new Uint32Array(n + 1);
    for (let i = 0; i < n; i++) this.cum[i + 1] = this.cum[i]! + this.freq[i]!;
    this.total = this.cum[n]!;
  }

  encode(enc: RangeEncoder, value: number): void {
    if (!Number.isInteger(value)) throw new EncodeError('invalid_value', `prosody: value ${value} is not an integer`);
    const zig = value >= 0 ? 2 * value : -2 * value - 1;
    const s = Math.abs(value) <= this.span ? value + this.span : this.freq.length - 1;
    if (s === this.freq.length - 1 && zig >= 2 ** ESCAPE_BITS) throw new EncodeError('invalid_value', `prosody: value ${value} too large to code`);
    enc.encode(this.cum[s]!, this.freq[s]!, this.total);
    if (s === this.freq.length - 1) enc.encodeBits(zig, ESCAPE_BITS);
  }

  decode(dec: RangeDecoder): number {
    const target = dec.getFreq(this.total);
    let s = 0;
    while (s < this.freq.length - 1 && this.cum[s + 1]! <= target) s++;
    dec.decode(this.cum[s]!, this.freq[s]!, this.total);
    if (s < this.freq.length - 1) return s - this.span;
    const zig = dec.decodeBits(ESCAPE_BITS);
    const v = zig & 1 ? -(zig + 1) / 2 : zig / 2;
    // An escape must carry a value the short form could not: anything else is not our encoder's output.
    if (Math.abs(v) <= this.span) throw new DecodeError('malformed', 'prosody: escaped value within the short range');
    return v;
  }

  /** Information content of `value`, bits (for planning and tests). */
  costBits(value: number): number {
    const s = Math.abs(value) <= this.span ? value + this.span : this.freq.length - 1;
    return Math.log2(this.total / this.freq[s]!) + (s === this.freq.length - 1 ? ESCAPE_BITS : 0);
  }
}

/** Static model for a small unsigned alphabet with given relative frequencies. */
export class StaticSymbolModel {
  private readonly cum: Uint32Array;
  constructor(private readonly freq: readonly number[]) {
    this.cum = new Uint32Array(freq.length + 1);
    for (let i = 0; i < freq.length; i++) this.cum[i + 1] = this.cum[i]! + freq[i]!;
  }
  get size(): number { return this.freq.length; }
  encode(enc: RangeEncoder, s: number): void {
    if (!Number.isInteger(s) || s < 0 || s >= this.freq.length) throw new EncodeError('invalid_value', `prosody: symbol ${s} out of range`);
    enc.encode(this.cum[s]!, this.freq[s]!, this.cum[this.freq.length]!);
  }
  decode(dec: RangeDecoder): number {
    const total = this.cum[this.freq.length]!;
    const target = dec.getFreq(total);
    let s = 0;
    while (s < this.freq.length - 1 && this.cum[s + 1]! <= target) s++;
    dec.decode(this.cum[s]!, this.freq[s]!, total);
    return s;
  }
}
