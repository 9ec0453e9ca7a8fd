import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TextCodingSession, TextModel, decodeTextSegment, encodeTextSegment, serializeTextModel } from '../../../src/codec/text/index.ts';
import { DecodeError, EncodeError } from '../../../src/core/errors.ts';
import { TINY_VOCAB, tinyModel, tinyModelData } from './tiny-model.ts';

const model = tinyModel();

/** Words from the vocabulary in random case, plus out-of-vocabulary tokens. */
const wordish = fc.array(
  fc.oneof(
    fc.constantFrom(...TINY_VOCAB.slice(2), 'zebra', 'cats', '', 'The', 'CAT', 'DoN\'T', 'mAt'),
    fc.string({ maxLength: 6 }),
  ),
  { maxLength: 12 },
).map((ws) => ws.join(' '));

const anyText = fc.oneof(wordish, fc.fullUnicodeString({ maxLength: 40 }), fc.string16bits({ maxLength: 40 }), fc.string({ maxLength: 60 }));

function roundTripSession(m: TextModel, segments: string[]): Uint8Array[] {
  const tx = new TextCodingSession(m);
  const rx = new TextCodingSession(m);
  const out: Uint8Array[] = [];
  for (const s of segments) {
    const bytes = encodeTextSegment(tx, s);
    const back = decodeTextSegment(rx, bytes);
    expect(back).toBe(s);
    tx.commit(s);
    rx.commit(back);
    expect(rx.contextId).toBe(tx.contextId);
    out.push(bytes);
  }
  return out;
}

