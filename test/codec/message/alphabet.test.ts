import { describe, expect, it } from 'vitest';
import { DecodeError, EncodeError } from '../../../src/core/errors.ts';
import {
  base77BytesForChars, base77CharsForBytes, decodeBase64NoPad, decodeBase77, encodeBase64NoPad, encodeBase77, partBytesFor, partToSms, smsToPart, SMS_ALPHABET, SMS_PART_CHARS,
} from '../../../src/codec/message/index.ts';
import { errorCodeOf } from '../../fixtures/errors.ts';
import { seeded } from '../../fixtures/seeded.ts';

const rnd = seeded(16);
const randomBytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor((rnd() + 1) * 128) & 255);

describe('SMS alphabet', () => {
  it('is the 77 GSM-7 basic characters of the issue, none of the excluded ones', () => {
    expect(SMS_ALPHABET.length).toBe(77);
    expect(new Set(SMS_ALPHABET).size).toBe(77);
    expect([...SMS_ALPHABET].sort().join('')).toBe([...'!#%()*+,-./0123456789:;=?', ...'ABCDEFGHIJKLMNOPQRSTUVWXYZ', ...'abcdefghijklmnopqrstuvwxyz'].sort().join(''));
    for (const c of '@$_[]{}\\^~|€`"\' &<>\n') expect(SMS_ALPHABET).not.toContain(c);
  });

  it('carries 125 bytes in one 160-character SMS (base64 fallback: 119)', () => {
    expect(base77BytesForChars(SMS_PART_CHARS)).toBe(125);
    expect(base77CharsForBytes(125)).toBe(160);
    expect(partBytesFor('sms')).toBe(125);
    expect(partBytesFor('sms', 'base64')).toBe(119);
    expect(partToSms(new Uint8Array(125).fill(255))).toHaveLength(160);
    expect(partToSms(new Uint8Array(119).fill(255), 'base64')).toHaveLength(160);
    expect(errorCodeOf(() => partToSms(new Uint8Array(126).fill(255)), EncodeError)).toBe('too_large');
  });

  it('round-trips every length 1..125 whose first byte is not 0, in the fewest characters, never starting with "!"', () => {
    for (let n = 1; n <= 125; n++) {
      for (const bytes of [randomBytes(n), Uint8Array.of(1, ...new Uint8Array(n - 1)), new Uint8Array(n).fill(255), Uint8Array.of(0x40, ...randomBytes(n - 1))]) {
        if (bytes[0] === 0) bytes[0] = 1;
        const text = encodeBase77(bytes);
        expect(text[0]).not.toBe('!');
        expect(text.length).toBeLessThanOrEqual(base77CharsForBytes(n));
        expect(base77BytesForChars(text.length)).toBeLessThanOrEqual(n);
        // Fewest characters: the value needs all of them (77^(L−1) ≤ value < 77^L).
        const value = BigInt('0x' + Buffer.from(bytes).toString('hex'));
        expect(77n ** BigInt(text.length - 1) <= value && value < 77n ** BigInt(text.length)).toBe(true);
        expect(decodeBase77(text)).toEqual(bytes);
        const b64 = encodeBase64NoPad(bytes);
        expect(b64).toBe(Buffer.from(bytes).toString('base64').replace(/=+$/, ''));
        expect(decodeBase64NoPad(b64)).toEqual(bytes);
        if (n <= 119) expect(smsToPart(partToSms(bytes, 'base64'))).toEqual(bytes);
        expect(smsToPart(partToSms(bytes))).toEqual(bytes);
      }
    }
  });

  it('a part with a small leading byte takes fewer characters than the worst case (no length is coded)', () => {
    // 0x40…: a single-part message (header 01…) of 69 bytes; 0xff…: the worst case of 69 bytes.
    const small = Uint8Array.of(0x40, ...new Uint8Array(68).fill(255));
    expect(encodeBase77(small).length).toBe(88);
    expect(encodeBase77(new Uint8Array(69).fill(255)).length).toBe(89);
    expect(base77CharsForBytes(69)).toBe(89);
    expect(decodeBase77(encodeBase77(small))).toEqual(small);
  });

  it('refuses to write an empty byte string or one with a leading zero byte (it would not come back)', () => {
    expect(errorCodeOf(() => encodeBase77(new Uint8Array(0)), EncodeError)).toBe('invalid_value');
    expect(errorCodeOf(() => encodeBase77(Uint8Array.of(0, 5)), EncodeError)).toBe('invalid_value');
  });

  it('refuses foreign characters, a leading "!", base64 with spare bits', () => {
    expect(errorCodeOf(() => decodeBase77('ab@c'), DecodeError)).toBe('malformed');
    expect(errorCodeOf(() => decodeBase77('!abc'), DecodeError)).toBe('malformed');
    expect(errorCodeOf(() => decodeBase77(''), DecodeError)).toBe('truncated');
    // Any other text is some byte string (the part and message layers judge it).
    expect(decodeBase77('zz')).toEqual(Uint8Array.of(0x17, 0x28)); // 76·77 + 76
    expect(errorCodeOf(() => decodeBase64NoPad('AB'), DecodeError)).toBe('malformed');
    expect(errorCodeOf(() => decodeBase64NoPad('ABCDE'), DecodeError)).toBe('malformed');
    expect(errorCodeOf(() => smsToPart('a'.repeat(161)), DecodeError)).toBe('too_large');
  });
});
