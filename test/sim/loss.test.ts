import { describe, expect, it } from 'vitest';
import { simulateLink } from '../../src/transport/index.ts';
import { syntheticCall } from './fixtures.ts';

const call = syntheticCall(200, 7);

function expectAllText(r: ReturnType<typeof simulateLink>) {
  expect(r.textDeliveredRatio).toBe(1);
  expect(r.duplicates).toBe(0);
  expect(r.inOrder).toBe(true);
}

describe('live link through a 300 bit/s lossy pipe (seeded, virtual time)', () => {
  it('clean link: everything arrives, latency is only serialization', () => {
    const r = simulateLink(call, { bitsPerSecond: 300, delayMs: 600, seed: 1 });
    expectAllText(r);
    expect(r.prosodyDeliveredRatio).toBe(1);
    expect(r.retransmissions).toBe(0);
    expect(r.addedLatencyMsMedian).toBeLessThan(1500);
  });

  it('10% random loss: 100% of text, in order, no duplicates', () => {
    const r = simulateLink(call, { bitsPerSecond: 300, lossRate: 0.1, delayMs: 600, jitterMs: 100, seed: 2 });
    expectAllText(r);
    expect(r.retransmissions).toBeGreaterThan(0);
    expect(r.prosodyDeliveredRatio).toBeGreaterThan(0.75);
    expect(r.prosodyDeliveredRatio).toBeLessThan(1);
  });

  it('Gilbert–Elliott bursts (mean burst 5, 10% loss): 100% of text, in order', () => {
    const r = simulateLink(call, { bitsPerSecond: 300, lossRate: 0.1, meanBurstPackets: 5, delayMs: 600, jitterMs: 100, seed: 3 });
    expectAllText(r);
  });

  it('reordering by heavy jitter does not reorder delivery', () => {
    const r = simulateLink(call, { bitsPerSecond: 300, lossRate: 0.05, delayMs: 300, jitterMs: 900, seed: 4 });
    expectAllText(r);
  });

  it('a 2-minute outage: the call resumes by itself, what was said arrives late, not lost', () => {
    const r = simulateLink(call, { bitsPerSecond: 300, lossRate: 0.02, delayMs: 600, outages: [{ startMs: 200_000, durationMs: 120_000 }], seed: 5 });
    expectAllText(r);
    // The sender probes at least every maxRtoMs (8 s): recovery within about that (undefined = never recovered).
    expect(r.recoverySeconds).toBeGreaterThanOrEqual(0);
    expect(r.recoverySeconds!).toBeLessThan(12);
    expect(r.backlogClearedSeconds!).toBeLessThan(120);
  });

  it('is reproducible for a seed and differs across seeds', () => {
    const opts = { bitsPerSecond: 300, lossRate: 0.1, meanBurstPackets: 5, delayMs: 600, jitterMs: 100 };
    const a = simulateLink(call, { ...opts, seed: 9 });
    const b = simulateLink(call, { ...opts, seed: 9 });
    const c = simulateLink(call, { ...opts, seed: 10 });
    expect(b.wireBps).toBe(a.wireBps);
    expect(b.retransmissions).toBe(a.retransmissions);
    expect(c.wireBps).not.toBe(a.wireBps);
  });
});
