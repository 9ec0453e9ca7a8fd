import fc from 'fast-check';
import { beforeAll, expect, it } from 'vitest';
import { DecodeError, StctsError } from '../../../src/core/errors.ts';
import { encodePart, messageProsodyCoder, MessageWriter, partToSms, splitMessage, SMS_ALPHABET } from '../../../src/codec/message/index.ts';
import { encodeSpeakerProfile } from '../../../src/codec/speaker/index.ts';
import type { TextModel } from '../../../src/codec/text/index.ts';
import { loadDefaultTextModel } from '../../../src/pipeline/codecs.ts';
import { readMessage } from '../../../src/pipeline/message-decode.ts';
import { partsFromBytes, partsFromSmsText } from '../../../src/pipeline/message-parts.ts';
import { describeWith, TEXT_MODEL } from '../../fixtures/components.ts';

const CODES = ['truncated', 'malformed', 'unsupported_version', 'too_large', 'model_mismatch', 'invalid_value', 'empty'];

/** The whole receive path must be total: a decoded message or a typed error, nothing else. */
function total(f: () => unknown): void {
  try {
    f();
  } catch (err) {
    if (!(err instanceof StctsError)) throw err;
    expect(CODES).toContain(err.code);
  }
}

describeWith('voice message receive path fuzz (10,000 inputs)', [TEXT_MODEL], () => {
  let model: TextModel;
  let valid: Uint8Array;
  beforeAll(async () => {
    model = await loadDefaultTextModel();
    const coder = messageProsodyCoder('balanced');
    const w = new MessageWriter(model, 'balanced', coder);
    w.speaker(encodeSpeakerProfile({ medianF0Hz: 180, f0RangeSemitones: 7, formantScale: 1.1, spectralTiltDbPerOctave: -5, hnrDb: 12, melCepstrumMean: [1.2, -3, 0.5, -2, 0.3, -1, 0.2, -0.4, 0.1, 0, -0.2, 0.1], syllablesPerSecond: 4.2 }), false);
    const words = 'THE SHIP WILL REACH THE HARBOUR AT SEVEN KEEP THE RADIO ON CHANNEL SIXTEEN WE HAVE FUEL FOR TWO DAYS AND WATER FOR FIVE'.split(' ');
    for (let i = 0; i < 12; i++) w.phrase({ startMs: i * 2500, text: words.slice(i % 10, (i % 10) + 6).join(' '), prosody: { mode: 'balanced', levelQ: i % 5, rateQ: 0, dctQ: [2, -1, 0, 0, 1, 0], pauseQ: [0, 0, 1, 0, 0] } });
    valid = w.finish();
    expect(valid.length).toBeGreaterThan(125); // several SMS parts
  });

  const decodeSms = (text: string, partial: boolean) => total(() => readMessage(partsFromSmsText(text, 'fuzz'), model, { partial }));
  const decodeBinary = (parts: Uint8Array[], partial: boolean) => total(() => readMessage(parts.flatMap((b) => partsFromBytes(b, 'fuzz', 'binary')), model, { partial }));

  it('2,500 random texts in and around the SMS alphabet', () => {
    const ch = fc.constantFrom(...SMS_ALPHABET, ' ', '\n', '\n', '@', 'é', '"');
    fc.assert(fc.property(fc.array(ch, { maxLength: 420 }).map((a) => a.join('')), fc.boolean(), (t, partial) => decodeSms(t, partial)), { numRuns: 2500, seed: 16 });
  });

  it('2,500 valid SMS messages with characters changed, dropped, added, parts dropped', () => {
    const texts = splitMessage(valid, 125, 12).map((p) => partToSms(encodePart(p)));
    const edit = fc.record({
      part: fc.nat(texts.length - 1),
      at: fc.nat(159),
      kind: fc.constantFrom('change', 'drop', 'add', 'lose-part'),
      c: fc.constantFrom(...SMS_ALPHABET),
    });
    fc.assert(fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), fc.boolean(), (edits, partial) => {
      let parts = texts.slice();
      for (const e of edits) {
        const t = parts[e.part % parts.length] ?? '';
        const at = e.at % Math.max(1, t.length);
        const next = e.kind === 'change' ? t.slice(0, at) + e.c + t.slice(at + 1) : e.kind === 'drop' ? t.slice(0, at) + t.slice(at + 1) : e.kind === 'add' ? t.slice(0, at) + e.c + t.slice(at) : '';
        parts = parts.map((x, i) => (i === e.part % parts.length ? next : x)).filter((x) => x !== '');
      }
      decodeSms(parts.join('\n'), partial);
    }), { numRuns: 2500, seed: 17 });
  });

  it('2,500 random binary parts', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 340 }), { minLength: 1, maxLength: 3 }), fc.boolean(), (parts, partial) => decodeBinary(parts, partial)), { numRuns: 2500, seed: 18 });
  });

  it('2,500 valid binary messages with bytes flipped, cut or parts dropped', () => {
    const parts = splitMessage(valid, 60, 5).map(encodePart);
    const mutation = fc.record({
      flips: fc.array(fc.tuple(fc.nat(parts.length - 1), fc.nat(59), fc.integer({ min: 1, max: 255 })), { maxLength: 3 }),
      cut: fc.option(fc.tuple(fc.nat(parts.length - 1), fc.nat(59))),
      drop: fc.option(fc.nat(parts.length - 1)),
    });
    fc.assert(fc.property(mutation, fc.boolean(), (m, partial) => {
      let ps = parts.map((p) => p.slice());
      for (const [i, at, x] of m.flips) if (at < ps[i]!.length) ps[i]![at] ^= x;
      if (m.cut) ps[m.cut[0]] = ps[m.cut[0]]!.slice(0, m.cut[1] + 1);
      if (m.drop !== null) ps = ps.filter((_, i) => i !== m.drop);
      decodeBinary(ps, partial);
    }), { numRuns: 2500, seed: 19 });
  });

  it('the unmutated message decodes; a flipped byte is caught (> 90 %) by the range coder termination check', () => {
    const ok = readMessage(splitMessage(valid, 60, 5).map((p) => partsFromBytes(encodePart(p), 'x', 'binary')[0]!), model);
    expect(ok.decoded.complete).toBe(true);
    expect(ok.decoded.items.filter((i) => i.type === 'phrase')).toHaveLength(12);
    let caught = 0;
    for (let at = 3; at < valid.length; at++) {
      const bad = valid.slice();
      bad[at] ^= 0x10;
      try {
        readMessage(partsFromBytes(bad, 'x', 'binary'), model);
      } catch (err) {
        expect(err).toBeInstanceOf(DecodeError);
        caught++;
      }
    }
    // The range coder's termination check catches nearly every corrupted byte.
    expect(caught / (valid.length - 3)).toBeGreaterThan(0.9);
  });
});
