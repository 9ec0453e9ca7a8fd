import { describe, expect, it } from 'vitest';
import { EncodeError } from '../../../src/core/errors.ts';
import { GAP_MANTISSA_BITS, MessageGapCoder, quantizeMessageGap } from '../../../src/codec/message/index.ts';
import { RangeDecoder, RangeEncoder } from '../../../src/codec/range/index.ts';
import { errorCodeOf } from '../../fixtures/errors.ts';
import { seeded } from '../../fixtures/seeded.ts';

describe('message phrase gaps (relative precision)', () => {
  it('keeps gaps up to 6 units exact and longer ones within 1/8; overlaps only shrink', () => {
    expect(GAP_MANTISSA_BITS).toBe(2);
    for (let g = -6; g <= 6; g++) expect(quantizeMessageGap(g)).toBe(g);
    for (let g = 7; g < 5000; g++) {
      const q = quantizeMessageGap(g);
      expect(Math.abs(q - g)).toBeLessThanOrEqual((g + 1) / 8);
      const n = quantizeMessageGap(-g);
      expect(n).toBeLessThanOrEqual(0);
      expect(n).toBeGreaterThanOrEqual(-g); // towards 0: never starts earlier than sent
      expect(Math.abs(n + g)).toBeLessThan((g + 1) / 4);
      expect(quantizeMessageGap(q)).toBe(q); // idempotent
      expect(quantizeMessageGap(n)).toBe(n);
    }
    expect([14, 16, 17].map(quantizeMessageGap)).toEqual([15, 15, 19]);
    expect(errorCodeOf(() => quantizeMessageGap(0.5), EncodeError)).toBe('invalid_value');
    expect(errorCodeOf(() => quantizeMessageGap(2 ** 28), EncodeError)).toBe('invalid_value');
  });

  it('round-trips quantized gaps of every class, and a pause costs fewer bits than exact coding', () => {
    const rnd = seeded(7);
    const gaps = [0, 1, -1, 6, -6, 7, 15, 19, -15, 2 ** 28 - 1, ...Array.from({ length: 300 }, () => quantizeMessageGap(Math.round((rnd() - 0.2) * 400)))].map(quantizeMessageGap);
    const enc = new RangeEncoder();
    const coder = new MessageGapCoder();
    for (const g of gaps) coder.encode(enc, g);
    const dec = new RangeDecoder(enc.finish());
    const back = new MessageGapCoder();
    expect(gaps.map(() => back.decode(dec))).toEqual(gaps);
    dec.finish();
    // A 1.5 s pause: class 4 + sign (~0.2 bit) + 2 mantissa bits, against class + 5 raw bits exact.
    const one = new RangeEncoder();
    one.channel = 'time';
    new MessageGapCoder().encode(one, 15);
    expect(one.infoBits.get('time')!).toBeLessThan(5.5);
  });

  it('refuses to code a gap that is not a quantized one', () => {
    const enc = new RangeEncoder();
    expect(errorCodeOf(() => new MessageGapCoder().encode(enc, 17), EncodeError)).toBe('invalid_value');
  });
});
