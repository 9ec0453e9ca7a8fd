import { describe, expect, it } from 'vitest';
import type { Frame } from '../../src/codec/frame/index.ts';
import { lingerQuietMs } from '../../src/pipeline/live.ts';
import { ReliableReceiver } from '../../src/transport/reliability/index.ts';

const text = (seq: number): Frame => ({ version: 1, sessionId: 5, seq, time: seq * 100, payload: { type: 'text', coding: 'utf8', text: `phrase ${seq}`, data: new Uint8Array(0) } as unknown as Frame['payload'] });
const end = (seq: number): Frame => ({ version: 1, sessionId: 5, seq, time: seq * 100, payload: { type: 'end', reason: 'normal' } } as Frame);

describe('the receiver times its peer\'s resends (how long to linger after the End)', () => {
  it('a repeated reliable frame gives the gap since its first arrival; the longest is kept', () => {
    const rx = new ReliableReceiver();
    expect(rx.peerResendGapMs).toBe(0);
    rx.accept([text(0)], 1000);
    rx.accept([text(1)], 5000);
    rx.accept([text(0)], 3500); // our ack of 0 was lost: resent 2.5 s later
    expect(rx.peerResendGapMs).toBe(2500);
    rx.accept([end(2)], 20_000);
    rx.accept([end(2)], 29_100); // a slow radio: the End again after the sender's 9.1-s RTO
    expect(rx.peerResendGapMs).toBe(9100);
    rx.accept([text(1)], 9000);
    expect(rx.peerResendGapMs).toBe(9100);
  });

  it('lingers 5 s on a fast link, 1.5 × the resend gap on a slow one, at most 30 s', () => {
    expect(lingerQuietMs(0)).toBe(5000);
    expect(lingerQuietMs(2000)).toBe(5000);
    expect(lingerQuietMs(9100)).toBe(13_650);
    expect(lingerQuietMs(60_000)).toBe(30_000);
  });
});
