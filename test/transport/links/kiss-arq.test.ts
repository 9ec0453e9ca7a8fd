import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Frame } from '../../../src/codec/frame/index.ts';
import { dialSession, listenSessions, type SessionCarrier } from '../../../src/transport/links/connect.ts';
import { LinkSession } from '../../../src/transport/link-session.ts';
import { LinkPacer } from '../../../src/transport/reliability/pacer.ts';
import { arqTuning } from '../../../src/transport/links/arq-tuning.ts';
import type { PacketCostModel } from '../../../src/transport/links/types.ts';
import { describeWith, program } from '../../fixtures/components.ts';
import { startDirewolfChain, type DirewolfChain } from '../../fixtures/direwolf.ts';
import { until } from '../../fixtures/wait.ts';

/**
 * The ARQ over two real direwolf 1.6 soft modems (1200 bd AFSK, chained by audio): a quarter of
 * the transmissions are destroyed in the relay, so packets and acks are lost to real CRC failures,
 * and the half-duplex channel makes both sides wait their turn. Every frame must arrive once, in order.
 */

const SESSION = 0x2345671;
const phrase = (seq: number): Frame => ({ version: 1, sessionId: SESSION, seq, time: 10, payload: { type: 'text', coding: 'lm', coded: new Uint8Array(8 + (seq % 7)).fill(seq) } });
const tuned = (cost: PacketCostModel): LinkSession => {
  const t = arqTuning(cost);
  return new LinkSession(SESSION, { sender: { ...t.sender, pacer: new LinkPacer(1200, cost) }, receiver: t.receiver, cost });
};

describeWith('ARQ through two real direwolf soft modems', [program('direwolf')], () => {
  let chain: DirewolfChain;
  beforeAll(async () => {
    chain = await startDirewolfChain({ modemBaud: 1200, destroyShare: 0.25, seed: 11 });
  }, 30_000);
  afterAll(async () => {
    await chain?.stop();
  });

  it('12 phrases at 25 % destroyed transmissions: each delivered once, in order; some were retransmitted', async () => {
    let rx: LinkSession | undefined;
    const listener: SessionCarrier = await listenSessions(chain.b.kissUrl, (id, cost) => (rx = tuned(cost)), { budgetBitsPerSecond: 1200 });
    const sender = await dialSession(chain.a.kissUrl, tuned, { budgetBitsPerSecond: 1200 });
    const got: number[] = [];
    try {
      // A phrase every 1.5 s, as a talker would.
      for (let seq = 0; seq < 12; seq++) {
        sender.session.send(phrase(seq));
        await new Promise((r) => setTimeout(r, 1500));
      }
      await until(() => rx !== undefined, 10_000);
      const reading = (async () => {
        for await (const f of rx!.frames()) {
          got.push(f.seq);
          if (got.length === 12) return;
        }
      })();
      await until(() => got.length === 12 && sender.session.sender.idle, 90_000);
      await reading;
      expect(got).toEqual([...Array(12).keys()]);
      expect(sender.session.sender.stats.retransmissions).toBeGreaterThan(0);
      const txs = [...chain.a.transmissions(), ...chain.b.transmissions()];
      expect(txs.some((t) => t.destroyed)).toBe(true);
      // Wire bits include KISS/HDLC framing: more than the payload alone.
      expect(sender.session.bitsOut).toBeGreaterThan(12 * 10 * 8);
      expect(sender.session.airtimeMsOut).toBeGreaterThan(12 * 300);
    } finally {
      rx?.close();
      sender.session.close();
      await sender.close();
      await listener.close();
    }
  }, 120_000);
});
