import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/core/errors.ts';
import { KISS_MIN_FRAME_BYTES } from '../../../src/transport/links/cost.ts';
import { padKissPayload, unpadKissPayload } from '../../../src/transport/links/kiss-padding.ts';
import { errorCodeOf } from '../../fixtures/errors.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('raw KISS frame padding', () => {
  it('round-trips every payload and never makes a frame below the TNC minimum', () => {
    // Lengths around the boundaries, and last bytes around the marker values, are where it could break.
    const payload = fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      fc.tuple(fc.uint8Array({ minLength: 13, maxLength: 18 }), fc.integer({ min: 0xee, max: 0xff })).map(([p, last]) => Uint8Array.from([...p, last])),
    );
    fc.assert(
      fc.property(payload, (p) => {
        const frame = padKissPayload(p);
        expect(frame.length).toBeGreaterThanOrEqual(KISS_MIN_FRAME_BYTES);
        expect(frame.length).toBeLessThanOrEqual(Math.max(KISS_MIN_FRAME_BYTES, p.length + 1));
        expect(hex(unpadKissPayload(frame))).toBe(hex(p));
      }),
      { seed: 15, numRuns: 2000 },
    );
  });

  it('is injective: distinct payloads never share a frame', () => {
    const seen = new Map<string, string>();
    const lastBytes = [0x00, 0x7f, 0xef, 0xf0, 0xf5, 0xfe, 0xff];
    for (let n = 0; n <= 18; n++) {
      for (const last of lastBytes) {
        const p = new Uint8Array(n).fill(0);
        if (n > 0) p[n - 1] = last;
        const key = hex(padKissPayload(p));
        const prev = seen.get(key);
        if (prev !== undefined) expect(prev).toBe(hex(p));
        seen.set(key, hex(p));
      }
    }
    expect(seen.size).toBeGreaterThan(100);
  });

  it('costs nothing on long payloads that do not end in 0xFF and on 15-byte ones below 0xF0', () => {
    const long = new Uint8Array(60).fill(0x41);
    expect(padKissPayload(long)).toBe(long);
    const fifteen = new Uint8Array(15).fill(0xef);
    expect(padKissPayload(fifteen)).toBe(fifteen);
    expect(padKissPayload(new Uint8Array(15).fill(0xf0)).length).toBe(16);
    expect(padKissPayload(new Uint8Array(60).fill(0xff)).length).toBe(61);
    expect(hex(padKissPayload(Uint8Array.of(1, 2)))).toBe('0102' + '00'.repeat(12) + 'f2');
  });

  it('refuses frames no payload makes, with typed DecodeErrors', () => {
    expect(errorCodeOf(() => unpadKissPayload(new Uint8Array(14)), DecodeError)).toBe('truncated');
    const dirtyPad = padKissPayload(Uint8Array.of(1));
    dirtyPad[5] = 1;
    expect(errorCodeOf(() => unpadKissPayload(dirtyPad), DecodeError)).toBe('malformed');
    expect(errorCodeOf(() => unpadKissPayload(new Uint8Array(15).fill(0xff)), DecodeError)).toBe('malformed');
    const strayEscape = new Uint8Array(20).fill(0x41);
    strayEscape[19] = 0xff;
    expect(errorCodeOf(() => unpadKissPayload(strayEscape), DecodeError)).toBe('malformed');
    const strayAfter15 = new Uint8Array(16).fill(0x41);
    strayAfter15[15] = 0xff;
    expect(errorCodeOf(() => unpadKissPayload(strayAfter15), DecodeError)).toBe('malformed');
  });
});
