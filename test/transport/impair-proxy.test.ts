import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { LinkOptions } from '../../src/transport/emulator.ts';
import { ImpairmentChannel } from '../../src/transport/impair-channel.ts';
import { startImpairProxy, type ImpairProxy } from '../../src/transport/impair-proxy.ts';
import { until } from '../fixtures/wait.ts';

const fates = (seed: number, n: number, o = {}) => {
  const c = new ImpairmentChannel({ lossRate: 0.1, meanBurstPackets: 5, jitterMs: 30, reorderRate: 0.05, duplicateRate: 0.05, seed, ...o });
  return Array.from({ length: n }, () => c.nextFate());
};

/** Lengths of the runs of consecutive lost packets. */
function runs(lost: boolean[]): number[] {
  const out: number[] = [];
  let n = 0;
  for (const l of [...lost, false]) {
    if (l) n++;
    else if (n > 0) {
      out.push(n);
      n = 0;
    }
  }
  return out;
}

describe('ImpairmentChannel (seeded fates)', () => {
  it('the same seed gives the same fates; another seed other fates', () => {
    expect(fates(7, 2000)).toEqual(fates(7, 2000));
    expect(fates(8, 2000)).not.toEqual(fates(7, 2000));
  });

  it('fates do not depend on timing: a rate-limited channel with tail drops draws the same ones', () => {
    const free = new ImpairmentChannel({ lossRate: 0.2, meanBurstPackets: 3, duplicateRate: 0.1, seed: 3 });
    const tight = new ImpairmentChannel({ lossRate: 0.2, meanBurstPackets: 3, duplicateRate: 0.1, seed: 3, bitsPerSecond: 1000, queueLimitMs: 500 });
    const a = Array.from({ length: 300 }, (_, i) => free.offer(40, i).fate);
    const b = Array.from({ length: 300 }, (_, i) => tight.offer(40, i).fate);
    expect(tight.stats.packetsTailDropped).toBeGreaterThan(0);
    expect(b).toEqual(a);
  });

  it('Bernoulli loss: the measured share is close to the setting, bursts are short', () => {
    const lost = fates(1, 50_000, { meanBurstPackets: 1 }).map((f) => f.lost);
    const share = lost.filter(Boolean).length / lost.length;
    expect(share).toBeGreaterThan(0.095);
    expect(share).toBeLessThan(0.105);
    const r = runs(lost);
    expect(r.reduce((a, b) => a + b, 0) / r.length).toBeLessThan(1.2); // 1 / (1 − p) ≈ 1.11
  });

  it('Gilbert–Elliott loss: share and mean burst length as configured (10 %, 5 packets)', () => {
    const c = new ImpairmentChannel({ lossRate: 0.1, meanBurstPackets: 5, seed: 1 });
    const lost = Array.from({ length: 50_000 }, (_, i) => !c.offer(20, i).delivered);
    const share = lost.filter(Boolean).length / lost.length;
    expect(share).toBeGreaterThan(0.09);
    expect(share).toBeLessThan(0.11);
    const r = runs(lost);
    const meanBurst = r.reduce((a, b) => a + b, 0) / r.length;
    expect(meanBurst).toBeGreaterThan(4.5);
    expect(meanBurst).toBeLessThan(5.5);
    expect(c.stats.packetsLost / c.stats.lossBursts).toBeCloseTo(meanBurst, 6);
  });

  it('duplicates and held-back packets happen at their rates, and a held-back packet is overtaken', () => {
    const c = new ImpairmentChannel({ reorderRate: 0.1, reorderDelayMs: 50, duplicateRate: 0.05, duplicateGapMs: 5, seed: 4 });
    const arrivals: Array<{ i: number; at: number }> = [];
    for (let i = 0; i < 10_000; i++) {
      const v = c.offer(30, i * 10);
      if (v.delivered) for (const at of v.arriveAtMs) arrivals.push({ i, at });
    }
    expect(c.stats.packetsReordered / 10_000).toBeCloseTo(0.1, 1.5);
    expect(c.stats.packetsDuplicated / 10_000).toBeCloseTo(0.05, 1.5);
    expect(arrivals).toHaveLength(10_000 + c.stats.packetsDuplicated);
    const order = arrivals.sort((a, b) => a.at - b.at || a.i - b.i).map((a) => a.i);
    const overtaken = order.filter((x, k) => k > 0 && x < (order[k - 1] as number)).length;
    expect(overtaken).toBeGreaterThan(900);
  });

  it('rate limit: packets serialize at the wire rate (payload + 28 header bytes) and the queue tail-drops', () => {
    const c = new ImpairmentChannel({ bitsPerSecond: 8000, queueLimitMs: 100 });
    const v = Array.from({ length: 6 }, () => c.offer(72, 0)); // 100 wire bytes = 100 ms each
    expect(v.map((x) => (x.delivered ? x.arriveAtMs[0] : x.reason))).toEqual([100, 200, 'queue', 'queue', 'queue', 'queue']);
    expect(c.stats.bitsOnLink).toBe(1600);
  });

  it('outages and bad settings', () => {
    const c = new ImpairmentChannel({ outages: [{ startMs: 100, durationMs: 50 }] });
    expect(c.offer(10, 120)).toMatchObject({ delivered: false, reason: 'outage' });
    expect(c.offer(10, 160).delivered).toBe(true);
    expect(() => new ImpairmentChannel({ lossRate: 1 })).toThrow(RangeError);
    expect(() => new ImpairmentChannel({ duplicateRate: 2 })).toThrow(RangeError);
    expect(() => new ImpairmentChannel({ delayMs: -1 })).toThrow(RangeError);
  });
});

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function socket(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  closers.push(() => new Promise<void>((r) => s.close(() => r())));
  return s;
}
const portOf = (s: Socket) => s.address().port;

