import { afterAll, beforeAll, expect, it } from 'vitest';
import { TransportError } from '../../../src/core/errors.ts';
import { mulberry32 } from '../../../src/transport/prng.ts';
import { openKissLink, type KissLink } from '../../../src/transport/links/kiss.ts';
import type { KissLinkOptions } from '../../../src/transport/links/kiss-url.ts';
import type { LinkState } from '../../../src/transport/links/types.ts';
import { describeWith, program } from '../../fixtures/components.ts';
import { startDirewolfChain, type DirewolfChain } from '../../fixtures/direwolf.ts';
import { until } from '../../fixtures/wait.ts';

/**
 * End to end through two real direwolf 1.6 soft modems chained by audio (test/fixtures/direwolf.ts):
 * real AFSK modulation, HDLC, FCS, CSMA; the relay between them destroys a seeded share of
 * transmissions, so frames are really lost to the receiver's CRC.
 */

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Seeded datagrams of mixed sizes (short ones exercise padding), each starting with a unique id. */
function datagrams(seed: number, count: number, sizes = [1, 8, 14, 15, 16, 40, 60, 100]): Uint8Array[] {
  const rnd = mulberry32(seed);
  return Array.from({ length: count }, (_, i) => {
    const d = new Uint8Array(sizes[i % sizes.length]!).map(() => Math.floor(rnd() * 256));
    d[0] = (seed * 16 + i) & 0xff;
    return d;
  });
}

/** Opens a link and collects what it receives. */
async function attach(url: string, options: Partial<KissLinkOptions> = {}): Promise<{ link: KissLink; got: Uint8Array[] }> {
  const link = await openKissLink(url, { reconnectMinMs: 100, reconnectMaxMs: 500, ...options });
  await link.waitUntilUp(5000);
  const got: Uint8Array[] = [];
  link.onDatagram((d) => got.push(d.slice()));
  return { link, got };
}

/** Every received datagram is one that was sent (byte for byte) and none twice. */
function expectIntactSubset(got: Uint8Array[], sent: Uint8Array[]): void {
  const sentSet = new Set(sent.map(hex));
  for (const d of got) expect(sentSet.has(hex(d)), `corrupted or foreign datagram ${hex(d)}`).toBe(true);
  expect(new Set(got.map(hex)).size).toBe(got.length);
}

/**
 * Observed airtime is the model's within 2 % (or 15 ms; bit stuffing of random data varies), once
 * direwolf's rounding is taken off: it sends TXDELAY and tail as whole flags,
 * floor(floor(ms · baud / 1000) / 8) of them (xmit.c), e.g. 11 flags = 293 ms for 300 ms at 300 bd.
 */
const flagRoundingMs = (ms: number, baud: number): number => ms - (Math.floor(Math.floor((ms * baud) / 1000) / 8) * 8 * 1000) / baud;
const expectAirtime = (observedMs: number, link: KissLink, payloadBytes: number): void => {
  const o = link.cost.options;
  const modelMs = link.cost.packetCost(payloadBytes).airtimeMs - flagRoundingMs(o.txDelayMs, o.baud) - flagRoundingMs(o.txTailMs, o.baud);
  expect(Math.abs(observedMs - modelMs)).toBeLessThan(Math.max(15, modelMs * 0.02));
};

/** A ping-pong: A sends `bytes`, B answers 8 bytes on arrival; round-trip times, ms. */
async function pingPong(a: { link: KissLink; got: Uint8Array[] }, b: { link: KissLink; got: Uint8Array[] }, rounds: number, bytes: number, timeoutMs: number): Promise<number[]> {
  const rtts: number[] = [];
  b.link.onDatagram((d) => {
    b.got.push(d.slice());
    b.link.send(d.subarray(0, 8));
  });
  for (let i = 0; i < rounds; i++) {
    const before = a.got.length;
    const t0 = Date.now();
    a.link.send(datagrams(10 + i, 1, [bytes])[0]!); // random bytes: the bit stuffing the model assumes
    await until(() => a.got.length > before, timeoutMs);
    rtts.push(Date.now() - t0);
    await sleep(300);
  }
  return rtts;
}

