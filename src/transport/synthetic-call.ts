import type { Frame } from '../codec/frame/index.ts';
import { mulberry32 } from './prng.ts';
import type { SimInput } from './sim.ts';

/** A seeded synthetic call for link tests and `scripts/bench-link.ts`: header, speaker profile, then `phrases` phrases (prosody detail + text) every ~4 s. */
export function syntheticCall(phrases: number, seed = 1): SimInput[] {
  const rnd = mulberry32(seed);
  const sessionId = 4242;
  let seq = 0;
  const f = (time: number, payload: Frame['payload']): Frame => ({ version: 1, sessionId, seq: seq++, time, payload });
  const out: SimInput[] = [
    { frame: f(0, { type: 'sessionHeader', codecVersion: 1, mode: 'balanced', textModelId: 'm', textModelHash: 1, sampleRateHz: 16000, timeUnitMs: 20 }), atMs: 0 },
    { frame: f(0, { type: 'speakerProfile', id: 1, profile: new Uint8Array(24).fill(3) }), atMs: 0 },
  ];
  let t = 500;
  for (let i = 0; i < phrases; i++) {
    const dur = 2000 + rnd() * 4000;
    const end = t + dur;
    const time = Math.round(t / 20);
    out.push({ frame: f(time, { type: 'prosody', coded: new Uint8Array(2 + Math.floor(rnd() * 4)).fill(i & 255) }), atMs: end });
    out.push({ frame: f(time, { type: 'text', coding: 'lm', coded: new Uint8Array(10 + Math.floor(rnd() * 30)).fill(i & 255) }), atMs: end });
    t = end + 300 + rnd() * 700;
  }
  out.push({ frame: f(Math.round(t / 20), { type: 'end', reason: 'normal' }), atMs: t });
  return out;
}
