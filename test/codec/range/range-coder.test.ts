import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AdaptiveFrequencyModel, MAX_TOTAL_FREQ, RangeDecoder, RangeEncoder } from '../../../src/codec/range/index.ts';
import { DecodeError, EncodeError } from '../../../src/core/errors.ts';

type Sym = { cum: number; freq: number; tot: number };

const symArb = fc
  .integer({ min: 1, max: MAX_TOTAL_FREQ })
  .chain((tot) => fc.integer({ min: 0, max: tot - 1 }).chain((cum) => fc.integer({ min: 1, max: tot - cum }).map((freq) => ({ cum, freq, tot }))));

function encodeAll(syms: Sym[]): Uint8Array {
  const enc = new RangeEncoder();
  for (const s of syms) enc.encode(s.cum, s.freq, s.tot);
  return enc.finish();
}

function decodeAll(bytes: Uint8Array, syms: Sym[]): void {
  const dec = new RangeDecoder(bytes);
  for (const s of syms) {
    const c = dec.getFreq(s.tot);
    expect(c).toBeGreaterThanOrEqual(s.cum);
    expect(c).toBeLessThan(s.cum + s.freq);
    dec.decode(s.cum, s.freq, s.tot);
  }
  dec.finish();
}

describe('RangeEncoder/RangeDecoder', () => {
  it('round-trips arbitrary interval sequences and terminates canonically', () => {
    fc.assert(
      fc.property(fc.array(symArb, { maxLength: 200 }), (syms) => {
        const bytes = encodeAll(syms);
        decodeAll(bytes, syms);
        if (bytes.length > 0) expect(bytes[bytes.length - 1]).not.toBe(0);
      }),
      { seed: 1234, numRuns: 400 },
    );
  });

  it('propagates carries through runs of 0xFF bytes', () => {
    const syms: Sym[] = [];
    for (let i = 0; i < 30; i++) syms.push({ cum: 255, freq: 1, tot: 256 });
    syms.push({ cum: 1, freq: 1, tot: 2 }, { cum: 3, freq: 5, tot: 9 });
    for (let i = 0; i < 30; i++) syms.push({ cum: 65534, freq: 1, tot: 65535 });
    syms.push({ cum: 16_000_000, freq: 777_215, tot: MAX_TOTAL_FREQ });
    const bytes = encodeAll(syms);
    expect(bytes.filter((b) => b === 0xff).length).toBeGreaterThan(20);
    decodeAll(bytes, syms);
  });

  it('codes nothing as zero bytes, and certain symbols as zero bytes', () => {
    expect(encodeAll([]).length).toBe(0);
    expect(encodeAll([{ cum: 0, freq: 5, tot: 5 }, { cum: 0, freq: 1, tot: 1 }]).length).toBe(0);
  });

  it('spends at most ~1 byte beyond the information content', () => {
    let totalOverheadBits = 0;
    const runs = 300;
    fc.assert(
      fc.property(fc.array(symArb, { minLength: 1, maxLength: 60 }), (syms) => {
        const enc = new RangeEncoder();
        for (const s of syms) enc.encode(s.cum, s.freq, s.tot);
        const info = enc.infoBits.get('default') ?? 0;
        const bytes = enc.finish();
        expect(bytes.length * 8).toBeLessThanOrEqual(Math.ceil(info) + 8 + 1);
        totalOverheadBits += bytes.length * 8 - info;
      }),
      { seed: 99, numRuns: runs },
    );
    expect(totalOverheadBits / runs).toBeLessThan(8);
  });

  it('round-trips raw bits and uniform values, with channel accounting', () => {
    const enc = new RangeEncoder();
    enc.channel = 'a';
    enc.encodeBits(0xabcdef123456, 48);
    enc.encodeBits(5, 3);
    enc.channel = 'b';
    enc.encodeUniform(6, 7);
    enc.encodeBits(0, 0);
    const bytes = enc.finish();
    expect(enc.infoBits.get('a')).toBeCloseTo(51, 6);
    expect(enc.infoBits.get('b')).toBeCloseTo(Math.log2(7), 6);
    const dec = new RangeDecoder(bytes);
    expect(dec.decodeBits(48)).toBe(0xabcdef123456);
    expect(dec.decodeBits(3)).toBe(5);
    expect(dec.decodeUniform(7)).toBe(6);
    dec.finish();
  });

  it('rejects bad intervals and use after finish', () => {
    const enc = new RangeEncoder();
    expect(() => enc.encode(3, 0, 5)).toThrow(EncodeError);
    expect(() => enc.encode(3, 3, 5)).toThrow(EncodeError);
    expect(() => enc.encode(0, 1, MAX_TOTAL_FREQ + 1)).toThrow(EncodeError);
    expect(() => enc.encodeBits(8, 3)).toThrow(EncodeError);
    enc.finish();
    expect(() => enc.encode(0, 1, 2)).toThrow(EncodeError);
  });

  it('detects trailing bytes and corrupted tails with DecodeError(malformed)', () => {
    const syms: Sym[] = Array.from({ length: 40 }, (_, i) => ({ cum: (i * 7) % 13, freq: 1, tot: 13 }));
    const bytes = encodeAll(syms);
    const extra = new Uint8Array([...bytes, 0x5a]);
    expect(() => decodeAll(extra, syms)).toThrow(expect.objectContaining({ code: 'malformed' }));
    let caught = 0;
    for (let i = 0; i < bytes.length; i++) {
      const bad = bytes.slice();
      bad[i] = (bad[i] as number) ^ 0x40;
      try {
        const dec = new RangeDecoder(bad);
        for (const s of syms) {
          const c = dec.getFreq(s.tot);
          dec.decode(c, 1, s.tot);
        }
        dec.finish();
      } catch (e) {
        expect(e).toBeInstanceOf(DecodeError);
        caught++;
        continue;
      }
    }
    // A flipped bit changes the decoded symbols (checked by the caller) or the tail; most tails break.
    expect(caught).toBeGreaterThan(0);
  });

  it('pads with zeros past the end and reports the over-read', () => {
    const dec = new RangeDecoder(new Uint8Array([1, 2]));
    expect(dec.overreadBytes).toBe(4);
    for (let i = 0; i < 10; i++) dec.decodeBits(8);
    expect(dec.bytesConsumed).toBe(15); // the first byte fits in the initial 2^48 range
    expect(dec.overreadBytes).toBe(13);
  });
});

