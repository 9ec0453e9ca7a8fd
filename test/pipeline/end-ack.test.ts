import { describe, expect, it } from 'vitest';
import { TransportError } from '../../src/core/errors.ts';
import { untilAcknowledged } from '../../src/pipeline/live.ts';
import type { LinkSession } from '../../src/transport/link-session.ts';

/** A sender whose pending seqs follow `script` (one entry per 100-ms poll, the last repeated). */
function stub(script: number[][], rtoMs = 10): Pick<LinkSession, 'sender'> {
  let i = 0;
  const now = () => script[Math.min(i, script.length - 1)]!;
  const sender = {
    get idle() {
      const p = now();
      i++;
      return p.length === 0;
    },
    pendingSeqs: () => new Set(now()),
    rtoMs,
  };
  return { sender } as unknown as Pick<LinkSession, 'sender'>;
}

describe('send: waiting for the last acknowledgements', () => {
  it('returns true once everything is acknowledged', async () => {
    expect(await untilAcknowledged(stub([[3, 4], [4], []]), () => 4, () => undefined, undefined, 300)).toBe(true);
  });

  it('stops resending an End that is the only frame left after the patience (its ack lost, the receiver gone), with a message', async () => {
    const said: string[] = [];
    const t0 = performance.now();
    expect(await untilAcknowledged(stub([[4]]), () => 4, () => undefined, (s) => said.push(s), 300)).toBe(false);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(300);
    expect(said.join()).toMatch(/End was not/);
  });

  it('never gives up while a phrase is unacknowledged (outages are ridden out), and the patience is at least 8 RTOs', async () => {
    let stop: TransportError | undefined;
    const phrase = untilAcknowledged(stub([[3, 4]]), () => 4, () => stop, undefined, 100);
    const slowRto = untilAcknowledged(stub([[4]], 100), () => 4, () => undefined, undefined, 100);
    const t0 = performance.now();
    const first = await Promise.race([phrase.then(() => 'phrase'), slowRto.then(() => 'slowRto'), new Promise((r) => setTimeout(() => r('timeout'), 1200))]);
    expect(first).toBe('slowRto');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(800);
    stop = new TransportError('closed', 'test over');
    await expect(phrase).rejects.toBe(stop);
  });

  it('a fatal link error ends the wait with that error', async () => {
    const e = new TransportError('auth_failed', 'wrong key');
    await expect(untilAcknowledged(stub([[4]]), () => 4, () => e, undefined, 300)).rejects.toBe(e);
  });
});
