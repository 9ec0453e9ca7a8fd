import { describe, expect, it } from 'vitest';
import { decodePacket, LinkEmulator, PacketBuilder, ReliableReceiver } from '../../src/transport/index.ts';
import type { Frame } from '../../src/codec/frame/index.ts';

function lossRun(opts: ConstructorParameters<typeof LinkEmulator>[0], n = 20000) {
  const link = new LinkEmulator({ bitsPerSecond: 1e9, ...opts });
  const lost: boolean[] = [];
  for (let i = 0; i < n; i++) lost.push(!link.send(10, i).delivered);
  const bursts: number[] = [];
  let run = 0;
  for (const l of lost) {
    if (l) run++;
    else if (run) { bursts.push(run); run = 0; }
  }
  return { rate: lost.filter(Boolean).length / n, meanBurst: bursts.reduce((a, b) => a + b, 0) / bursts.length };
}

describe('link emulator', () => {
  it('Bernoulli loss matches its rate with isolated losses', () => {
    const r = lossRun({ lossRate: 0.1, seed: 3 });
    expect(r.rate).toBeGreaterThan(0.09);
    expect(r.rate).toBeLessThan(0.11);
    expect(r.meanBurst).toBeLessThan(1.3);
  });

  it('Gilbert–Elliott loss matches mean loss and mean burst length', () => {
    const r = lossRun({ lossRate: 0.1, meanBurstPackets: 5, seed: 4 });
    expect(r.rate).toBeGreaterThan(0.08);
    expect(r.rate).toBeLessThan(0.12);
    expect(r.meanBurst).toBeGreaterThan(4);
    expect(r.meanBurst).toBeLessThan(6);
  });

  it('serializes packets at the link rate and drops during outages', () => {
    const link = new LinkEmulator({ bitsPerSecond: 800, delayMs: 100, outages: [{ startMs: 5000, durationMs: 1000 }] });
    const a = link.send(100, 0); // 800 bits → 1 s
    const b = link.send(100, 0); // queued behind a
    expect(a).toEqual({ delivered: true, arriveAtMs: 1100 });
    expect(b).toEqual({ delivered: true, arriveAtMs: 2100 });
    expect(link.send(10, 5500)).toEqual({ delivered: false, reason: 'outage' });
  });
});

describe('link packets', () => {
  const f = (seq: number, payload: Frame['payload']): Frame => ({ version: 1, sessionId: 77, seq, time: 5, payload });

  it('batch frames with implied seq and decode independently of other packets', () => {
    const b = new PacketBuilder(200);
    b.tryAdd(f(10, { type: 'prosody', coded: Uint8Array.of(1, 2) }));
    b.tryAdd(f(11, { type: 'text', coding: 'lm', coded: Uint8Array.of(3, 4, 5) }));
    const { frames, error } = decodePacket(b.finish());
    expect(error).toBeUndefined();
    expect(frames.map((x) => x.seq)).toEqual([10, 11]);
  });

  it('receiver holds out-of-order text, drops duplicates, skips forward-noticed gaps', () => {
    const rx = new ReliableReceiver();
    const text = (seq: number) => f(seq, { type: 'text', coding: 'lm', coded: Uint8Array.of(seq) });
    expect(rx.accept([text(0)], 0).map((x) => x.seq)).toEqual([0]);
    expect(rx.accept([text(2)], 1)).toEqual([]); // 1 missing
    expect(rx.takeAck(1)).toMatchObject({ cumulative: 1, sack: 1n, nack: [1] });
    expect(rx.accept([text(2)], 2)).toEqual([]); // duplicate
    expect(rx.stats.duplicates).toBe(1);
    // Sender says seq 1 (a lost prosody frame) will not come: 2 is delivered.
    const forward = f(3, { type: 'ack', cumulative: 2, sack: 0n, nack: [] });
    expect(rx.accept([forward], 3).map((x) => x.seq)).toEqual([2]);
  });
});
