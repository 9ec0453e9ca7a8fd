import { describe, expect, it } from 'vitest';
import type { Frame } from '../../src/codec/frame/index.ts';
import { arqTuning } from '../../src/transport/links/arq-tuning.ts';
import type { PacketCostModel } from '../../src/transport/links/types.ts';
import { LinkPacer, ReliableSender } from '../../src/transport/reliability/index.ts';

/**
 * The ARQ on a half-duplex link that packs queued datagrams into turns (issue #15, FreeDV): what
 * the link's cost model tells it, and what its pump may tell it.
 */
const text = (seq: number): Frame => ({ version: 1, sessionId: 1, seq, time: seq * 10, payload: { type: 'text', coding: 'lm', coded: new Uint8Array(20).fill(seq) } });

/** 4FSK-like: 1-s preamble per turn, 12 data bytes per 1.44-s frame, 24 frames a turn. */
const turnLink: PacketCostModel = {
  halfDuplex: true,
  channelBitsPerSecond: 78,
  maxTurnMs: 100 + 1000 + 24 * 1440 + 20,
  packetCost: (n) => ({ wireBytes: Math.ceil(n / 12) * 16, airtimeMs: 100 + 1000 + Math.ceil(Math.max(1, n) / 12) * 1440 + 20 }),
  packedCost: (n) => ({ wireBytes: Math.ceil(n / 12) * 16, airtimeMs: Math.ceil(Math.max(1, n) / 12) * 1440 }),
};

describe('ARQ over a half-duplex turn link', () => {
  it('the back-off cap and the prosody age cover two turns (an 8-s cap resent a 23-s turn before its ack could come)', () => {
    const t = arqTuning(turnLink);
    expect(t.sender.maxRtoMs).toBeGreaterThan(2 * turnLink.maxTurnMs!);
    expect(t.sender.maxProsodyAgeMs).toBeGreaterThanOrEqual(2 * turnLink.maxTurnMs!);
    const { maxTurnMs: _, packedCost: __, ...plain } = turnLink;
    expect(arqTuning(plain).sender.maxRtoMs).toBeUndefined();
  });

  it('the pacer charges a packet what it adds to a turn, not a preamble of its own', () => {
    const p = new LinkPacer(78, turnLink);
    expect(p.packetMs(24)).toBe(2 * 1440);
    const { packedCost: _, ...alone } = turnLink;
    expect(new LinkPacer(78, alone).packetMs(24)).toBe(100 + 1000 + 2 * 1440 + 20);
  });

  it('declareLost: frames of a turn the peer answered without acknowledging go again at once', () => {
    const s = new ReliableSender(1, { pacer: new LinkPacer(Number.POSITIVE_INFINITY), initialRtoMs: 60_000, minRtoMs: 60_000, maxRtoMs: 120_000 });
    s.submit(text(0), 0);
    s.submit(text(1), 0);
    expect(s.nextPacket(0)).toBeDefined();
    expect(s.nextPacket(0)).toBeUndefined();
    s.submit(text(2), 5000);
    expect(s.nextPacket(5000)).toBeDefined(); // a later turn: only seq 2
    s.onAck({ type: 'ack', cumulative: 1, sack: 0n, nack: [] }, 8000); // the peer got seq 0, not 1
    expect(s.nextPacket(8000)).toBeUndefined(); // without the pump's word: wait for the 60-s RTO
    s.declareLost(0); // the answer came after the turn of time 0: seq 1 is lost; seq 2 (time 5000) not yet
    const before = s.stats.retransmissions;
    expect(s.nextPacket(8000)).toBeDefined();
    expect(s.stats.retransmissions).toBe(before + 1);
    expect(s.nextPacket(8000)).toBeUndefined();
  });
});
