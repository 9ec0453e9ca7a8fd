import { describe, expect, it } from 'vitest';
import { DecodeError, EncodeError } from '../../../src/core/errors.ts';
import { CODEC_MODES } from '../../../src/codec/frame/index.ts';
import { decodeMessageHeader, encodeMessageHeader, MESSAGE_FORMAT_VERSION, MESSAGE_HEADER_BYTES, type FirstItem } from '../../../src/codec/message/index.ts';
import { errorCodeOf } from '../../fixtures/errors.ts';

const FIRSTS: FirstItem[] = ['other', 'profile', 'profileRef'];

describe('voice message header, container version 2', () => {
  it('is 2 bytes `0 1 mm ff ccc hhhhhhh` and round-trips every field value', () => {
    expect(MESSAGE_FORMAT_VERSION).toBe(2);
    expect(MESSAGE_HEADER_BYTES).toBe(2);
    for (const mode of CODEC_MODES) {
      for (const first of FIRSTS) {
        for (const codecVersion of [0, 2, 7]) {
          for (const modelHash of [0, 0x55, 0x7f]) {
            const h = { formatVersion: 2, codecVersion, mode, first, modelHash };
            const b = encodeMessageHeader(h);
            expect(b.length).toBe(2);
            expect(b[0]! >> 6).toBe(0b01); // single part (0), version 2 (1): never a 0 byte
            expect(decodeMessageHeader(b)).toEqual(h);
          }
        }
      }
    }
    expect(Array.from(encodeMessageHeader({ formatVersion: 2, codecVersion: 2, mode: 'balanced', first: 'profileRef', modelHash: 0x2a }))).toEqual([0b0101_1001, 0b0010_1010]);
  });

  it('refuses fields it cannot write', () => {
    const ok = { formatVersion: 2, codecVersion: 2, mode: 'balanced' as const, first: 'other' as const, modelHash: 1 };
    expect(errorCodeOf(() => encodeMessageHeader({ ...ok, codecVersion: 8 }), EncodeError)).toBe('invalid_value');
    expect(errorCodeOf(() => encodeMessageHeader({ ...ok, modelHash: 0x80 }), EncodeError)).toBe('invalid_value');
    expect(errorCodeOf(() => encodeMessageHeader({ ...ok, formatVersion: 1 }), EncodeError)).toBe('invalid_value');
  });

  it('refuses version 1 and a later version (mode 3), reserved flags, part headers, short input', () => {
    expect(errorCodeOf(() => decodeMessageHeader(Uint8Array.of(0b0000_1001, 0xab)), DecodeError)).toBe('unsupported_version'); // version 1 header
    expect(errorCodeOf(() => decodeMessageHeader(Uint8Array.of(0b0111_0001, 0)), DecodeError)).toBe('unsupported_version'); // mode 3
    expect(errorCodeOf(() => decodeMessageHeader(Uint8Array.of(0b0101_1101, 0)), DecodeError)).toBe('unsupported_version'); // flags 3
    expect(errorCodeOf(() => decodeMessageHeader(Uint8Array.of(0x81, 0)), DecodeError)).toBe('malformed');
    expect(errorCodeOf(() => decodeMessageHeader(Uint8Array.of(0x41)), DecodeError)).toBe('truncated');
  });
});