describeWith('KISS link through two real direwolf instances, 1200 bd', [program('direwolf')], () => {
  let chain: DirewolfChain;
  beforeAll(async () => {
    chain = await startDirewolfChain({ modemBaud: 1200 });
  });
  afterAll(async () => {
    await chain?.stop();
    await chain?.stop(); // idempotent
  });

  it('ping-pong: the cost model predicts the airtime the channel really carries', async () => {
    const a = await attach(chain.a.kissUrl);
    const b = await attach(chain.b.kissUrl);
    try {
      const rtts = await pingPong(a, b, 3, 60, 8000);
      await until(() => chain.b.transmissions().length >= 3, 3000);
      const txA = chain.a.transmissions().map((t) => t.durationMs);
      const txB = chain.b.transmissions().map((t) => t.durationMs);
      console.log(`1200 bd: RTT 60 B → 8 B ${rtts.join(' ')} ms; airtime 60 B observed ${txA[0]?.toFixed(1)} ms, model ${a.link.cost.packetCost(60).airtimeMs.toFixed(1)} ms; 8 B observed ${txB[0]?.toFixed(1)} ms, model ${b.link.cost.packetCost(8).airtimeMs.toFixed(1)} ms`);
      expect(txA).toHaveLength(3);
      for (const t of txA) expectAirtime(t, a.link, 60);
      for (const t of txB) expectAirtime(t, b.link, 8);
      for (const r of rtts) expect(r).toBeGreaterThan(txA[0]! + txB[0]!);
    } finally {
      await a.link.close();
      await b.link.close();
    }
  }, 40_000);

  it('raw frames both ways with 30 % of transmissions destroyed: some lost, none corrupted or duplicated', async () => {
    chain.setChannel({ destroyShare: 0.3, seed: 7 });
    const a = await attach(chain.a.kissUrl);
    const b = await attach(chain.b.kissUrl);
    const fromA = datagrams(1, 8);
    const fromB = datagrams(2, 8);
    const txBefore = chain.a.transmissions().length + chain.b.transmissions().length;
    try {
      for (let i = 0; i < fromA.length; i++) {
        a.link.send(fromA[i]!);
        await sleep(700);
        b.link.send(fromB[i]!);
        await sleep(700);
      }
      await sleep(4000); // the last transmissions leave the TNC queues and the channel
      const tx = [...chain.a.transmissions(), ...chain.b.transmissions()].slice(0);
      const destroyed = tx.filter((t) => t.destroyed).length;
      const collided = tx.filter((t) => t.collided).length;
      const lost = fromA.length - b.got.length + (fromB.length - a.got.length);
      console.log(`1200 bd, 30 % destroyed: ${tx.length - txBefore} transmissions, ${destroyed} destroyed, ${collided} collided, ${lost} of 16 datagrams lost`);
      expectIntactSubset(b.got, fromA);
      expectIntactSubset(a.got, fromB);
      expect(destroyed).toBeGreaterThan(0);
      expect(lost).toBeGreaterThanOrEqual(destroyed);
      expect(b.got.length + a.got.length).toBeGreaterThan(0);
      expect(a.link.stats.dropped.malformed + b.link.stats.dropped.malformed).toBe(0);
    } finally {
      chain.setChannel({ destroyShare: 0, seed: 1 });
      await a.link.close();
      await b.link.close();
    }
  }, 50_000);

  it('a simplex channel: two stations keying up at once (full-duplex KISS, no CSMA) collide and both frames are lost', async () => {
    const a = await attach(chain.a.kissUrl, { tnc: { fullDuplex: true } });
    const b = await attach(chain.b.kissUrl, { tnc: { fullDuplex: true } });
    const since = Date.now();
    try {
      await sleep(300); // the TNCs have applied the parameter
      for (let i = 0; i < 2; i++) {
        a.link.send(datagrams(20 + i, 1, [40])[0]!);
        b.link.send(datagrams(30 + i, 1, [40])[0]!);
        await sleep(2000);
      }
      const tx = [...chain.a.transmissions(), ...chain.b.transmissions()].filter((t) => t.startMs >= since);
      expect(tx).toHaveLength(4);
      expect(tx.every((t) => t.collided)).toBe(true);
      expect([a.got.length, b.got.length]).toEqual([0, 0]);
    } finally {
      await a.link.close();
      await b.link.close();
      // Back to CSMA for the next tests (direwolf keeps KISS parameters across clients).
      for (const url of [chain.a.kissUrl, chain.b.kissUrl]) await (await attach(url, { tnc: { fullDuplex: false } })).link.close();
      await sleep(300);
    }
  }, 30_000);

  it('amateur mode: AX.25 UI frames both ways between two callsigns; a third callsign hears nothing', async () => {
    const a = await attach(chain.a.kissUrl, { callsign: 'N0CALL-1', peerCallsign: 'N0CALL-2' });
    const b = await attach(chain.b.kissUrl, { callsign: 'N0CALL-2', peerCallsign: 'N0CALL-1' });
    const eavesdropper = await attach(chain.b.kissUrl, { callsign: 'N0CALL-3' });
    const fromA = datagrams(3, 2, [4, 50]);
    const fromB = datagrams(4, 2, [30, 2]);
    try {
      // Turn by turn: two stations contending for the channel at once may collide (direwolf's
      // p-persistence is its own randomness), which is the previous tests' business, not this one's.
      for (let i = 0; i < 2; i++) {
        a.link.send(fromA[i]!);
        await until(() => b.got.length === i + 1, 8000);
        b.link.send(fromB[i]!);
        await until(() => a.got.length === i + 1, 8000);
      }
      expect(b.got.map(hex)).toEqual(fromA.map(hex));
      expect(a.got.map(hex)).toEqual(fromB.map(hex));
      expect(eavesdropper.got).toEqual([]);
      expect(eavesdropper.link.stats.dropped.foreign_source).toBe(2);
    } finally {
      for (const l of [a, b, eavesdropper]) await l.link.close();
    }
  }, 40_000);
});

