import { mulberry32 } from '../../../src/transport/prng.ts';
import { generateKeyPair, keyPairFromPrivate } from '../../../src/transport/secure/noise.ts';
import { LinkHandshakeInitiator, LinkHandshakeResponder, noisePskOf, type EstablishedLink, type LinkHandshakeOptions, type LocalIdentity, type PeerCredentials } from '../../../src/transport/secure/link-handshake.ts';

/** Deterministic node identities: static keys from fixed bytes. */
export function node(name: string, seed: number): LocalIdentity {
  return { name, staticKey: keyPairFromPrivate(new Uint8Array(32).map((_, i) => (i * 13 + seed * 101 + 1) & 255)), instanceId: new Uint8Array(8).fill(seed) };
}

export const pskHex = (n: number) => Buffer.from(new Uint8Array(32).map((_, i) => (i * 29 + n * 7 + 3) & 255)).toString('hex');
export const cred = (name: string, n: number): PeerCredentials => ({ name, psk: noisePskOf(pskHex(n)) });

/** Seeded uniform [0,1): the emulator's PRNG. */
export const rng = mulberry32;

export interface RunResult {
  initiator?: EstablishedLink;
  responder?: EstablishedLink;
  initiatorError?: Error;
  responderError?: Error;
  bytesI2R: number;
  bytesR2I: number;
  datagrams: number;
  /** Every datagram, in send order (a passive recorder's view). */
  transcript: Array<{ from: 'i' | 'r'; bytes: Uint8Array }>;
  endMs: number;
}

/**
 * Runs one handshake over an emulated datagram link on a virtual clock: one-way delay `delayMs`,
 * each datagram lost with probability `loss` (seeded).
 */
export function runHandshake(i: LinkHandshakeInitiator, r: LinkHandshakeResponder, o: { loss?: number; seed?: number; delayMs?: number; maxMs?: number } = {}): RunResult {
  const random = rng(o.seed ?? 1);
  const delay = o.delayMs ?? 500;
  const queue: Array<{ at: number; to: 'i' | 'r'; bytes: Uint8Array }> = [];
  const res: RunResult = { bytesI2R: 0, bytesR2I: 0, datagrams: 0, transcript: [], endMs: 0 };
  let now = 0;
  const put = (from: 'i' | 'r', ds: Uint8Array[]) => {
    for (const d of ds) {
      res.datagrams++;
      res.transcript.push({ from, bytes: d });
      if (from === 'i') res.bytesI2R += d.length;
      else res.bytesR2I += d.length;
      if (random() >= (o.loss ?? 0)) queue.push({ at: now + delay, to: from === 'i' ? 'r' : 'i', bytes: d });
    }
  };
  const handle = (who: 'i' | 'r', step: ReturnType<LinkHandshakeInitiator['poll']>) => {
    put(who, step.send);
    if (step.established) res[who === 'i' ? 'initiator' : 'responder'] = step.established;
    if (step.failed) res[who === 'i' ? 'initiatorError' : 'responderError'] = step.failed;
  };
  handle('i', i.start(now));
  for (let steps = 0; steps < 10_000 && now < (o.maxMs ?? 120_000) && !(res.initiator || res.initiatorError); steps++) {
    queue.sort((a, b) => a.at - b.at);
    const next = Math.min(queue[0]?.at ?? Infinity, i.nextTimerMs(), r.nextTimerMs());
    if (next === Infinity) break;
    now = next;
    while (queue.length > 0 && queue[0]!.at <= now) {
      const m = queue.shift()!;
      if (m.to === 'r') handle('r', r.receive(m.bytes, now));
      else handle('i', i.receive(m.bytes, now));
    }
    handle('i', i.poll(now));
    handle('r', r.poll(now));
  }
  res.endMs = now;
  return res;
}

export { generateKeyPair, type LinkHandshakeOptions };
