import { describe, expect, it } from 'vitest';
import { runDaemonKillPoint } from '../../scripts/bench-kill9-daemon.ts';
import { withFixture } from '../../scripts/bench-kill9.ts';

/**
 * Kill -9 of the edge daemon (issue #16 item 5): two `stcts daemon` child processes with a
 * state_dir each (real recognizer and synthesizer, ws:// on loopback); SIGKILL of the sending
 * daemon, the receiving one or both at seeded points of a call, restart on the same config. Every
 * phrase the ship accepted is played by the shore exactly once. The full run (20 points) is
 * `node --import tsx scripts/bench-kill9-daemon.ts --json`.
 */
describe('kill -9 of stcts daemon with state_dir', () => {
  it('3 seeded kill points (ship, shore, both): 0 phrases lost, 0 duplicated, no outbox left, clean exits', async () => {
    await withFixture(async (wav) => {
      // Seed 7: the ship dies after its 1st phrase; 6: the shore; 2: both (runDaemonKillPoint's draws).
      const results = [];
      for (const seed of [7, 6, 2]) results.push(await runDaemonKillPoint(seed, wav, 47900 + seed));
      for (const r of results) {
        expect({ seed: r.seed, lost: r.lost, duplicated: r.duplicated, shipExit: r.shipExit, shoreExit: r.shoreExit, outboxesLeft: r.outboxesLeft }).toEqual({ seed: r.seed, lost: [], duplicated: [], shipExit: 0, shoreExit: 0, outboxesLeft: 0 });
        expect(r.acceptedAtKill).toBeGreaterThan(0); // the kill came during the call
        expect(r.delivered).toBe(r.accepted);
      }
      expect(new Set(results.map((r) => r.victim))).toEqual(new Set(['sender', 'receiver', 'both']));
    });
  }, 400_000);
});
