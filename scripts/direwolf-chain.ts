/**
 * Two real direwolf 1.6 instances chained by audio (test/fixtures/direwolf.ts), for runs outside the
 * tests (issue #14):
 *
 *   node --import tsx scripts/direwolf-chain.ts [--modem 1200|300] [--destroy 0.1] [--seed 1]
 *     Starts the chain and prints one JSON line {"a":"kiss+tcp://…","b":"kiss+tcp://…"}; point
 *     `stcts send --to <a>` and `stcts receive --listen <b>` at it. On SIGINT/SIGTERM it stops and
 *     prints the channel's use: transmissions, destroyed ones, airtime per station and occupancy
 *     (both stations' transmit time ÷ wall time), to stdout or --stats-json FILE.
 *
 *   node --import tsx scripts/direwolf-chain.ts --measure 10 [--modem 1200] [--bytes 60] [--persist 255] [--slottime 0] [--txdelay 300] [--ax25]
 *     Ping-pong: station A sends `bytes`, B answers 8 bytes on arrival; prints JSON with the one-way
 *     time (A send → B delivery), the round trip, the channel-access wait (send → first sample on
 *     the air) and the airtime observed on the channel beside the cost model's.
 */
import { writeFileSync } from 'node:fs';
import { openKissLink, type KissLink } from '../src/transport/links/kiss.ts';
import type { KissLinkOptions } from '../src/transport/links/kiss-url.ts';
import { mulberry32 } from '../src/transport/prng.ts';
import { startDirewolfChain, type DirewolfChain, type RelayTransmission } from '../test/fixtures/direwolf.ts';

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i < 0 ? undefined : (argv[i + 1] ?? '');
};
const num = (name: string, dflt: number): number => {
  const v = flag(name);
  const n = v === undefined ? dflt : Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} needs a number`);
  return n;
};

const modemBaud = num('modem', 1200);
if (modemBaud !== 1200 && modemBaud !== 300) throw new Error('--modem must be 1200 or 300');

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
};
const summary = (xs: number[]) => ({ median: Math.round(quantile(xs, 0.5)), p95: Math.round(quantile(xs, 0.95)), min: Math.round(Math.min(...xs)), max: Math.round(Math.max(...xs)) });

function channelUse(txs: RelayTransmission[], sinceMs: number, untilMs: number) {
  const mine = txs.filter((t) => t.startMs >= sinceMs);
  const airtimeMs = mine.reduce((s, t) => s + t.durationMs, 0);
  return { transmissions: mine.length, destroyed: mine.filter((t) => t.destroyed).length, airtimeMs: Math.round(airtimeMs), occupancy: airtimeMs / Math.max(1, untilMs - sinceMs) };
}

async function measure(chain: DirewolfChain, rounds: number): Promise<void> {
  const bytes = num('bytes', 60);
  const options: Partial<KissLinkOptions> = { modemBaud, tnc: {} };
  if (flag('persist') !== undefined) options.tnc!.persistence = num('persist', 63);
  if (flag('txdelay') !== undefined) options.tnc!.txDelayMs = num('txdelay', 300);
  if (flag('slottime') !== undefined) options.tnc!.slotTimeMs = num('slottime', 100);
  const ax25 = argv.includes('--ax25');
  const a = await openKissLink(chain.a.kissUrl, { ...options, ...(ax25 ? { callsign: 'N0CALL-1', peerCallsign: 'N0CALL-2' } : {}) });
  const b = await openKissLink(chain.b.kissUrl, { ...options, ...(ax25 ? { callsign: 'N0CALL-2', peerCallsign: 'N0CALL-1' } : {}) });
  await Promise.all([a.waitUntilUp(5000), b.waitUntilUp(5000)]);
  await new Promise((r) => setTimeout(r, 500)); // the TNC parameters are applied
  let arrivedB = 0;
  let arrivedA = 0;
  b.onDatagram((d) => {
    arrivedB = Date.now();
    b.send(d.subarray(0, 8));
  });
  a.onDatagram(() => {
    arrivedA = Date.now();
  });
  const rnd = mulberry32(1);
  const oneWay: number[] = [];
  const rtt: number[] = [];
  const access: number[] = [];
  const sent: number[] = [];
  const timeoutMs = modemBaud === 300 ? 20_000 : 8_000;
  for (let i = 0; i < rounds; i++) {
    arrivedA = arrivedB = 0;
    const t0 = Date.now();
    sent.push(t0);
    a.send(new Uint8Array(bytes).map(() => Math.floor(rnd() * 256)));
    while (!arrivedA && Date.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 5));
    if (arrivedB) oneWay.push(arrivedB - t0);
    if (arrivedA) rtt.push(arrivedA - t0);
    await new Promise((r) => setTimeout(r, 400 + Math.floor(rnd() * 400)));
  }
  await new Promise((r) => setTimeout(r, 1500)); // the relays log the last transmissions
  const txA = chain.a.transmissions();
  for (const t0 of sent) {
    const tx = txA.find((t) => t.startMs >= t0);
    if (tx) access.push(tx.startMs - t0);
  }
  const result = {
    modemBaud,
    ax25,
    bytes,
    rounds,
    tnc: options.tnc,
    lost: rounds - rtt.length,
    oneWayMs: summary(oneWay),
    rttMs: summary(rtt),
    channelAccessMs: summary(access),
    airtimeMs: {
      [`${bytes}B`]: { observed: summary(txA.map((t) => t.durationMs)), model: Math.round(a.cost.packetCost(bytes).airtimeMs) },
      '8B': { observed: summary(chain.b.transmissions().map((t) => t.durationMs)), model: Math.round(b.cost.packetCost(8).airtimeMs) },
    },
  };
  console.log(JSON.stringify(result));
  await a.close();
  await b.close();
}

const chain = await startDirewolfChain({ modemBaud, destroyShare: num('destroy', 0), seed: num('seed', 1) });
const rounds = flag('measure');
if (rounds !== undefined) {
  try {
    await measure(chain, Number(rounds) || 10);
  } finally {
    await chain.stop();
  }
} else {
  const startedMs = Date.now();
  console.log(JSON.stringify({ a: chain.a.kissUrl, b: chain.b.kissUrl, modemBaud }));
  const stop = async (): Promise<void> => {
    const now = Date.now();
    const stats = { durationMs: now - startedMs, a: channelUse(chain.a.transmissions(), startedMs, now), b: channelUse(chain.b.transmissions(), startedMs, now) };
    const out = { ...stats, occupancy: stats.a.occupancy + stats.b.occupancy };
    await chain.stop();
    const file = flag('stats-json');
    if (file) writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
    else console.log(JSON.stringify(out));
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}
