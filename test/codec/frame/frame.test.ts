import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DecodeError, EncodeError } from '../../../src/core/errors.ts';
import {
  decodeFrameBody,
  decodeFrameStream,
  encodeFrameBody,
  encodeFrameStream,
  FrameStreamReader,
  framesToJson,
  MAX_FRAME_BYTES,
  newFrameContext,
  type Frame,
} from '../../../src/codec/frame/index.ts';
import { sampleSession } from './sample-frames.ts';

const VECTORS = join(__dirname, '..', '..', 'vectors');

function okFrames(bytes: Uint8Array): Frame[] {
  return decodeFrameStream(bytes).map((it) => {
    if (!it.ok) throw it.error;
    return it.frame;
  });
}

describe('frame stream', () => {
  it('round-trips a session with every payload type', () => {
    const frames = sampleSession();
    expect(okFrames(encodeFrameStream(frames))).toEqual(frames);
  });

  it.each(['session-basic', 'header-only', 'speaker-embedding'])('matches golden vector %s', (name) => {
    const stc = join(VECTORS, `${name}.stc`);
    const json = join(VECTORS, `${name}.json`);
    // A missing vector is a failure, not a skip: regenerate with scripts/gen-vectors.ts.
    expect(existsSync(stc), `${stc} missing`).toBe(true);
    const decoded = okFrames(new Uint8Array(readFileSync(stc)));
    expect(framesToJson(decoded)).toBe(readFileSync(json, 'utf8'));
    expect(Buffer.from(encodeFrameStream(decoded)).equals(readFileSync(stc))).toBe(true);
  });

  it('keeps per-frame overhead small: a 20-byte text payload costs 5 bytes of framing', () => {
    const frames = sampleSession();
    const writer = encodeFrameStream(frames.slice(0, 3));
    const items = decodeFrameStream(writer);
    const text = items[2]!;
    expect(text.ok).toBe(true);
    // varint length (1) + time tag+value (2) + payload tag+len (2) around 20 payload bytes.
    expect(text.wireBytes - 20).toBe(5);
  });

  it('sends an LM text frame whose envelope is all implied as a bare item: 1 byte of framing', () => {
    const [h, p] = sampleSession();
    const text = (coded: Uint8Array, seq: number, time: number) => ({ version: 1, sessionId: h!.sessionId, seq, time, payload: { type: 'text' as const, coding: 'lm' as const, coded } });
    const coded = Uint8Array.from({ length: 20 }, (_, i) => i * 7);
    const frames = [h!, { ...p!, seq: 1 }, text(coded, 2, p!.time), text(coded.subarray(0, 9), 3, p!.time), text(coded, 4, p!.time + 5)];
    const bytes = encodeFrameStream(frames);
    const items = decodeFrameStream(bytes);
    expect(items.map((i) => i.ok && i.frame)).toEqual(frames.map((f) => ({ ...f, payload: f.payload })));
    expect(items[2]!.wireBytes).toBe(21); // bare: header (2·20 + 1) + the coded bytes
    expect(items[3]!.wireBytes).toBe(10);
    expect(items[4]!.wireBytes).toBeGreaterThan(21); // time moved: a normal protobuf frame
    // A bare item before any frame that names the session cannot be placed: malformed.
    const orphan = decodeFrameStream(Uint8Array.from([2 * 3 + 1, 1, 2, 3]));
    expect(!orphan[0]!.ok && orphan[0]!.error.code).toBe('malformed');
  });

  it('omits implied envelope fields and restores them', () => {
    const ctx = newFrameContext();
    const [h, p] = sampleSession();
    const hb = encodeFrameBody(h!, ctx);
    const pb = encodeFrameBody(p!, ctx);
    const rctx = newFrameContext();
    expect(decodeFrameBody(hb, rctx)).toEqual(h);
    expect(decodeFrameBody(pb, rctx)).toEqual(p);
    // Without the header's context the second frame has no session: refused, not guessed.
    expect(() => decodeFrameBody(pb, newFrameContext())).toThrowError(DecodeError);
  });

  it('refuses an unknown format version with unsupported_version', () => {
    const [h] = sampleSession();
    const bytes = encodeFrameBody({ ...h!, version: 2 }, newFrameContext());
    try {
      decodeFrameBody(bytes, newFrameContext());
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(DecodeError);
      expect((err as DecodeError).code).toBe('unsupported_version');
    }
  });

  it('reports a payload type from a newer encoder as unknown and keeps going', () => {
    // Field 15 (not yet assigned), length-delimited, 2 bytes; then a normal frame.
    const [h, p] = sampleSession();
    const ctx = newFrameContext();
    const hb = encodeFrameBody(h!, ctx);
    const future = Uint8Array.from([0x18, 0x02, 0x7a, 0x02, 0x01, 0x02]); // seq=2, field 15 bytes(2)
    const pb = encodeFrameBody({ ...p!, seq: 3 }, ctx);
    // Item headers: 2 × body length (even = a protobuf Frame body).
    const stream = Uint8Array.from([hb.length * 2, ...hb, future.length * 2, ...future, pb.length * 2, ...pb]);
    const items = decodeFrameStream(stream);
    expect(items.map((i) => i.ok && i.frame.payload.type)).toEqual(['sessionHeader', 'unknown', 'speakerProfile']);
  });

  it('rejects oversized length prefixes without allocating', () => {
    const bytes = Uint8Array.from([0xff, 0xff, 0xff, 0x7f, 0x00]);
    const items = decodeFrameStream(bytes);
    expect(items).toHaveLength(1);
    expect(items[0]!.ok).toBe(false);
    expect(!items[0]!.ok && items[0]!.error.code).toBe('too_large');
  });

  it('refuses to encode a frame over the size cap', () => {
    const [h, p] = sampleSession();
    const big = { ...p!, payload: { type: 'text' as const, coding: 'utf8' as const, coded: new Uint8Array(MAX_FRAME_BYTES + 1) } };
    const ctx = newFrameContext();
    encodeFrameBody(h!, ctx);
    expect(() => encodeFrameBody(big, ctx)).toThrowError(EncodeError);
  });

  it('reports a stream cut inside a frame as truncated', () => {
    const bytes = encodeFrameStream(sampleSession());
    const items = decodeFrameStream(bytes.subarray(0, bytes.length - 3));
    const last = items[items.length - 1]!;
    expect(last.ok).toBe(false);
    expect(!last.ok && last.error.code).toBe('truncated');
  });

  it('decodes the same frames whatever the chunking', () => {
    const bytes = encodeFrameStream(sampleSession());
    const reader = new FrameStreamReader();
    const items = [];
    for (let i = 0; i < bytes.length; i += 3) items.push(...reader.push(bytes.subarray(i, i + 3)));
    items.push(...reader.end());
    expect(items.map((i) => (i.ok ? i.frame : i.error))).toEqual(sampleSession());
  });
});
