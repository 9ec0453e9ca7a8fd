import { describe, expect, it } from 'vitest';
import type { Frame } from '../../src/codec/frame/index.ts';
import { ReliableReceiver } from '../../src/transport/reliability/index.ts';

const text = (seq: number): Frame => ({ version: 1, sessionId: 5, seq, time: seq * 100, payload: { type: 'text', coding: 'utf8', text: `phrase ${seq}`, data: new Uint8Array(0) } as unknown as Frame['payload'] });

describe('ReliableReceiver confirmDelivery (the gateway acks only what JetStream stored)', () => {
  it('acknowledges a delivered frame only after confirm(), and never selectively what is not confirmed', () => {
    const rx = new ReliableReceiver({ confirmDelivery: true, ackDelayMs: 0 });
    expect(rx.accept([text(0), text(1)], 0).map((f) => f.seq)).toEqual([0, 1]);
    // Out of order, held: without the option it would be SACKed.
    rx.accept([text(3)], 1);
    let ack = rx.takeAck(10)!;
    expect(ack.cumulative).toBe(0);
    expect(ack.sack).toBe(0n);
    expect(ack.nack).toEqual([2]);
    rx.confirm(0, 11);
    ack = rx.takeAck(20)!;
    expect(ack.cumulative).toBe(1);
    rx.confirm(1, 21);
    expect(rx.takeAck(30)!.cumulative).toBe(2);
    // The gap fills: 2 and 3 are delivered, acknowledged once confirmed.
    expect(rx.accept([text(2)], 31).map((f) => f.seq)).toEqual([2, 3]);
    expect(rx.takeAck(40)!.cumulative).toBe(2);
    rx.confirm(3, 41);
    expect(rx.takeAck(50)!.cumulative).toBe(4);
  });

  it('without the option, delivered = acknowledged (and held frames are SACKed)', () => {
    const rx = new ReliableReceiver({ ackDelayMs: 0 });
    rx.accept([text(0), text(2)], 0);
    const ack = rx.takeAck(10)!;
    expect(ack.cumulative).toBe(1);
    expect(ack.sack).toBe(1n);
  });
});
