import { describe, expect, it } from 'vitest';
import { startImpairProxy } from '../../../src/transport/impair-proxy.ts';
import { LinkSession } from '../../../src/transport/link-session.ts';
import { runUdpLoopbackCall } from '../../../src/transport/links/udp-loopback-call.ts';
import { dialUdpSession, serveUdpSessions } from '../../../src/transport/links/udp-session.ts';
import { until } from '../../fixtures/wait.ts';

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

describe('dialUdpSession / serveUdpSessions', () => {
  it('route packets to sessions by id, through the proxy, and count link headers in the session bits', async () => {
    const received: number[] = [];
    let created = 0;
    const server = await serveUdpSessions('udp://127.0.0.1:0', {
      sessionFor: (id) => {
        created++;
        const s = new LinkSession(id, { sender: fastArq });
        void (async () => {
          for await (const f of s.frames()) received.push(f.seq);
        })();
        return s;
      },
    });
    const proxy = await startImpairProxy({ target: { host: '127.0.0.1', port: server.link.localAddress.port }, link: { lossRate: 0.1, meanBurstPackets: 3, seed: 4 } });
    const client = new LinkSession(777, { sender: fastArq });
    const dial = await dialUdpSession(`udp://127.0.0.1:${proxy.port}`, client);
    try {
      for (let i = 0; i < 20; i++) client.send({ version: 1, sessionId: 777, seq: i, time: i, payload: { type: 'text', coding: 'utf8', coded: new TextEncoder().encode(`PHRASE ${i}`) } });
      await until(() => received.length >= 20, 20_000);
      expect(received).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(created).toBe(1);
      expect([...server.sessions.keys()]).toEqual([777]);
      expect(client.bitsOut).toBe(dial.link.stats.wireBytesOut * 8);
    } finally {
      client.close();
      for (const s of server.sessions.values()) s.close();
      await Promise.all([dial.close(), server.close(), proxy.close()]);
    }
  });
});
