import { DecodeError } from '../../core/errors.ts';
import type { RangeDecoder, RangeEncoder } from '../range/index.ts';
import { CHAR_ALPHABET, CHAR_ESC, CHAR_SYMBOLS } from './model-format.ts';
import type { TextModel } from './model.ts';

const SYMBOL_OF = new Map<number, number>();
for (let i = 1; i < CHAR_ALPHABET.length; i++) SYMBOL_OF.set(CHAR_ALPHABET.charCodeAt(i), i);

/**
 * Spells a (case-folded) token with the model's static order-2 character model. Any UTF-16 code
 * unit outside the alphabet (including lone surrogates) is an escape plus 16 raw bits.
 */
export function encodeSpelling(enc: RangeEncoder, model: TextModel, token: string): void {
  const f = model.data.charFreq;
  let c2 = 0;
  let c1 = 0;
  for (let i = 0; i <= token.length; i++) {
    const unit = i < token.length ? token.charCodeAt(i) : -1;
    const s = unit < 0 ? 0 : (SYMBOL_OF.get(unit) ?? CHAR_ESC);
    codeSymbol(f, c2, c1, (base, tot) => {
      let cum = 0;
      for (let k = 0; k < s; k++) cum += f[base + k] as number;
      enc.encode(cum, f[base + s] as number, tot);
    });
    if (s === CHAR_ESC) enc.encodeBits(unit, 16);
    c2 = c1;
    c1 = s;
  }
}

/** Decodes a spelled token of at most `maxUnits` UTF-16 units; longer is DecodeError('too_large'). */
export function decodeSpelling(dec: RangeDecoder, model: TextModel, maxUnits: number): string {
  const f = model.data.charFreq;
  const units: number[] = [];
  let c2 = 0;
  let c1 = 0;
  for (;;) {
    let s = 0;
    codeSymbol(f, c2, c1, (base, tot) => {
      const t = dec.getFreq(tot);
      let cum = 0;
      while (s < CHAR_SYMBOLS - 1 && cum + (f[base + s] as number) <= t) cum += f[base + s++] as number;
      dec.decode(cum, f[base + s] as number, tot);
    });
    if (s === 0) break;
    if (units.length >= maxUnits) throw new DecodeError('too_large', `text: spelled word longer than ${maxUnits} characters`);
    let unit = CHAR_ALPHABET.charCodeAt(s);
    if (s === CHAR_ESC) {
      unit = dec.decodeBits(16);
      // The encoder escapes only units outside the alphabet.
      if (SYMBOL_OF.has(unit)) throw new DecodeError('malformed', 'text: escaped character that has its own symbol (corrupt data)');
    }
    units.push(unit);
    c2 = c1;
    c1 = s;
  }
  // Chunked to stay below the argument-count limit of fromCharCode.
  let out = '';
  for (let i = 0; i < units.length; i += 4096) out += String.fromCharCode(...units.slice(i, i + 4096));
  return out;
}

function codeSymbol(f: Uint16Array, c2: number, c1: number, fn: (base: number, tot: number) => void): void {
  const base = (c2 * CHAR_SYMBOLS + c1) * CHAR_SYMBOLS;
  let tot = 0;
  for (let k = 0; k < CHAR_SYMBOLS; k++) tot += f[base + k] as number;
  fn(base, tot);
}
