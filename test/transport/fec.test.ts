import { describe, expect, it } from 'vitest';
import type { Frame } from '../../src/codec/frame/index.ts';
import { UsageError } from '../../src/core/errors.ts';
import { decodeForSession } from '../../src/transport/link-packet.ts';
import { ReliableReceiver, ReliableSender } from '../../src/transport/reliability/index.ts';
import { simulateLink } from '../../src/transport/index.ts';
import { syntheticCall } from '../sim/fixtures.ts';

const text = (seq: number): Frame => ({ version: 1, sessionId: 9, seq, time: seq * 1000, payload: { type: 'text', coding: 'utf8', coded: new Uint8Array([65, 66, 67, 68]) } });
const detail = (seq: number): Frame => ({ version: 1, sessionId: 9, seq, time: seq * 1000, payload: { type: 'prosody', coded: new Uint8Array([7, 7, 7]) } });

/** Drains the sender at its own pace for 2 s (before any retransmission timeout); the seqs in each packet. */
function packets(tx: ReliableSender): number[][] {
  const out: number[][] = [];
  let now = 0;
  for (let i = 0; i < 20; i++) {
    const wake = tx.nextWakeMs(now);
    if (wake === undefined || wake > 2000) break;
    now = Math.max(now, wake);
    const p = tx.nextPacket(now);
    if (p) out.push(decodeForSession(p, 9, () => undefined).frames.map((f) => f.seq));
  }
  return out;
}

describe('prosody FEC (repetition of best-effort detail frames)', () => {
  it('sends each detail frame the configured number of times, each copy in a later packet', () => {
    const tx = new ReliableSender(9, { bitsPerSecond: 300, prosodyCopies: 3, initialRtoMs: 3000 });
    tx.submit(detail(1), 0);
    tx.submit(text(2), 0);
    const sent = packets(tx);
    expect(sent[0]).toEqual([2, 1]); // text first, then its detail
    expect(sent.slice(1)).toEqual([[1], [1]]);
    expect(tx.stats.prosodyCopiesSent).toBe(2);
    expect(tx.stats.retransmissions).toBe(0);
  });

  it('is off by default, and refuses a nonsense setting', () => {
    const tx = new ReliableSender(9, { bitsPerSecond: 300 });
    tx.submit(detail(1), 0);
    expect(packets(tx)).toEqual([[1]]);
    expect(() => new ReliableSender(9, { prosodyCopies: 0 })).toThrow(UsageError);
    expect(() => new ReliableSender(9, { prosodyCopies: 1.5 })).toThrow(UsageError);
  });

  it('the receiver delivers a copy once and does not hurry an ack for it', () => {
    const rx = new ReliableReceiver();
    expect(rx.accept([detail(0)], 0)).toHaveLength(1);
    rx.takeAck(1_000);
    expect(rx.accept([detail(0)], 2_000)).toHaveLength(0);
    expect(rx.stats.duplicates).toBe(1);
    expect(rx.ackDueMs).toBeUndefined();
  });

  it('at 10 % random loss on 300 bit/s, two copies deliver nearly all prosody detail; text is unaffected', () => {
    const call = syntheticCall(200, 7);
    const link = { bitsPerSecond: 300, lossRate: 0.1, delayMs: 600, jitterMs: 100, seed: 2 };
    const plain = simulateLink(call, link);
    const fec = simulateLink(call, link, { prosodyCopies: 2 });
    for (const r of [plain, fec]) {
      expect(r.textDeliveredRatio).toBe(1);
      expect(r.duplicates).toBe(0);
      expect(r.inOrder).toBe(true);
    }
    expect(plain.prosodyDeliveredRatio).toBeLessThan(0.95);
    expect(fec.prosodyDeliveredRatio).toBeGreaterThan(0.98);
    // What it costs is counted: more prosody bits on the wire.
    expect(fec.bitsByStream.prosody).toBeGreaterThan(2 * plain.bitsByStream.prosody);
  });
});
