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
