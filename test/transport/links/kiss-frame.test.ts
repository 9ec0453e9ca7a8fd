import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EncodeError, UsageError } from '../../../src/core/errors.ts';
import { KISS_MAX_FRAME_BYTES } from '../../../src/transport/links/cost.ts';
import { encodeKissFrame, encodeKissParameters, FEND, FESC, KissStreamDecoder, TFEND, TFESC } from '../../../src/transport/links/kiss-frame.ts';
import { errorCodeOf } from '../../fixtures/errors.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('KISS frame encoding', () => {
  it('escapes FEND and FESC and puts the port in the high nibble', () => {
    const f = encodeKissFrame({ port: 3, command: 0, data: Uint8Array.of(0x01, FEND, 0x02, FESC, 0x03) });
    expect(hex(f)).toBe('c030' + '01' + 'dbdc' + '02' + 'dbdd' + '03' + 'c0');
  });

  it('escapes a type byte that is FEND or FESC (port 12 data, port 13 command 11)', () => {
    expect(hex(encodeKissFrame({ port: 12, command: 0, data: Uint8Array.of(1) }))).toBe('c0dbdc01c0');
    expect(hex(encodeKissFrame({ port: 13, command: 11, data: Uint8Array.of() }))).toBe('c0dbddc0');
    const [f] = new KissStreamDecoder().push(encodeKissFrame({ port: 12, command: 0, data: Uint8Array.of(1) }));
    expect([f!.port, f!.command]).toEqual([12, 0]);
  });

  it('leaves TFEND and TFESC alone when they are not escaped', () => {
    expect(hex(encodeKissFrame({ port: 0, command: 0, data: Uint8Array.of(TFEND, TFESC) }))).toBe('c000dcddc0');
  });

  it('refuses ports and commands outside a nibble', () => {
    expect(errorCodeOf(() => encodeKissFrame({ port: 16, command: 0, data: new Uint8Array(1) }), EncodeError)).toBe('invalid_value');
    expect(errorCodeOf(() => encodeKissFrame({ port: 0, command: -1, data: new Uint8Array(1) }), EncodeError)).toBe('invalid_value');
  });

  it('encodes TNC parameters in 10 ms units, in a fixed order, on the given port', () => {
    const frames = encodeKissParameters({ fullDuplex: true, txTailMs: 50, slotTimeMs: 100, persistence: 255, txDelayMs: 300 }, 1);
    expect(frames.map(hex)).toEqual(['c0111ec0', 'c012ffc0', 'c0130ac0', 'c01405c0', 'c01501c0']);
    expect(encodeKissParameters({})).toEqual([]);
    expect(encodeKissParameters({ fullDuplex: false }).map(hex)).toEqual(['c00500c0']);
  });

  it('refuses parameters out of range with UsageError', () => {
    expect(errorCodeOf(() => encodeKissParameters({ txDelayMs: 2560 }), UsageError)).toBe('usage');
    expect(errorCodeOf(() => encodeKissParameters({ persistence: 256 }), UsageError)).toBe('usage');
    expect(errorCodeOf(() => encodeKissParameters({ persistence: 1.5 }), UsageError)).toBe('usage');
    expect(errorCodeOf(() => encodeKissParameters({ slotTimeMs: -10 }), UsageError)).toBe('usage');
    expect(errorCodeOf(() => encodeKissParameters({ txTailMs: Number.NaN }), UsageError)).toBe('usage');
  });
});

describe('KISS stream decoder', () => {
  it('round-trips any frame, whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ port: fc.integer({ min: 0, max: 15 }), command: fc.integer({ min: 0, max: 15 }), data: fc.uint8Array({ minLength: 0, maxLength: 300 }) }), { maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 10 }),
        (frames, cuts) => {
          const stream = Buffer.concat(frames.map((f) => encodeKissFrame(f)));
          const d = new KissStreamDecoder();
          const got = [];
          for (let at = 0, i = 0; at < stream.length; i++) {
            const n = cuts[i % cuts.length]!;
            got.push(...d.push(stream.subarray(at, at + n)));
            at += n;
          }
          // A frame whose type byte is its only content is still a frame; only FEND FEND is nothing.
          expect(got.map((f) => ({ port: f.port, command: f.command, data: hex(f.data) }))).toEqual(frames.map((f) => ({ ...f, data: hex(f.data) })));
          expect(d.stats.malformed + d.stats.tooLarge + d.stats.garbageBytes).toBe(0);
        },
      ),
      { seed: 14, numRuns: 200 },
    );
  });

  it('skips garbage before the first FEND and empty frames, and decodes what follows', () => {
    const d = new KissStreamDecoder();
    const frames = d.push(Buffer.concat([Buffer.from('cmd:KISS ON\r\n'), Buffer.from([FEND, FEND, FEND]), encodeKissFrame({ port: 0, command: 0, data: Uint8Array.of(7, 8) })]));
    expect(frames.map((f) => hex(f.data))).toEqual(['0708']);
    expect(d.stats.garbageBytes).toBe(13);
  });

  it('drops a frame with a bad escape (counted) and keeps the next one', () => {
    const d = new KissStreamDecoder();
    const bad = Uint8Array.of(FEND, 0x00, 0x01, FESC, 0x42, 0x02, FEND);
    const trailingEscape = Uint8Array.of(FEND, 0x00, 0x01, FESC, FEND);
    const good = encodeKissFrame({ port: 2, command: 0, data: Uint8Array.of(FEND) });
    const frames = d.push(Buffer.concat([bad, trailingEscape, good]));
    expect(frames).toHaveLength(1);
    expect(frames[0]!.port).toBe(2);
    expect(hex(frames[0]!.data)).toBe('c0');
    expect(d.stats.malformed).toBe(2);
  });

  it('drops frames above the limit up to the next FEND (bounded memory), at the exact limit', () => {
    const d = new KissStreamDecoder({ maxDataBytes: 100 });
    const fits = encodeKissFrame({ port: 0, command: 0, data: new Uint8Array(100).fill(FEND) });
    const over = encodeKissFrame({ port: 0, command: 0, data: new Uint8Array(101).fill(1) });
    const after = encodeKissFrame({ port: 0, command: 0, data: Uint8Array.of(9) });
    const frames = d.push(Buffer.concat([fits, over, after]));
    expect(frames.map((f) => f.data.length)).toEqual([100, 1]);
    expect(d.stats.tooLarge).toBe(1);
  });

  it('by default takes direwolf-sized frames (2123 bytes) and refuses longer ones', () => {
    const d = new KissStreamDecoder();
    const max = d.push(encodeKissFrame({ port: 0, command: 0, data: new Uint8Array(KISS_MAX_FRAME_BYTES) }));
    const over = d.push(encodeKissFrame({ port: 0, command: 0, data: new Uint8Array(KISS_MAX_FRAME_BYTES + 1) }));
    expect([max.length, over.length, d.stats.tooLarge]).toEqual([1, 0, 1]);
  });

  it('survives random bytes without throwing, and a reset forgets a partial frame', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => {
        const d = new KissStreamDecoder({ maxDataBytes: 64 });
        for (const f of d.push(bytes)) expect(f.data.length).toBeLessThanOrEqual(64);
      }),
      { seed: 7, numRuns: 200 },
    );
    const d = new KissStreamDecoder();
    d.push(Uint8Array.of(FEND, 0x00, 0x01, 0x02));
    d.reset();
    expect(d.push(Uint8Array.of(0x03, FEND))).toEqual([]);
    expect(d.stats.garbageBytes).toBe(1);
  });
});