describe('AdaptiveFrequencyModel', () => {
  it('round-trips symbol streams and adapts (skewed data gets cheaper)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.array(fc.nat(), { maxLength: 300 }), (n, raw) => {
        const syms = raw.map((x) => x % n);
        const enc = new RangeEncoder();
        const m = new AdaptiveFrequencyModel(n, { increment: 32, limit: 1 << 12 });
        for (const s of syms) m.encode(enc, s);
        const bytes = enc.finish();
        const dec = new RangeDecoder(bytes);
        const m2 = new AdaptiveFrequencyModel(n, { increment: 32, limit: 1 << 12 });
        expect(syms.map(() => m2.decode(dec))).toEqual(syms);
        dec.finish();
      }),
      { seed: 7, numRuns: 200 },
    );
    const enc = new RangeEncoder();
    const m = new AdaptiveFrequencyModel(16);
    for (let i = 0; i < 200; i++) m.encode(enc, 3);
    expect(enc.finish().length).toBeLessThan(10);
  });

  it('validates its options', () => {
    expect(() => new AdaptiveFrequencyModel(0)).toThrow(EncodeError);
    expect(() => new AdaptiveFrequencyModel(4, { limit: 1 << 25 })).toThrow(EncodeError);
    expect(() => new AdaptiveFrequencyModel(4).encode(new RangeEncoder(), 4)).toThrow(EncodeError);
  });
});
