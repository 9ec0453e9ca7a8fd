import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError, EncodeError } from '../../../src/core/errors.ts';
import {
  decodeFrameBody,
  decodeFrameStream,
  encodeFrameBody,
  encodeFrameStream,
  newFrameContext,
  type Frame,
  type SpeakerProfilePayload,
} from '../../../src/codec/frame/index.ts';
import { dequantizeEmbedding, quantizeEmbedding } from '../../../src/codec/speaker/embedding.ts';
import { sampleEmbeddingSession, sampleSession } from './sample-frames.ts';
import { seeded } from '../../fixtures/seeded.ts';

const header = sampleSession()[0]!;
const profile = Uint8Array.from({ length: 32 }, (_, i) => (i * 7 + 3) & 0xff);

function profileFrame(payload: Omit<SpeakerProfilePayload, 'type'>): Frame {
  return { version: 1, sessionId: header.sessionId, seq: 1, time: 5, payload: { type: 'speakerProfile', ...payload } };
}

/** Encodes header + frame into one context and decodes the second body back. */
function roundTrip(frame: Frame): { body: Uint8Array; decoded: Frame } {
  const ctx = newFrameContext();
  encodeFrameBody(header, ctx);
  const body = encodeFrameBody(frame, ctx);
  const rctx = newFrameContext();
  decodeFrameBody(encodeFrameBody(header, newFrameContext()), rctx);
  return { body, decoded: decodeFrameBody(body, rctx) };
}

/** A hand-made SpeakerProfile frame body: field 8 { 1: id, 2: profile, 3: embedding, 4: hash, 5: dim }. */
function rawProfileBody(embeddingBytes: number, dim: number | undefined): Uint8Array {
  const varint = (v: number) => (v < 128 ? [v] : [(v & 0x7f) | 0x80, v >> 7]);
  const inner = [0x08, 0x01, 0x12, 32, ...profile, 0x1a, ...varint(embeddingBytes), ...new Uint8Array(embeddingBytes).fill(1), 0x25, 1, 2, 3, 4];
  if (dim !== undefined) inner.push(0x28, ...varint(dim));
  return Uint8Array.from([0x18, 0x01, 0x42, ...varint(inner.length), ...inner]);
}

function decodeRaw(body: Uint8Array): Frame {
  const rctx = newFrameContext();
  decodeFrameBody(encodeFrameBody(header, newFrameContext()), rctx);
  return decodeFrameBody(body, rctx);
}

