import { EncodeError } from '../../core/errors.ts';
import type { RangeDecoder, RangeEncoder } from './range-coder.ts';

/** Options of {@link AdaptiveFrequencyModel}. */
export interface AdaptiveModelOptions {
  /** Added to a symbol's count each time it is coded. Default 24. */
  increment: number;
  /** When the total exceeds this, all counts are halved (kept ≥ 1). Default 2^13; at most 2^24. */
  limit: number;
  /** Initial count of every symbol (≥ 1), or one count per symbol. Default 1. */
  initial: number | readonly number[];
}

/** Defaults: adapts within a few dozen symbols, forgets slowly. */
export const DEFAULT_ADAPTIVE_MODEL_OPTIONS: Readonly<AdaptiveModelOptions> = Object.freeze({
  increment: 24,
  limit: 1 << 13,
  initial: 1,
});

/**
 * Adaptive frequency table for a small alphabet (symbols 0..numSymbols−1), coded with
 * {@link RangeEncoder}/{@link RangeDecoder}. Integer counts only, so encoder and decoder stay in
 * lock-step on every machine. Linear search: meant for alphabets up to a few hundred symbols.
 */
export class AdaptiveFrequencyModel {
  readonly numSymbols: number;
  readonly options: Readonly<AdaptiveModelOptions>;
  private readonly freq: Uint32Array;
  private total = 0;

  constructor(numSymbols: number, options: Partial<AdaptiveModelOptions> = {}) {
    this.options = Object.freeze({ ...DEFAULT_ADAPTIVE_MODEL_OPTIONS, ...options });
    const { increment, limit, initial } = this.options;
    if (!Number.isInteger(numSymbols) || numSymbols < 1 || numSymbols > 1 << 16) {
      throw new EncodeError('invalid_value', `AdaptiveFrequencyModel: numSymbols ${numSymbols} out of range 1..65536`);
    }
    if (!Number.isInteger(increment) || increment < 1 || !Number.isInteger(limit) || limit > 1 << 24 || limit < numSymbols * 2 + increment) {
      throw new EncodeError('invalid_value', `AdaptiveFrequencyModel: bad increment ${increment} / limit ${limit}`);
    }
    this.numSymbols = numSymbols;
    this.freq = new Uint32Array(numSymbols);
    for (let i = 0; i < numSymbols; i++) {
      const f = typeof initial === 'number' ? initial : (initial[i] ?? 1);
      if (!Number.isInteger(f) || f < 1) throw new EncodeError('invalid_value', `AdaptiveFrequencyModel: initial count ${f} must be an integer ≥ 1`);
      this.freq[i] = f;
      this.total += f;
    }
    while (this.total > limit) this.halve();
  }

  /** Current total of counts (the totFreq used for the next symbol). */
  get totalFreq(): number {
    return this.total;
  }

  /** Current count of `symbol`. */
  frequency(symbol: number): number {
    return this.freq[symbol] ?? 0;
  }

  private halve(): void {
    let t = 0;
    for (let i = 0; i < this.numSymbols; i++) {
      const f = ((this.freq[i] as number) + 1) >>> 1;
      this.freq[i] = f;
      t += f;
    }
    this.total = t;
  }

  /** Adapts as if `symbol` had been coded (for replaying committed context without coding). */
  update(symbol: number): void {
    this.freq[symbol] = (this.freq[symbol] as number) + this.options.increment;
    this.total += this.options.increment;
    if (this.total > this.options.limit) this.halve();
  }

  /** Codes `symbol` and adapts. */
  encode(enc: RangeEncoder, symbol: number): void {
    if (!Number.isInteger(symbol) || symbol < 0 || symbol >= this.numSymbols) {
      throw new EncodeError('invalid_value', `AdaptiveFrequencyModel: symbol ${symbol} out of range 0..${this.numSymbols - 1}`);
    }
    let cum = 0;
    for (let i = 0; i < symbol; i++) cum += this.freq[i] as number;
    enc.encode(cum, this.freq[symbol] as number, this.total);
    this.update(symbol);
  }

  /** Decodes one symbol and adapts exactly as {@link encode} did. */
  decode(dec: RangeDecoder): number {
    const target = dec.getFreq(this.total);
    let cum = 0;
    let s = 0;
    for (; s < this.numSymbols - 1; s++) {
      const f = this.freq[s] as number;
      if (cum + f > target) break;
      cum += f;
    }
    dec.decode(cum, this.freq[s] as number, this.total);
    this.update(s);
    return s;
  }

  /** Independent copy (same counts), e.g. to try an encoding without committing to it. */
  clone(): AdaptiveFrequencyModel {
    const c = new AdaptiveFrequencyModel(this.numSymbols, { ...this.options, initial: 1 });
    c.freq.set(this.freq);
    c.total = this.total;
    return c;
  }
}
