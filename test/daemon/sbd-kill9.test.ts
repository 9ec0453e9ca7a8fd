import { expect, it } from 'vitest';
import { runSbdKillPoint } from '../../scripts/bench-kill9-sbd.ts';
import { describeWith, SOCAT } from '../fixtures/components.ts';

/**
 * Kill -9 of a child process running the SBD peer (issue #16 items 4–5) at 5 seeded points: while
 * messages are being accepted (seeds 3, 14), mid-send and mid-receive (2, 5, 9); restarted on the same state
 * directory. Every accepted message reaches the gateway and every gateway message is written once.
 * A part may reach the gateway twice (its session succeeded, the kill came before its `sent`
 * record): counted, and the receiver's dedupe keeps the message exactly-once. The 20-point run is
 * `node --import tsx scripts/bench-kill9-sbd.ts --points 20 --seed 1 --json`.
 */
describeWith('kill -9 of the SBD peer', [SOCAT], () => {
  it('5 seeded kill points: 0 parts lost, 0 messages lost or duplicated (MO and MT)', async () => {
    for (const seed of [2, 3, 5, 9, 14]) {
      const r = await runSbdKillPoint(seed);
      expect({ seed, killedMidRun: r.killedMidRun, settled: r.settled, partsLost: r.partsLost, messagesLost: r.messagesLost, messagesDuplicated: r.messagesDuplicated, mtLost: r.mtLost, mtDuplicated: r.mtDuplicated })
        .toEqual({ seed, killedMidRun: true, settled: true, partsLost: 0, messagesLost: 0, messagesDuplicated: 0, mtLost: 0, mtDuplicated: 0 });
      expect(r.accepted).toBeGreaterThan(0);
      // Only the part in flight at the kill can go twice: more means `sent` records are not durable.
      expect(r.partResends).toBeLessThanOrEqual(1);
    }
  }, 360_000);
});