describe('SpeakerProfile with a neural embedding (issue #9)', () => {
  it('round-trips a real quantized 256-value embedding; the vector survives within the quantizer error', () => {
    const rnd = seeded(9);
    const v = Float32Array.from({ length: 256 }, rnd);
    const coded = quantizeEmbedding(v);
    const frame = profileFrame({ id: 1, profile, embedding: { coded, dim: 256, encoderHash: 0xdeadbeef } });
    const { body, decoded } = roundTrip(frame);
    expect(decoded).toEqual(frame);
    const back = dequantizeEmbedding((decoded.payload as SpeakerProfilePayload).embedding!.coded, 256);
    const n = Math.hypot(...v);
    const cos = v.reduce((s, x, i) => s + (x / n) * back[i]!, 0);
    expect(cos).toBeGreaterThan(0.9);
    // profile 32 + embedding 64 + framing: time delta 2, payload tag+len 2, id 2, profile tag+len 2,
    // embedding tag+len 2, hash 5, dim 3 → 114 bytes (+1 length prefix on the wire).
    expect(body.length).toBe(114);
    expect(body.length).toBeLessThanOrEqual(32 + 64 + 20);
  });

  it('leaves the bytes of a profile without embedding exactly as before (no new fields written)', () => {
    const frame = profileFrame({ id: 1, profile });
    const { body, decoded } = roundTrip(frame);
    expect(decoded).toEqual(frame);
    expect('embedding' in decoded.payload).toBe(false);
    // time delta (2) + field 8 tag/len (2) + id (2) + profile tag/len (2) + 32
    expect(body.length).toBe(40);
  });

  it('round-trips every dimension class (128 → 4 bits, 192 → 2 bits, 512 → 1 bit, 8 → 4 bytes)', () => {
    for (const dim of [8, 100, 128, 192, 256, 512]) {
      const coded = quantizeEmbedding(Float32Array.from({ length: dim }, seeded(dim)));
      const frame = profileFrame({ id: 3, profile, embedding: { coded, dim, encoderHash: 0 } });
      expect(roundTrip(frame).decoded).toEqual(frame);
      expect(coded.length).toBeLessThanOrEqual(64);
    }
  });

  it('decodes a session with embeddings among ordinary frames, in a stream', () => {
    const frames = sampleEmbeddingSession();
    const items = decodeFrameStream(encodeFrameStream(frames));
    expect(items.map((i) => (i.ok ? i.frame : i.error))).toEqual(frames);
  });

  it('refuses to encode an embedding that does not fit its dimension or the 64-byte cap', () => {
    const ctx = () => {
      const c = newFrameContext();
      encodeFrameBody(header, c);
      return c;
    };
    const cases: Array<[Uint8Array, number, number, string]> = [
      [new Uint8Array(65), 512, 1, 'too_large'],
      [new Uint8Array(63), 256, 1, 'invalid_value'],
      [new Uint8Array(64), 4, 1, 'invalid_value'],
      [new Uint8Array(64), 256, -1, 'invalid_value'],
    ];
    for (const [coded, dim, encoderHash, code] of cases) {
      const err = (() => {
        try {
          encodeFrameBody(profileFrame({ id: 1, profile, embedding: { coded, dim, encoderHash } }), ctx());
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(EncodeError);
      expect((err as EncodeError).code).toBe(code);
    }
  });

  it('decoding: an inconsistent size or dimension is a typed DecodeError; an empty embedding means none', () => {
    expect(() => decodeRaw(rawProfileBody(64, 256))).not.toThrow();
    const cases: Array<[number, number | undefined, string]> = [
      [65, 256, 'too_large'],
      [120, 512, 'too_large'],
      [63, 256, 'malformed'],
      [64, undefined, 'malformed'], // dimension missing
      [64, 600, 'malformed'],
      [16, 64, 'malformed'], // 64 values need 32 bytes
    ];
    for (const [bytes, dim, code] of cases) {
      try {
        decodeRaw(rawProfileBody(bytes, dim));
        expect.unreachable(`${bytes} bytes / dim ${dim} accepted`);
      } catch (err) {
        expect(err).toBeInstanceOf(DecodeError);
        expect((err as DecodeError).code).toBe(code);
      }
    }
    const none = decodeRaw(rawProfileBody(0, 256));
    expect(none.payload).toEqual({ type: 'speakerProfile', id: 1, profile });
  });

  it('stays total under 3,000 mutations of a session with embeddings', () => {
    const valid = encodeFrameStream(sampleEmbeddingSession());
    const mutation = fc.record({
      flips: fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 6 }),
      cut: fc.nat(valid.length),
    });
    fc.assert(
      fc.property(mutation, ({ flips, cut }) => {
        const b = new Uint8Array(valid);
        for (const [i, x] of flips) b[i] = (b[i] as number) ^ x;
        let covered = 0;
        for (const it of decodeFrameStream(b.subarray(0, cut))) {
          if (!it.ok) expect(it.error).toBeInstanceOf(DecodeError);
          else if (it.frame.payload.type === 'speakerProfile' && it.frame.payload.embedding) {
            expect(it.frame.payload.embedding.coded.length).toBeLessThanOrEqual(64);
          }
          covered += it.wireBytes;
        }
        expect(covered).toBe(cut);
      }),
      { numRuns: 3000, seed: 11 },
    );
  });
});