describe('TextCodingSession (synthetic model)', () => {
  it('round-trips arbitrary strings over multi-segment sessions', () => {
    fc.assert(
      fc.property(fc.array(anyText, { minLength: 1, maxLength: 6 }), (segments) => {
        roundTripSession(model, segments);
      }),
      { seed: 20261128, numRuns: 300 },
    );
  });

  it('round-trips edge cases: empty, spaces, astral and lone surrogates, long text', () => {
    const long = Array.from({ length: 1500 }, (_, i) => TINY_VOCAB[2 + (i % 8)]).join(' ');
    roundTripSession(model, ['', ' ', '  x  ', '\ud800', '\udc00a', '😀 THE cat', 'a\u0000b', '<s> </s>', 'THE CAT SAT', long, 'tHe CaT']);
  });

  it('gives identical bytes from two independent sessions', () => {
    const segs = ['THE CAT SAT ON THE MAT', 'A DOG', 'zebra cat', 'ZEBRA ZEBRA', 'The Dog'];
    const a = roundTripSession(model, segs);
    const b = roundTripSession(tinyModel(), segs);
    expect(b).toEqual(a);
  });

  it('matches the golden bitstream of the fixed synthetic model (format change = update on purpose)', () => {
    const tx = new TextCodingSession(model);
    const h = createHash('sha256');
    for (const s of ['THE CAT SAT ON THE MAT', 'A DOG', 'zebra cat', 'ZEBRA ZEBRA', 'The Dog', '', 'x😀\ud800']) {
      const b = encodeTextSegment(tx, s);
      h.update(b);
      h.update(new Uint8Array([b.length]));
      tx.commit(s);
    }
    expect(h.digest('hex')).toBe('3400fbd4724a2a196b108c84e65348248e7667470145422fb26f8bccdb20cfd0');
  });

  it('codes likely text cheaply and learns from committed context', () => {
    const tx = new TextCodingSession(model);
    const likely = encodeTextSegment(tx, 'THE CAT SAT ON THE MAT').length;
    const unlikely = encodeTextSegment(tx, 'MAT ON DOG THE SAT CAT').length;
    expect(likely).toBeLessThan(unlikely);
    // A spelled word gets cheaper once committed (session cache).
    const first = encodeTextSegment(tx, 'ZEBRAFISH').length;
    tx.commit('ZEBRAFISH');
    expect(encodeTextSegment(tx, 'ZEBRAFISH').length).toBeLessThan(first);
    expect(tx.contextId).toBe(1);
  });

  it('desynchronised context is not silently accepted as the same text', () => {
    const tx = new TextCodingSession(model);
    const rx = new TextCodingSession(model);
    tx.commit('ZEBRAFISH');
    const bytes = encodeTextSegment(tx, 'ZEBRAFISH THE CAT');
    let out: string | undefined;
    try {
      out = decodeTextSegment(rx, bytes);
    } catch (e) {
      expect(e).toBeInstanceOf(DecodeError);
    }
    expect(out).not.toBe('ZEBRAFISH THE CAT');
  });

  it('rejects oversized segments on both sides', () => {
    const tx = new TextCodingSession(model, { maxTokens: 5 });
    expect(() => encodeTextSegment(tx, 'a a a a a a')).toThrow(expect.objectContaining({ code: 'too_large' }));
    expect(() => encodeTextSegment(tx, 'a a a a a a')).toThrow(EncodeError);
    const bytes = encodeTextSegment(new TextCodingSession(model), 'a a a a a a');
    expect(() => decodeTextSegment(new TextCodingSession(model, { maxTokens: 5 }), bytes)).toThrow(expect.objectContaining({ code: 'too_large' }));
    const longBytes = encodeTextSegment(new TextCodingSession(model), 'x'.repeat(100));
    expect(() => decodeTextSegment(new TextCodingSession(model, { maxChars: 50 }), longBytes)).toThrow(expect.objectContaining({ code: 'too_large' }));
  });

  it('garbage and truncated input end in DecodeError or a string, never another error or a hang', () => {
    let decodeErrors = 0;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (bytes) => {
        try {
          decodeTextSegment(new TextCodingSession(model, { maxTokens: 200, maxChars: 2000 }), bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(DecodeError);
          expect(['malformed', 'too_large', 'invalid_value']).toContain((e as DecodeError).code);
          decodeErrors++;
        }
      }),
      { seed: 5, numRuns: 500 },
    );
    // The strict end-of-stream check rejects nearly all random input.
    expect(decodeErrors).toBeGreaterThan(450);
    let truncErrors = 0;
    let truncTotal = 0;
    for (const s of ['THE CAT SAT ON THE MAT', 'zebra crossing at dawn', 'Hello, World! 123 😀', 'DOG DOG DOG CAT']) {
      const bytes = encodeTextSegment(new TextCodingSession(model), s);
      for (let n = 0; n < bytes.length; n++) {
        truncTotal++;
        try {
          const out = decodeTextSegment(new TextCodingSession(model), bytes.subarray(0, n));
          expect(out).not.toBe(s);
        } catch (e) {
          expect(e).toBeInstanceOf(DecodeError);
          truncErrors++;
        }
      }
    }
    expect(truncErrors / truncTotal).toBeGreaterThan(0.8);
  });

  it('refuses a different model by id or hash', () => {
    const other = tinyModel('tiny-v1', 1);
    expect(other.id).toBe(model.id);
    expect(other.hash).not.toBe(model.hash);
    expect(() => model.checkIdentity(other.id, other.hash)).toThrow(expect.objectContaining({ code: 'model_mismatch' }));
    expect(() => model.checkIdentity('other', model.hash)).toThrow(DecodeError);
    expect(() => model.checkIdentity(model.id, model.hash)).not.toThrow();
  });

  it('rejects corrupt model bytes with DecodeError(malformed)', () => {
    const bytes = serializeTextModel(tinyModelData(), {});
    expect(() => new TextModel(bytes.subarray(0, 100))).toThrow(expect.objectContaining({ code: 'malformed' }));
    const bad = bytes.slice();
    bad[0] = 0x58;
    expect(() => new TextModel(bad)).toThrow(DecodeError);
    const unsorted = tinyModelData();
    unsorted.biWord.reverse();
    expect(() => new TextModel(serializeTextModel(unsorted, {}))).toThrow(expect.objectContaining({ code: 'malformed' }));
  });

  it('serialises deterministically', () => {
    expect(serializeTextModel(tinyModelData(), { a: '1' })).toEqual(serializeTextModel(tinyModelData(), { a: '1' }));
  });
});
