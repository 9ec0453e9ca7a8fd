/**
 * Live-link benchmark: a seeded synthetic call (header, speaker profile, then phrases every ~4 s with a
 * prosody frame and a 10–40 byte text frame) through the emulated 300 bit/s link in virtual time.
 * Usage: node --import tsx scripts/bench-link.ts [--phrases 200] [--seed 1] [--prosody-copies N]
 * (--prosody-copies: FEC copies of the best-effort prosody frames, ReliableSenderOptions.prosodyCopies.)
 */
import { simulateLink, syntheticCall, type LinkOptions } from '../src/transport/index.ts';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const phrases = arg('--phrases', 200);
const seed = arg('--seed', 1);
const prosodyCopies = arg('--prosody-copies', 1);
const call = syntheticCall(phrases, seed);
const midMs = call[Math.floor(call.length / 2)]!.atMs;
const scenarios: Array<[string, Partial<LinkOptions>]> = [
  ['clean', {}],
  ['bernoulli-10%', { lossRate: 0.1 }],
  ['gilbert-elliott-burst5-10%', { lossRate: 0.1, meanBurstPackets: 5 }],
  ['reorder-jitter', { lossRate: 0.05, delayMs: 600, jitterMs: 400 }],
  ['outage-120s', { lossRate: 0.1, outages: [{ startMs: midMs, durationMs: 120_000 }] }],
];
for (const [name, link] of scenarios) {
  const r = simulateLink(call, { bitsPerSecond: 300, seed, ...link }, { prosodyCopies });
  const { delivered: _d, ...stats } = r;
  console.log(JSON.stringify({ scenario: name, prosodyCopies, ...stats }));
}
