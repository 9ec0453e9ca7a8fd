import { describe, expect, it } from 'vitest';
import { runKill9 } from '../../scripts/bench-kill9.ts';

/**
 * Kill -9 (issue #16 item 5): `stcts send --state-dir` and `stcts receive --state-dir` as child
 * processes over udp:// on loopback; SIGKILL of the sender, the receiver or both at seeded points
 * (after the k-th accepted phrase + a seeded delay), restart with the same arguments. Every phrase
 * the sender accepted is written by the receiver exactly once. The full run (20 points) is
 * `node --import tsx scripts/bench-kill9.ts --json`.
 */
describe('kill -9 of stcts send / receive with --state-dir', () => {
  it('3 seeded kill points (sender, receiver, both): 0 phrases lost, 0 duplicated, both exit 0', async () => {
    // Seed 11: the receiver dies after the 2nd phrase; 8: the sender after the 2nd; 20: both after the 2nd (runKillPoint's draws).
    const results = [];
    for (const seed of [11, 8, 20]) results.push(...(await runKill9(1, seed, undefined, 47600)));
    for (const r of results) {
      expect({ seed: r.seed, lost: r.lost, duplicated: r.duplicated, senderExit: r.senderExit, receiverExit: r.receiverExit }).toEqual({ seed: r.seed, lost: [], duplicated: [], senderExit: 0, receiverExit: 0 });
      expect(r.acceptedAtKill).toBeGreaterThan(0); // the kill came during the call
      expect(r.delivered).toBeGreaterThanOrEqual(r.accepted);
    }
    expect(new Set(results.map((r) => r.victim))).toEqual(new Set(['sender', 'receiver', 'both']));
  }, 300_000);
});
