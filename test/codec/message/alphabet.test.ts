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
    expect(errorCodeOf(() => partToSms(new Uint8Array(126)), EncodeError)).toBe('too_large');
  });

  it('round-trips every length 0..125 (leading zero bytes kept), never starting with "!"', () => {
    for (let n = 0; n <= 125; n++) {
      for (const bytes of [randomBytes(n), new Uint8Array(n), new Uint8Array(n).fill(255)]) {
        const text = encodeBase77(bytes);
        expect(text[0]).not.toBe('!');
        expect(text.length).toBe(base77CharsForBytes(n));
        expect(base77BytesForChars(text.length)).toBe(n);
        expect(decodeBase77(text)).toEqual(bytes);
        const b64 = encodeBase64NoPad(bytes);
        expect(b64).toBe(Buffer.from(bytes).toString('base64').replace(/=+$/, ''));
        expect(decodeBase64NoPad(b64)).toEqual(bytes);
        if (n <= 119) expect(smsToPart(partToSms(bytes, 'base64'))).toEqual(bytes);
        if (n <= 125) expect(smsToPart(partToSms(bytes))).toEqual(bytes);
      }
    }
  });

  it('refuses foreign characters, a base-77 value too large, base64 with spare bits', () => {
    expect(errorCodeOf(() => decodeBase77('ab@c'), DecodeError)).toBe('malformed');
    expect(errorCodeOf(() => decodeBase77('!abc'), DecodeError)).toBe('malformed');
    expect(errorCodeOf(() => decodeBase77(''), DecodeError)).toBe('truncated');
    // 2 characters carry 1 byte (76·77 ≥ 256) but "zz" is 76·77 + 76 − 77 > 255.
    expect(errorCodeOf(() => decodeBase77('zz'), DecodeError)).toBe('malformed');
    expect(errorCodeOf(() => decodeBase64NoPad('AB'), DecodeError)).toBe('malformed');
    expect(errorCodeOf(() => decodeBase64NoPad('ABCDE'), DecodeError)).toBe('malformed');
    expect(errorCodeOf(() => smsToPart('a'.repeat(161)), DecodeError)).toBe('too_large');
  });
});
