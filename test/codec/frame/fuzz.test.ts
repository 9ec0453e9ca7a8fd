import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/core/errors.ts';
import { decodeFrameStream, encodeFrameStream, FrameStreamReader, MAX_FRAME_BYTES } from '../../../src/codec/frame/index.ts';
import { sampleSession } from './sample-frames.ts';

/** Decoding must be total: every item is a frame or a DecodeError, and nothing else escapes. */
function checkTotal(bytes: Uint8Array): void {
  const items = decodeFrameStream(bytes);
  let covered = 0;
  for (const it of items) {
    if (!it.ok) {
      expect(it.error).toBeInstanceOf(DecodeError);
      expect(['truncated', 'malformed', 'unsupported_version', 'too_large', 'invalid_value']).toContain(it.error.code);
    }
    expect(it.wireBytes).toBeLessThanOrEqual(MAX_FRAME_BYTES + 4 + bytes.length);
    covered += it.wireBytes;
  }
  expect(covered).toBe(bytes.length);
}

describe('frame decoder fuzz (≥ 10,000 inputs)', () => {
  it('survives 6,000 random byte strings', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => checkTotal(b)), { numRuns: 6000, seed: 42 });
  });

  it('survives 6,000 mutations of a valid session', () => {
    const valid = encodeFrameStream(sampleSession());
    const mutation = fc.record({
      flips: fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 6 }),
      cut: fc.nat(valid.length),
      insertAt: fc.nat(valid.length),
      insert: fc.uint8Array({ maxLength: 8 }),
    });
    fc.assert(
      fc.property(mutation, ({ flips, cut, insertAt, insert }) => {
        const b = new Uint8Array(valid);
        for (const [i, x] of flips) b[i] = (b[i] as number) ^ x;
        const cutB = b.subarray(0, cut);
        const at = Math.min(insertAt, cutB.length);
        const mutated = Uint8Array.from([...cutB.subarray(0, at), ...insert, ...cutB.subarray(at)]);
        checkTotal(mutated);
        // Chunked feeding gives the same verdicts as one buffer.
        const r = new FrameStreamReader();
        const chunked = [...r.push(mutated.subarray(0, 7)), ...r.push(mutated.subarray(7)), ...r.end()];
        expect(chunked.map((i) => i.ok)).toEqual(decodeFrameStream(mutated).map((i) => i.ok));
      }),
      { numRuns: 6000, seed: 7 },
    );
  });
});