describeWith('KISS link through two real direwolf instances, 300 bd (HF AFSK)', [program('direwolf')], () => {
  let chain: DirewolfChain;
  beforeAll(async () => {
    chain = await startDirewolfChain({ modemBaud: 300 });
  });
  afterAll(async () => {
    await chain?.stop();
  });

  it('ping-pong at 300 bd with the airtime the cost model predicts', async () => {
    const a = await attach(chain.a.kissUrl, { modemBaud: 300 });
    const b = await attach(chain.b.kissUrl, { modemBaud: 300 });
    try {
      const rtts = await pingPong(a, b, 2, 60, 15_000);
      await until(() => chain.b.transmissions().length >= 2, 5000);
      const txA = chain.a.transmissions().map((t) => t.durationMs);
      const txB = chain.b.transmissions().map((t) => t.durationMs);
      console.log(`300 bd: RTT 60 B → 8 B ${rtts.join(' ')} ms; airtime 60 B observed ${txA[0]?.toFixed(1)} ms, model ${a.link.cost.packetCost(60).airtimeMs.toFixed(1)} ms; 8 B observed ${txB[0]?.toFixed(1)} ms, model ${b.link.cost.packetCost(8).airtimeMs.toFixed(1)} ms`);
      for (const t of txA) expectAirtime(t, a.link, 60);
      for (const t of txB) expectAirtime(t, b.link, 8);
      expect(b.got.map((d) => d.length)).toEqual([60, 60]);
    } finally {
      await a.link.close();
      await b.link.close();
    }
  }, 50_000);
});

describeWith('KISS over a serial line (direwolf -p pseudo-terminal), and TNCs that disappear', [program('direwolf')], () => {
  let chain: DirewolfChain;
  beforeAll(async () => {
    chain = await startDirewolfChain({ modemBaud: 1200, ptyA: true });
  });
  afterAll(async () => {
    await chain?.stop();
  });

  it('serial KISS both ways; the device vanishes (down, typed error) and comes back (up again)', async () => {
    const a = await attach(`kiss:${chain.a.ptyPath!}?baud=9600`);
    const b = await attach(chain.b.kissUrl);
    const states: LinkState[] = [];
    const errors: TransportError[] = [];
    a.link.onState((s) => states.push(s));
    a.link.onError((e) => errors.push(e));
    try {
      a.link.send(Uint8Array.of(1, 2, 3));
      await until(() => b.got.length === 1, 6000);
      b.link.send(new Uint8Array(20).fill(0xc0)); // FEND bytes on the serial line, escaped
      await until(() => a.got.length === 1, 6000);
      expect(hex(b.got[0]!)).toBe('010203');
      expect(hex(a.got[0]!)).toBe('c0'.repeat(20));

      await chain.a.stop('SIGKILL');
      await until(() => a.link.state !== 'up', 3000);
      expect(errors[0]).toBeInstanceOf(TransportError);
      a.link.send(Uint8Array.of(4)); // dropped, counted, no crash
      expect(a.link.stats.dropped.not_connected).toBe(1);
      await chain.a.start();
      await a.link.waitUntilUp(8000);
      expect(states).toContain('down');
      expect(a.link.stats.attaches).toBe(2);
      await sleep(300);
      a.link.send(Uint8Array.of(5, 6));
      await until(() => b.got.length === 2, 6000);
      expect(hex(b.got[1]!)).toBe('0506');
    } finally {
      await a.link.close();
      await b.link.close();
    }
  }, 50_000);

  it('KISS over TCP: direwolf killed and restarted on the same port; the link reattaches and carries data', async () => {
    const a = await attach(chain.a.kissUrl);
    const b = await attach(chain.b.kissUrl);
    try {
      await chain.b.stop('SIGKILL');
      await until(() => b.link.state !== 'up', 3000);
      await chain.b.start();
      await b.link.waitUntilUp(8000);
      await sleep(300);
      a.link.send(new Uint8Array(30).fill(7));
      await until(() => b.got.length === 1, 6000);
      expect(b.got[0]!.length).toBe(30);
      expect(b.link.stats.failures).toBeGreaterThanOrEqual(1);
    } finally {
      await a.link.close();
      await b.link.close();
    }
  }, 40_000);
});
