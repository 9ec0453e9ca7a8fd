import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError, UsageError } from '../../../src/core/errors.ts';
import { decodeAx25Ui, encodeAx25Ui, formatCallsign, parseCallsign } from '../../../src/transport/links/ax25.ts';
import { AX25_UI_HEADER_BYTES } from '../../../src/transport/links/cost.ts';
import { errorCodeOf } from '../../fixtures/errors.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('AX.25 callsigns', () => {
  it('parses calls with and without SSID, case-insensitively', () => {
    expect(parseCallsign('N0CALL-1')).toEqual({ call: 'N0CALL', ssid: 1 });
    expect(parseCallsign('n0call')).toEqual({ call: 'N0CALL', ssid: 0 });
    expect(parseCallsign('W1AW-15')).toEqual({ call: 'W1AW', ssid: 15 });
    expect(formatCallsign(parseCallsign('W1AW-0'))).toBe('W1AW');
    expect(formatCallsign(parseCallsign('w1aw-9'))).toBe('W1AW-9');
  });

  it('refuses bad callsigns with UsageError', () => {
    for (const bad of ['', 'TOOLONG7', 'N0CALL-16', 'N0CALL-01', 'N0 CALL', 'N0CALL-', 'N0CÄLL', 'N0CALL-1-2', '-1']) {
      expect(errorCodeOf(() => parseCallsign(bad), UsageError), bad).toBe('usage');
    }
  });
});

describe('AX.25 UI frames', () => {
  it('encodes addresses shifted, space-padded, with command bits and the extension bit on the source', () => {
    const f = encodeAx25Ui(parseCallsign('APZ-3'), parseCallsign('N0CALL-1'), Uint8Array.of(0xaa));
    // 'A'<<1=82 'P'<<1=a0 'Z'<<1=b4, spaces 40; SSID byte 1 11 0011 0 = e6; source 0 11 0001 1 = 63.
    expect(hex(f)).toBe('82a0b4404040e6' + '9c6086829898' + '63' + '03f0' + 'aa');
    expect(f.length).toBe(AX25_UI_HEADER_BYTES + 1);
  });

  it('round-trips any payload and pair of stations', () => {
    const call = fc.tuple(fc.stringMatching(/^[A-Z0-9]{1,6}$/), fc.integer({ min: 0, max: 15 })).map(([c, s]) => ({ call: c, ssid: s }));
    fc.assert(
      fc.property(call, call, fc.uint8Array({ maxLength: 400 }), (dst, src, info) => {
        const ui = decodeAx25Ui(encodeAx25Ui(dst, src, info));
        expect(ui.destination).toEqual(dst);
        expect(ui.source).toEqual(src);
        expect(ui.via).toEqual([]);
        expect(hex(ui.info)).toBe(hex(info));
      }),
      { seed: 25, numRuns: 200 },
    );
  });

  it('parses frames relayed through digipeaters', () => {
    const plain = encodeAx25Ui(parseCallsign('N0CALL-2'), parseCallsign('N0CALL-1'), Uint8Array.of(1, 2));
    const relayed = new Uint8Array(plain.length + 7);
    relayed.set(plain.subarray(0, 14));
    relayed[13] = relayed[13]! & 0xfe; // the source is no longer the last address
    relayed.set([0x88 /* D */, 0x88, 0x40, 0x40, 0x40, 0x40, 0x61], 14);
    relayed.set(plain.subarray(14), 21);
    const ui = decodeAx25Ui(relayed);
    expect(ui.via).toEqual([{ call: 'DD', ssid: 0 }]);
    expect(hex(ui.info)).toBe('0102');
  });

  it('refuses damaged and foreign frames with typed DecodeErrors', () => {
    const good = encodeAx25Ui(parseCallsign('N0CALL-2'), parseCallsign('N0CALL-1'), Uint8Array.of(1));
    expect(errorCodeOf(() => decodeAx25Ui(good.subarray(0, 10)), DecodeError)).toBe('truncated');
    expect(errorCodeOf(() => decodeAx25Ui(good.subarray(0, 15)), DecodeError)).toBe('truncated');
    const lowBit = good.slice();
    lowBit[0] = lowBit[0]! | 1; // an address byte with its extension bit where a character should be
    expect(errorCodeOf(() => decodeAx25Ui(lowBit), DecodeError)).toBe('malformed');
    const lower = good.slice();
    lower[1] = 'a'.charCodeAt(0) << 1;
    expect(errorCodeOf(() => decodeAx25Ui(lower), DecodeError)).toBe('malformed');
    const iFrame = good.slice();
    iFrame[14] = 0x00;
    expect(errorCodeOf(() => decodeAx25Ui(iFrame), DecodeError)).toBe('unsupported_version');
    const otherPid = good.slice();
    otherPid[15] = 0xcf;
    expect(errorCodeOf(() => decodeAx25Ui(otherPid), DecodeError)).toBe('unsupported_version');
    const endless = new Uint8Array(7 * 12).fill(0x82);
    expect(errorCodeOf(() => decodeAx25Ui(endless), DecodeError)).toBe('malformed');
    const oneAddress = good.slice();
    oneAddress[6] = oneAddress[6]! | 1;
    expect(errorCodeOf(() => decodeAx25Ui(oneAddress), DecodeError)).toBe('malformed');
  });

  it('never throws anything but DecodeError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        try {
          decodeAx25Ui(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(DecodeError);
        }
      }),
      { seed: 3, numRuns: 300 },
    );
  });
});
