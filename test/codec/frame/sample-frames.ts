import type { Frame } from '../../../src/codec/frame/index.ts';

/** A representative session: header, profile, text, prosody, ref, ack, end. Shared by tests and vector generation. */
export function sampleSession(): Frame[] {
  const sessionId = 0x2a3b4c5d;
  const f = (seq: number, time: number, payload: Frame['payload']): Frame => ({ version: 1, sessionId, seq, time, payload });
  return [
    f(0, 0, { type: 'sessionHeader', codecVersion: 1, mode: 'balanced', textModelId: 'en-us-3g', textModelHash: 0x1234abcd, sampleRateHz: 16000, timeUnitMs: 20 }),
    f(1, 0, { type: 'speakerProfile', id: 1, profile: Uint8Array.from({ length: 24 }, (_, i) => (i * 37) & 0xff) }),
    f(2, 12, { type: 'text', coding: 'lm', coded: Uint8Array.from({ length: 20 }, (_, i) => (i * 11 + 3) & 0xff) }),
    f(3, 12, { type: 'prosody', coded: Uint8Array.from([0x81, 0x7f, 0x00, 0x10]) }),
    f(4, 230, { type: 'text', coding: 'utf8', coded: new TextEncoder().encode('HELLO THERE'), contextSegments: 1 }),
    f(5, 230, { type: 'speakerRef', id: 1, profileHash: 0xfeedbeef }),
    f(9, 231, { type: 'ack', cumulative: 7, sack: 0x8000_0000_0000_0001n, nack: [8] }),
    f(10, 400, { type: 'end', reason: 'normal' }),
  ];
}

/**
 * A session whose speaker profile carries a neural embedding (issue #9): 256 values quantized to
 * 64 bytes (a fixed byte pattern: the frame layer checks only its size against the dimension).
 */
export function sampleEmbeddingSession(): Frame[] {
  const sessionId = 0x0badcafe;
  const f = (seq: number, time: number, payload: Frame['payload']): Frame => ({ version: 1, sessionId, seq, time, payload });
  return [
    f(0, 0, { type: 'sessionHeader', codecVersion: 2, mode: 'balanced', textModelId: 'en-us-3g', textModelHash: 0x1234abcd, sampleRateHz: 16000, timeUnitMs: 40 }),
    f(1, 3, {
      type: 'speakerProfile',
      id: 1,
      profile: Uint8Array.from({ length: 32 }, (_, i) => (i * 53 + 7) & 0xff),
      embedding: { coded: Uint8Array.from({ length: 64 }, (_, i) => (i * 29 + 1) & 0xff), dim: 256, encoderHash: 0x9abcdef0 },
    }),
    f(2, 3, { type: 'text', coding: 'utf8', coded: new TextEncoder().encode('HELLO') }),
    f(3, 90, { type: 'speakerProfile', id: 2, profile: Uint8Array.from({ length: 32 }, (_, i) => (i * 17) & 0xff), embedding: { coded: new Uint8Array(64).fill(0x5a), dim: 192, encoderHash: 0x9abcdef0 } }),
    f(4, 91, { type: 'speakerRef', id: 1, profileHash: 0x01020304 }),
    f(5, 120, { type: 'end', reason: 'normal' }),
  ];
}