/** A target that records what arrives (index in the first 2 bytes) and echoes it back. */
async function echoTarget() {
  const s = await socket();
  const got: number[] = [];
  const sources = new Set<number>();
  s.on('message', (m, r) => {
    got.push(m.readUInt16BE(0));
    sources.add(r.port);
    s.send(m, r.port, r.address);
  });
  return { s, got, sources };
}

async function proxyTo(target: Socket, link = {}): Promise<ImpairProxy> {
  const p = await startImpairProxy({ target: `udp://127.0.0.1:${portOf(target)}`, link });
  closers.push(() => p.close());
  return p;
}

const numbered = (i: number, bytes = 40) => {
  const b = Buffer.alloc(bytes);
  b.writeUInt16BE(i, 0);
  return b;
};

describe('startImpairProxy (real UDP on loopback)', () => {
  async function run(seed: number) {
    const target = await echoTarget();
    const proxy = await proxyTo(target.s, { lossRate: 0.2, meanBurstPackets: 3, seed });
    const client = await socket();
    const back: number[] = [];
    client.on('message', (m) => back.push(m.readUInt16BE(0)));
    for (let i = 0; i < 300; i++) {
      client.send(numbered(i), proxy.port, '127.0.0.1');
      if (i % 25 === 24) await new Promise((r) => setTimeout(r, 5)); // a burst of 300 overflows a socket buffer
    }
    await until(() => proxy.stats.forward.packetsIn === 300 && proxy.stats.reverse.packetsIn === target.got.length && back.length === proxy.stats.reverse.packetsOut);
    await new Promise((r) => setTimeout(r, 50));
    return { got: [...target.got], back: [...back], stats: structuredClone(proxy.stats) };
  }

  it('the same seed gives the same fates through real sockets, and they are the channel model\'s', async () => {
    const a = await run(11);
    const b = await run(11);
    expect(b.got).toEqual(a.got);
    expect(b.back).toEqual(a.back);
    const model = new ImpairmentChannel({ lossRate: 0.2, meanBurstPackets: 3, seed: 11 });
    const expected = Array.from({ length: 300 }, (_, i) => i).filter(() => !model.nextFate().lost);
    expect(a.got).toEqual(expected);
    expect(a.stats.forward.packetsLost).toBe(300 - expected.length);
    expect(a.stats.reverse.packetsLost).toBeGreaterThan(0); // the way back is impaired too
    expect(a.back.length).toBe(a.got.length - a.stats.reverse.packetsLost);
    const c = await run(12);
    expect(c.got).not.toEqual(a.got);
  });

  it('duplicates and reorders; delay is applied', async () => {
    const target = await echoTarget();
    const proxy = await proxyTo(target.s, { duplicateRate: 0.2, reorderRate: 0.2, reorderDelayMs: 40, delayMs: 30, seed: 5 });
    const client = await socket();
    const t0 = performance.now();
    client.send(numbered(9999), proxy.port, '127.0.0.1');
    await until(() => target.got.length >= 1);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(29);
    target.got.length = 0;
    for (let i = 0; i < 100; i++) client.send(numbered(i), proxy.port, '127.0.0.1');
    await until(() => new Set(target.got.filter((x) => x !== 9999)).size === 100);
    await new Promise((r) => setTimeout(r, 150)); // late duplicates and held-back packets (≤ 75 ms)
    const got = target.got.filter((x) => x !== 9999);
    const dups = got.length - 100;
    const d = proxy.stats.forward.packetsDuplicated; // (the probe may have been duplicated too)
    expect(dups === d || dups === d - 1).toBe(true);
    expect(dups).toBeGreaterThan(5);
    expect(proxy.stats.forward.packetsReordered).toBeGreaterThan(5);
    expect(got.some((x, k) => k > 0 && x < (got[k - 1] as number))).toBe(true);
  });

  it('rebind() gives the target a new source port; oversized and extra clients are counted drops', async () => {
    const target = await echoTarget();
    const proxy = await startImpairProxy({ target: { host: '127.0.0.1', port: portOf(target.s) }, maxClients: 1, maxDatagramBytes: 100 });
    closers.push(() => proxy.close());
    const client = await socket();
    client.send(numbered(1), proxy.port, '127.0.0.1');
    await until(() => target.sources.size === 1);
    proxy.rebind();
    client.send(numbered(2), proxy.port, '127.0.0.1');
    await until(() => target.sources.size === 2);
    client.send(Buffer.alloc(101), proxy.port, '127.0.0.1');
    const other = await socket();
    other.send(numbered(3), proxy.port, '127.0.0.1');
    await until(() => proxy.stats.proxyDrops === 2);
    expect(target.got).toEqual([1, 2]);
    await proxy.close();
    await proxy.close();
  });

  it("takes `stcts relay`'s link options as they are (Partial<LinkOptions>), rate limit included", async () => {
    const target = await echoTarget();
    const link: Partial<LinkOptions> = { bitsPerSecond: 8000, lossRate: 0, meanBurstPackets: 1, delayMs: 0, jitterMs: 0, packetOverheadBytes: 2, outages: [], seed: 1 };
    const proxy = await proxyTo(target.s, link);
    const client = await socket();
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) client.send(numbered(i, 70), proxy.port, '127.0.0.1'); // 70 + 28 + 2 = 100 wire bytes: 100 ms each
    await until(() => target.got.length === 5);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(480);
    expect(proxy.stats.forward.bitsOnLink).toBe(5 * 800);
  });
});
