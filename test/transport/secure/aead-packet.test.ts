import { describe, expect, it } from 'vitest';
import { TransportError } from '../../../src/core/errors.ts';
import { AEAD_OVERHEAD_BYTES, AEAD_REPLAY_WINDOW, AeadPacketOpener, AeadPacketSealer, MAX_PACKET_NUMBER, type AeadOptions } from '../../../src/transport/secure/aead-packet.ts';

const SECRET = new Uint8Array(32).map((_, i) => i * 7 + 1);
const packet = (n: number, fill = 7) => new Uint8Array(n).map((_, i) => (i * 31 + fill) & 255);
function clock(start = 0) {
  const c = { t: start, now: () => c.t };
  return c;
}
function pair(o: Partial<AeadOptions> = {}) {
  return { sealer: new AeadPacketSealer(SECRET, o), opener: new AeadPacketOpener(SECRET, o) };
}
const opened = (r: ReturnType<AeadPacketOpener['open']>) => ('packet' in r ? Array.from(r.packet) : r.rejected);

describe('AES-128-CCM packet protection', () => {
  it('round-trips with exactly 10 bytes of overhead and hides the plaintext', () => {
    const { sealer, opener } = pair();
    expect(AEAD_OVERHEAD_BYTES).toBe(10);
    for (const n of [1, 20, 96, 4096]) {
      const p = packet(n);
      const s = sealer.seal(p);
      expect(s.length - n).toBe(10);
      expect(Buffer.from(s.subarray(2, 2 + n)).equals(Buffer.from(p))).toBe(false);
      expect(opened(opener.open(s))).toEqual(Array.from(p));
    }
    const a = sealer.seal(packet(20));
    const b = sealer.seal(packet(20));
    expect(Buffer.from(a.subarray(2, 22)).equals(Buffer.from(b.subarray(2, 22)))).toBe(false);
    expect(opener.stats.accepted).toBe(4);
  });

  it('rejects any single flipped bit in any byte, and a different key', () => {
    const { sealer, opener } = pair();
    const s = sealer.seal(packet(24));
    for (let i = 0; i < s.length; i++) {
      for (const flip of [0x01, 0x80]) {
        const t = s.slice();
        t[i]! ^= flip;
        expect(opened(opener.open(t))).not.toBeInstanceOf(Array);
      }
    }
    expect(opener.stats.accepted).toBe(0);
    expect(opened(new AeadPacketOpener(new Uint8Array(32).fill(9)).open(s))).toBe('tamper');
    expect(opened(opener.open(s))).toEqual(Array.from(packet(24)));
    expect(opened(opener.open(new Uint8Array(5)))).toBe('malformed');
  });

  it('refuses replays and too-old packets, accepts reordering inside the window', () => {
    const { sealer, opener } = pair();
    const all = Array.from({ length: AEAD_REPLAY_WINDOW + 20 }, (_, i) => sealer.seal(packet(8, i)));
    expect(opened(opener.open(all[5]!))).toEqual(Array.from(packet(8, 5)));
    expect(opened(opener.open(all[5]!))).toBe('replay');
    expect(opened(opener.open(all[2]!))).toEqual(Array.from(packet(8, 2))); // late, inside the window
    expect(opened(opener.open(all[AEAD_REPLAY_WINDOW + 10]!))).not.toBe('replay');
    expect(opened(opener.open(all[3]!))).toBe('replay'); // older than the window now
    expect(opener.stats.rejected.replay).toBe(2);
  });

  it('recovers after 40,000 consecutive lost packets (resynchronises, no reconnect needed)', () => {
    const { sealer, opener } = pair();
    for (let i = 0; i < 10; i++) expect(opened(opener.open(sealer.seal(packet(12, i))))).toBeInstanceOf(Array);
    for (let i = 0; i < 40_000; i++) sealer.seal(packet(12, i)); // all lost
    for (let i = 0; i < 5; i++) expect(opened(opener.open(sealer.seal(packet(12, 100 + i))))).toEqual(Array.from(packet(12, 100 + i)));
    expect(opener.stats.resyncs).toBe(1);
    expect(opener.stats.gaps).toBe(40_000);
    expect(opener.needsReconnect).toBe(false);
  });

  it('after a loss beyond the look-ahead, signals the caller to reconnect instead of rejecting silently forever', () => {
    const c = clock();
    const { sealer, opener } = pair({ now: c.now });
    opener.open(sealer.seal(packet(12)));
    sealer.advance(40 * 0x10000);
    for (let i = 0; i < 64; i++) {
      c.t += 1000;
      expect(opened(opener.open(sealer.seal(packet(12))))).toBe('tamper');
    }
    expect(opener.needsReconnect).toBe(true);
  });

  it('rate-limits resynchronisation: a forger cannot make the receiver search on every packet', () => {
    const c = clock();
    const { sealer, opener } = pair({ now: c.now, resyncIntervalMs: 1000 });
    opener.open(sealer.seal(packet(12)));
    sealer.advance(100_000);
    const genuine = sealer.seal(packet(12, 1));
    const forged = genuine.slice();
    forged[5]! ^= 1;
    expect(opened(opener.open(forged))).toBe('tamper'); // uses the one search of this second
    expect(opened(opener.open(genuine))).toBe('tamper'); // no search left
    c.t += 1000;
    expect(opened(opener.open(genuine))).toEqual(Array.from(packet(12, 1)));
  });

  it('rekeys every 2^16 packet numbers by a one-way ratchet: packets across the boundary open, reordered', () => {
    const o = { epochPackets: 0x10000 };
    const { sealer, opener } = pair(o);
    sealer.advance(0x10000 - 20);
    const s = Array.from({ length: 40 }, (_, i) => sealer.seal(packet(10, i)));
    for (let i = 0; i < 10; i++) expect(opened(opener.open(s[i]!))).toEqual(Array.from(packet(10, i)));
    expect(opened(opener.open(s[39]!))).toEqual(Array.from(packet(10, 39))); // epoch 1
    expect(opened(opener.open(s[15]!))).toEqual(Array.from(packet(10, 15))); // late, epoch 0 kept
    expect(opened(opener.open(s[25]!))).toEqual(Array.from(packet(10, 25)));
    // The same low 16 bits and plaintext under the next epoch's key give other bytes.
    const x = new AeadPacketSealer(SECRET, o);
    const first = x.seal(packet(10));
    x.advance(0x10000 - 1);
    expect(Buffer.from(x.seal(packet(10))).equals(Buffer.from(first))).toBe(false);
    expect(() => new AeadPacketSealer(SECRET, { epochPackets: 16 })).toThrow(RangeError);
  });

  it('asks for a new handshake on age or packet count, and refuses to wrap the 48-bit space', () => {
    const c = clock();
    const s = new AeadPacketSealer(SECRET, { now: c.now, maxAgeMs: 60_000, rehandshakeAtPacket: 100 });
    expect(s.rehandshakeDue).toBe(false);
    c.t = 60_000;
    expect(s.rehandshakeDue).toBe(true);
    const n = new AeadPacketSealer(SECRET, { rehandshakeAtPacket: 100 });
    n.advance(100);
    expect(n.rehandshakeDue).toBe(true);
    n.advance(MAX_PACKET_NUMBER - 100 + 1);
    expect(() => n.seal(packet(4))).toThrow(TransportError);
  });

  it('auth-only mode (amateur radio): payload in the clear, still 10 bytes, still tamper- and replay-proof', () => {
    const o = { encrypt: false };
    const { sealer, opener } = pair(o);
    const p = new TextEncoder().encode('DE N0CALL QTH FN42');
    const s = sealer.seal(p);
    expect(s.length - p.length).toBe(10);
    expect(Buffer.from(s.subarray(2, 2 + p.length)).equals(Buffer.from(p))).toBe(true); // readable on air
    for (let i = 0; i < s.length; i++) {
      const t = s.slice();
      t[i]! ^= 0x20;
      expect(opened(opener.open(t))).not.toBeInstanceOf(Array);
    }
    expect(opened(opener.open(s))).toEqual(Array.from(p));
    expect(opened(opener.open(s))).toBe('replay');
    expect(opened(new AeadPacketOpener(SECRET).open(new AeadPacketSealer(SECRET, o).seal(p)))).toBe('tamper'); // modes do not mix
  });
});
