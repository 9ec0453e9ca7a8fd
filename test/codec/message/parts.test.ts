import { describe, expect, it } from 'vitest';
import { DecodeError, EncodeError } from '../../../src/core/errors.ts';
import { decodePart, encodePart, MessageIncompleteError, reassembleMessage, splitMessage, splitSmsText, partToSms, smsToPart, type MessagePart } from '../../../src/codec/message/index.ts';
import { errorCodeOf } from '../../fixtures/errors.ts';
import { seeded } from '../../fixtures/seeded.ts';

const rnd = seeded(7);
/** A message-like byte string: first bit 0 (a message header starts so). */
const message = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i === 0 ? 0x09 : Math.floor((rnd() + 1) * 128) & 255));
const shuffle = <T>(xs: T[]) => xs.map((x) => [rnd(), x] as const).sort((a, b) => a[0] - b[0]).map(([, x]) => x);
const wire = (parts: MessagePart[]) => parts.map((p) => decodePart(encodePart(p)));

describe('message parts', () => {
  it('a message that fits is one part with no header at all', () => {
    const m = message(100);
    const parts = splitMessage(m, 125, 9);
    expect(parts).toHaveLength(1);
    expect(encodePart(parts[0]!)).toEqual(m);
    expect(reassembleMessage(wire(parts)).message).toEqual(m);
  });

  it('splits into full parts with 2-byte headers, reassembles in any order, ignores duplicates', () => {
    const m = message(1000);
    const parts = splitMessage(m, 125, 42);
    expect(parts).toHaveLength(Math.ceil(1000 / 123));
    for (const p of parts.slice(0, -1)) expect(encodePart(p)).toHaveLength(125);
    const got = reassembleMessage(shuffle([...wire(parts), ...wire(parts.slice(2, 5))]));
    expect(got.message).toEqual(m);
    expect(got.duplicates).toBe(3);
    expect(got.messageId).toBe(42);
  });

  it('names the missing parts and keeps the parts before the gap', () => {
    const m = message(600);
    const parts = splitMessage(m, 125, 3);
    const err = (() => {
      try {
        reassembleMessage(wire(parts.filter((p) => p.index !== 2 && p.index !== 4)));
      } catch (e) {
        return e;
      }
    })() as MessageIncompleteError;
    expect(err).toBeInstanceOf(MessageIncompleteError);
    expect(err).toBeInstanceOf(DecodeError);
    expect(err.code).toBe('truncated');
    expect(err.missingParts).toEqual([3, 5]);
    expect(err.details?.missingParts).toEqual([3, 5]);
    expect(err.prefix).toEqual(m.slice(0, 2 * 123));
  });

  it('refuses parts of two messages and conflicting copies', () => {
    const a = wire(splitMessage(message(300), 125, 1));
    const b = wire(splitMessage(message(300), 125, 2));
    expect(errorCodeOf(() => reassembleMessage([...a, b[0]!]), DecodeError)).toBe('malformed');
    const bad = { ...a[1]!, payload: a[1]!.payload.map((x) => x ^ 1) };
    expect(errorCodeOf(() => reassembleMessage([...a, bad]), DecodeError)).toBe('malformed');
    expect(errorCodeOf(() => reassembleMessage([]), DecodeError)).toBe('truncated');
  });

  it('caps a message at 16 parts', () => {
    expect(splitMessage(message(16 * 123), 125, 0)).toHaveLength(16);
    expect(errorCodeOf(() => splitMessage(message(16 * 123 + 1), 125, 0), EncodeError)).toBe('too_large');
  });

  it('rejects impossible part headers', () => {
    expect(errorCodeOf(() => decodePart(Uint8Array.of(0x85, 0x05, 1)), DecodeError)).toBe('malformed'); // count 1 in a multi-part header
    expect(errorCodeOf(() => decodePart(Uint8Array.of(0x85, 0x13, 1)), DecodeError)).toBe('malformed'); // part 4 of 2
    expect(errorCodeOf(() => decodePart(Uint8Array.of(0x85, 0x10)), DecodeError)).toBe('truncated');
    expect(errorCodeOf(() => decodePart(Uint8Array.of(0x05)), DecodeError)).toBe('truncated');
  });
});

describe('pasted SMS text', () => {
  const m = message(400);
  const texts = splitMessage(m, 125, 77).map((p) => partToSms(encodePart(p)));

  it('one part per line, in any order', () => {
    expect(texts.slice(0, -1).every((t) => t.length === 160)).toBe(true);
    expect(splitSmsText(shuffle(texts).join('\n'))).toEqual(expect.arrayContaining(texts));
    expect(splitSmsText(texts.join('\r\n') + '\n\n')).toEqual(texts);
  });

  it('ignores the whitespace a phone adds and joins a part broken over lines', () => {
    const folded = texts.map((t) => t.replace(/(.{37})/g, '$1\n  ').replace(/(.{5})/, '$1 \u00a0')).join('\n');
    expect(splitSmsText(folded)).toEqual(texts);
    // Parts run together without a line break are cut every 160 characters.
    expect(splitSmsText(texts.join(''))).toEqual(texts);
    // Blank lines separate parts too.
    expect(splitSmsText(`\n${texts[2]}\n\n${texts[0]}\n\n\n${texts[1]}\n`)).toEqual([texts[2], texts[0], texts[1]]);
    expect(reassembleMessage(shuffle(splitSmsText(folded)).map((t) => decodePart(smsToPart(t)))).message).toEqual(m);
  });
});
