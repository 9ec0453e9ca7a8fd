import { describe, expect, it } from 'vitest';
import type { Frame } from '../../src/codec/frame/index.ts';
import { LinkPacer, ReliableSender } from '../../src/transport/reliability/index.ts';
import { InvalidStateError } from '../../src/core/errors.ts';

const text = (seq: number, sessionId: number): Frame => ({ version: 1, sessionId, seq, time: seq * 100, payload: { type: 'text', coding: 'utf8', coded: new Uint8Array(20).fill(65) } });

/** Runs the senders in one virtual clock for `ms`; the bits each put on the link. */
function run(senders: ReliableSender[], ms: number): number[] {
  const bits = senders.map(() => 0);
  let now = 0;
  while (now < ms) {
    const wakes = senders.map((s) => s.nextWakeMs(now)).filter((t): t is number => t !== undefined);
    if (wakes.length === 0) break;
    now = Math.max(now, Math.min(...wakes));
    if (now >= ms) break;
    senders.forEach((s, i) => {
      const p = s.nextPacket(now);
      if (p) bits[i] += p.length * 8;
    });
  }
  return bits;
}

describe('LinkPacer (one link budget for several senders)', () => {
  it('two senders sharing a pacer together keep to the link rate, and share it', () => {
    const pacer = new LinkPacer(300);
    const a = new ReliableSender(1, { pacer, initialRtoMs: 1e9, minRtoMs: 1e9 });
    const b = new ReliableSender(2, { pacer, initialRtoMs: 1e9, minRtoMs: 1e9 });
    for (let i = 1; i <= 100; i++) { a.submit(text(i, 1), 0); b.submit(text(i, 2), 0); }
    const [ba, bb] = run([a, b], 60_000);
    // 60 s at 300 bit/s, give or take the packet that was on the link at the end.
    expect(ba! + bb!).toBeLessThanOrEqual(300 * 60 + 96 * 8);
    expect(ba! + bb!).toBeGreaterThan(300 * 60 * 0.9);
    expect(Math.min(ba!, bb!) / Math.max(ba!, bb!)).toBeGreaterThan(0.5);
  });

  it('senders with pacers of their own each use the whole rate (the daemon used to do this per call)', () => {
    const a = new ReliableSender(1, { bitsPerSecond: 300, initialRtoMs: 1e9, minRtoMs: 1e9 });
    const b = new ReliableSender(2, { bitsPerSecond: 300, initialRtoMs: 1e9, minRtoMs: 1e9 });
    for (let i = 1; i <= 100; i++) { a.submit(text(i, 1), 0); b.submit(text(i, 2), 0); }
    const [ba, bb] = run([a, b], 60_000);
    expect(ba! + bb!).toBeGreaterThan(300 * 60 * 1.8);
  });

  it('when the link frees up, text goes before another sender\'s prosody even if that one waited longer', () => {
    const p = new LinkPacer(1000);
    const busy = {}, prosody = {}, text = {};
    expect(p.mayStart(busy, 0)).toBe(true);
    p.charge(1000, 0, busy);
    expect(p.mayStart(prosody, 100, 2)).toBe(false); // waits first, with a prosody packet
    expect(p.mayStart(text, 500, 0)).toBe(false); // waits later, with text
    expect(p.mayStart(prosody, 1000, 2)).toBe(false); // link free: the text goes first…
    expect(p.mayStart(text, 1000, 0)).toBe(true);
    p.charge(1000, 1000, text);
    expect(p.mayStart(prosody, 2000, 2)).toBe(true); // …then the prosody
  });

  it('a sender that waited and went away does not block the link', () => {
    const p = new LinkPacer(1000);
    const gone = {}, live = {};
    expect(p.mayStart(live, 0)).toBe(true);
    p.charge(1000, 0, live); // busy until 1000 ms
    expect(p.mayStart(gone, 10)).toBe(false); // queued first, then never asks again
    expect(p.mayStart(live, 500)).toBe(false);
    expect(p.mayStart(live, 1000)).toBe(false); // the longest waiter has its turn…
    expect(p.mayStart(live, 1200)).toBe(true); // …until it fails to show up after the link is free
    p.leave(live);
  });

  it('a sender refuses a frame of another session (a link packet names one session)', () => {
    const a = new ReliableSender(1, { bitsPerSecond: 300 });
    expect(() => a.submit(text(1, 2), 0)).toThrow(InvalidStateError);
  });

  it('charges queue behind a packet still on the link, and refuses a nonsense rate', () => {
    const p = new LinkPacer(1000);
    p.charge(1000, 0);
    expect(p.freeAtMs).toBe(1000);
    p.charge(500, 200); // an ack sent while the link is busy waits its turn
    expect(p.freeAtMs).toBe(1500);
    p.charge(100, 5000);
    expect(p.freeAtMs).toBe(5100);
    expect(() => new LinkPacer(0)).toThrow(RangeError);
  });
});
