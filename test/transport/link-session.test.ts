import { describe, expect, it } from 'vitest';
import type { Frame } from '../../src/codec/frame/index.ts';
import { LinkSession, PacketBuilder } from '../../src/transport/index.ts';

const f = (seq: number): Frame => ({ version: 1, sessionId: 9, seq, time: seq, payload: { type: 'text', coding: 'utf8', coded: new TextEncoder().encode(`P${seq}`) } });

function packet(frames: Frame[]): Uint8Array {
  const b = new PacketBuilder(4096);
  for (const fr of frames) b.tryAdd(fr);
  return b.finish();
}

describe('LinkSession', () => {
  it('two packets arriving together never interleave their frames, even when delivery has to wait', async () => {
    const s = new LinkSession(9, { deliverCapacity: 1 });
    try {
      // Both packets arrive before the application reads anything: the first packet's hand-over
      // blocks on the 1-frame queue while the second packet is already being handled.
      const a = s.onPacket(packet([f(0), f(1), f(2)]));
      const b = s.onPacket(packet([f(3), f(4), f(5)]));
      await new Promise((r) => setTimeout(r, 20)); // both hand-overs are now waiting on the queue
      const got: number[] = [];
      const it = s.frames()[Symbol.asyncIterator]();
      while (got.length < 6) got.push((await it.next()).value!.seq);
      await Promise.all([a, b]);
      expect(got).toEqual([0, 1, 2, 3, 4, 5]);
    } finally {
      await s.close();
    }
  });
});
