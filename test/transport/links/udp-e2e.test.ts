import { describe, expect, it } from 'vitest';
import { runUdpLoopbackCall } from '../../../src/transport/links/udp-loopback-call.ts';

// Two LinkSessions over real UDP sockets (dial → impairment proxy → listen), the ARQ on top.
// Fast ARQ timers and no rate limit keep it short; the 300 bit/s numbers are scripts/bench-udp-link.ts's.
const fastArq = { bitsPerSecond: 50_000, initialRtoMs: 250, minRtoMs: 150, maxRtoMs: 600 };

describe('UDP link end to end through the impairment proxy', () => {
  it('10 % bursty loss (mean burst 5) both ways, with duplication and reordering: every frame once, in order', async () => {
    const r = await runUdpLoopbackCall({
      phrases: 40,
      phraseIntervalMs: 20,
      seed: 1,
      link: { lossRate: 0.1, meanBurstPackets: 5, delayMs: 10, jitterMs: 5, duplicateRate: 0.05, reorderRate: 0.05, reorderDelayMs: 30, seed: 1 },
      sender: fastArq,
      timeoutMs: 30_000,
    });
    expect(r.phrasesDelivered).toBe(40);
    expect(r.duplicates).toBe(0);
    expect(r.inOrder).toBe(true);
    // The path really was impaired, and the ARQ really repaired it.
    expect(r.proxy.forward.packetsLost + r.proxy.reverse.packetsLost).toBeGreaterThan(0);
    expect(r.proxy.forward.packetsDuplicated + r.proxy.reverse.packetsDuplicated).toBeGreaterThan(0);
    expect(r.retransmissions).toBeGreaterThan(0);
    expect(r.receiverLink.dropped.foreign_source).toBe(0);
    expect(r.senderLink.wireBytesOut).toBe(r.senderLink.payloadBytesOut + 28 * (r.senderLink.datagramsOut + r.senderLink.controlPacketsOut));
  });

  it('works over IPv6 loopback', async () => {
    const r = await runUdpLoopbackCall({ phrases: 10, phraseIntervalMs: 10, host: '::1', link: { lossRate: 0.05, seed: 2 }, sender: fastArq, timeoutMs: 20_000 });
    expect(r.phrasesDelivered).toBe(10);
    expect(r.inOrder).toBe(true);
    expect(r.senderLink.wireBytesOut - r.senderLink.payloadBytesOut).toBe(48 * (r.senderLink.datagramsOut + r.senderLink.controlPacketsOut));
  });
});
