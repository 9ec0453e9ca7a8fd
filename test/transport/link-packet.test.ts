import { describe, expect, it } from 'vitest';
import type { Frame } from '../../src/codec/frame/index.ts';
import { PacketBuilder } from '../../src/transport/packet.ts';
import { ackPacket, CompactPacketBuilder, decodeForSession, impliedNacks, packetRoute, readCompactHeader, resolveRoute, sessionTagOf } from '../../src/transport/link-packet.ts';
import { DecodeError } from '../../src/core/errors.ts';
import { mulberry32 } from '../../src/transport/prng.ts';

const SESSION = 0x5a5a5a5a;
const lm = (seq: number, time = 40, n = 9): Frame => ({ version: 1, sessionId: SESSION, seq, time, payload: { type: 'text', coding: 'lm', coded: new Uint8Array(n).fill(seq) } });

describe('compact link packets (src/transport/link-packet.ts)', () => {
  it('an ack-only packet is 2 bytes, and 3 + the text for a phrase once the peer knows the session and the time', () => {
    const ack = ackPacket(SESSION, { type: 'ack', cumulative: 17, sack: 0n, nack: [] }, false);
    expect(ack.length).toBe(2);
    const b = new CompactPacketBuilder(SESSION, 96, { explicitSession: false });
    b.tryAdd(lm(17), 40); // time implied: the peer has frame 16 with time 40
    const p = b.finish();
    expect(p.length).toBe(3 + 9); // header byte, seq, bare item header
    // A full packet of the same frame spends ~12 more bytes on the first frame's envelope.
    const full = new PacketBuilder(96);
    full.tryAdd(lm(17));
    expect(full.finish().length).toBeGreaterThan(p.length + 8);
  });

  it('round-trips frames, session, acknowledgement and time; implied time comes from the receiver', () => {
    const b = new CompactPacketBuilder(SESSION, 96, { explicitSession: true, ack: { type: 'ack', cumulative: 5, sack: 0b101n, nack: [] } });
    b.tryAdd(lm(20, 77), undefined);
    b.tryAdd(lm(21, 77));
    const bytes = b.finish();
    const h = readCompactHeader(bytes);
    expect(h.sessionId).toBe(SESSION);
    expect(h.ack).toEqual({ type: 'ack', cumulative: 5, sack: 0b101n, nack: [5, 7] });
    const r = decodeForSession(bytes, SESSION, () => undefined);
    expect(r.reject).toBeUndefined();
    expect(r.frames.map((f) => [f.seq, f.time])).toEqual([[20, 77], [21, 77]]);

    const implied = new CompactPacketBuilder(SESSION, 96, { explicitSession: false });
    implied.tryAdd(lm(22, 77), 77);
    const ok = decodeForSession(implied.finish(), SESSION, (seq) => (seq === 21 ? 77 : undefined));
    expect(ok.frames.map((f) => [f.seq, f.time])).toEqual([[22, 77]]);
    // A receiver that lacks frame 21's time must not guess: the packet is unresolved (the sender resends in full).
    expect(decodeForSession(implied.finish(), SESSION, () => undefined).reject).toBe('unresolved');
  });

  it('implied NACKs are the gaps below the highest SACKed seq', () => {
    expect(impliedNacks(10, 0n)).toEqual([]);
    expect(impliedNacks(10, 0b1n)).toEqual([10]);
    expect(impliedNacks(10, 0b1010n)).toEqual([10, 11, 13]);
  });

  it('routes by session id when named, else by the tag when exactly one known session has it', () => {
    const sessions = new Map<number, string>([[SESSION, 'a'], [SESSION + 16, 'b'], [SESSION + 1, 'c']]);
    const byTag = ackPacket(SESSION + 1, { type: 'ack', cumulative: 1, sack: 0n, nack: [] }, false);
    expect(packetRoute(byTag)).toEqual({ tag: sessionTagOf(SESSION + 1) });
    expect(resolveRoute(packetRoute(byTag), sessions)?.session).toBe('c');
    // SESSION and SESSION + 16 share a tag: a tag-only packet for them is ambiguous, never misrouted.
    const ambiguous = ackPacket(SESSION, { type: 'ack', cumulative: 1, sack: 0n, nack: [] }, false);
    expect(resolveRoute(packetRoute(ambiguous), sessions)).toBeUndefined();
    const named = ackPacket(SESSION, { type: 'ack', cumulative: 1, sack: 0n, nack: [] }, true);
    expect(resolveRoute(packetRoute(named), sessions)?.session).toBe('a');
    // The 1-byte no-op (a keepalive) is for no session.
    expect(packetRoute(new Uint8Array([1]))).toBeUndefined();
  });

  it('refuses malformed headers with typed errors, and 20,000 random packets never throw from decodeForSession', () => {
    expect(() => readCompactHeader(new Uint8Array([0x01 | 0x02]))).toThrow(DecodeError); // ack flag, no ack
    expect(() => readCompactHeader(new Uint8Array([0x01 | 0x10]))).toThrow(DecodeError); // SACK without ack
    const wrongTag = new Uint8Array([0x01 | 0x08 | (3 << 5), 0x01]); // session id 1 has tag 1, not 3
    expect(() => readCompactHeader(wrongTag)).toThrow(DecodeError);
    const rnd = mulberry32(7);
    let rejected = 0;
    for (let i = 0; i < 20_000; i++) {
      const b = new Uint8Array(1 + Math.floor(rnd() * 40)).map(() => Math.floor(rnd() * 256));
      const r = decodeForSession(b, SESSION, () => 0);
      if (r.reject) rejected++;
      // Frames of another session never come out (a random full packet names a random session).
      expect(r.frames.every((f) => f.sessionId === SESSION)).toBe(true);
    }
    expect(rejected).toBeGreaterThan(15_000);
  });
});
