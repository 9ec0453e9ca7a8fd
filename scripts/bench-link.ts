/**
 * Live-link benchmark: a seeded synthetic call (header, speaker profile, then phrases every ~4 s with a
 * prosody frame and a 10–40 byte text frame) through the emulated 300 bit/s link in virtual time.
 * Usage: node --import tsx scripts/bench-link.ts [--phrases 200] [--seed 1]
 */
import type { Frame } from '../src/codec/frame/index.ts';
import { simulateLink, type SimInput, type LinkOptions } from '../src/transport/index.ts';
import { mulberry32 } from '../src/transport/prng.ts';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

function syntheticCall(phrases: number, seed: number): SimInput[] {
  const rnd = mulberry32(seed);
  let seq = 0;
  const f = (time: number, payload: Frame['payload']): Frame => ({ version: 1, sessionId: 4242, seq: seq++, time, payload });
  const out: SimInput[] = [
    { frame: f(0, { type: 'sessionHeader', codecVersion: 1, mode: 'balanced', textModelId: 'm', textModelHash: 1, sampleRateHz: 16000, timeUnitMs: 20 }), atMs: 0 },
    { frame: f(0, { type: 'speakerProfile', id: 1, profile: new Uint8Array(24).fill(3) }), atMs: 0 },
  ];
  let t = 500;
  for (let i = 0; i < phrases; i++) {
    const end = t + 2000 + rnd() * 4000;
    const time = Math.round(t / 20);
    out.push({ frame: f(time, { type: 'prosody', coded: new Uint8Array(2 + Math.floor(rnd() * 4)).fill(i & 255) }), atMs: end });
    out.push({ frame: f(time, { type: 'text', coding: 'lm', coded: new Uint8Array(10 + Math.floor(rnd() * 30)).fill(i & 255) }), atMs: end });
    t = end + 300 + rnd() * 700;
  }
  out.push({ frame: f(Math.round(t / 20), { type: 'end', reason: 'normal' }), atMs: t });
  return out;
}

const phrases = arg('--phrases', 200);
const seed = arg('--seed', 1);
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
  const r = simulateLink(call, { bitsPerSecond: 300, seed, ...link });
  const { delivered: _d, ...stats } = r;
  console.log(JSON.stringify({ scenario: name, ...stats }));
}
