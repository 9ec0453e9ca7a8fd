import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CODEC2_ADDON, describeWith, RIGCTLD } from '../../fixtures/components.ts';
import { InvalidStateError, TransportError } from '../../../src/core/errors.ts';
import { meanPower } from '../../../src/transport/hf/index.ts';
import { FreedvLink, FreedvModem, SimulatedHfAudio } from '../../../src/transport/links/freedv/index.ts';
import { RigctldPtt } from '../../../src/transport/links/ptt/index.ts';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A real `rigctld -m 1` (hamlib's dummy rig) on a loopback port, ready to accept. */
async function startRigctld(extra: string[]): Promise<{ port: number; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn('rigctld', ['-m', '1', ...extra, '-T', '127.0.0.1', '-t', String(port)], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      const p = await RigctldPtt.connect({ port, timeoutMs: 500 });
      await p.close();
      return { port, proc };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  proc.kill();
  throw new Error('rigctld did not start');
}

describeWith('PTT through rigctld -m 1 (dummy rig)', [RIGCTLD], () => {
  let rig: { port: number; proc: ChildProcess };
  let refusing: { port: number; proc: ChildProcess };
  beforeAll(async () => {
    rig = await startRigctld(['-P', 'RIG']);
    refusing = await startRigctld([]);
  });
  afterAll(() => {
    rig?.proc.kill();
    refusing?.proc.kill();
  });

  it('keys, reads back and releases; close() releases a keyed transmitter', async () => {
    const ptt = await RigctldPtt.connect({ port: rig.port });
    const watch = await RigctldPtt.connect({ port: rig.port });
    try {
      expect(await watch.get()).toBe(false);
      await ptt.set(true);
      expect(await watch.get()).toBe(true);
      await ptt.set(false);
      expect(await watch.get()).toBe(false);
      await ptt.set(true);
      expect(ptt.keyings).toBe(2);
      await ptt.close();
      await ptt.close();
      expect(await watch.get()).toBe(false);
      await expect(ptt.set(true)).rejects.toBeInstanceOf(InvalidStateError);
    } finally {
      await watch.close();
    }
  });

  it('a rig without PTT is refused (hamlib error), nothing listening is refused', async () => {
    const ptt = await RigctldPtt.connect({ port: refusing.port });
    try {
      await expect(ptt.set(true)).rejects.toMatchObject({ constructor: TransportError, code: 'refused' });
    } finally {
      await ptt.close();
    }
    await expect(RigctldPtt.connect({ port: await freePort(), timeoutMs: 1000 })).rejects.toMatchObject({ code: 'refused' });
  });

  describeWith('around FreeDV link turns', [CODEC2_ADDON], () => {
    it('PTT is keyed while each turn is on the air and released after it', async () => {
      const probe = new FreedvModem({ mode: 'datac0' });
      const signalPower = meanPower(await probe.modulate(new Uint8Array(0)));
      await probe.close();
      const audio = new SimulatedHfAudio({ channel: { kind: 'awgn', snrDb: 10, seed: 5, signalPower } });
      const a = new FreedvLink(audio.a, { mode: 'datac0', txDelayMs: 200, txTailMs: 50, ptt: await RigctldPtt.connect({ port: rig.port }) });
      const b = new FreedvLink(audio.b, { mode: 'datac0' });
      const watch = await RigctldPtt.connect({ port: rig.port });
      try {
        let got = 0;
        let acks = 0;
        b.onDatagram((d) => {
          got++;
          b.send(Uint8Array.of(0xac, d[0]!));
        });
        a.onDatagram(() => acks++);
        const samples: Array<{ onAir: boolean; keyed: boolean }> = [];
        const run = async (seconds: number, until: () => boolean) => {
          for (let t = 0; t < seconds * 10 && !until(); t++) {
            await audio.step();
            samples.push({ onAir: audio.a.transmitting, keyed: await watch.get() });
          }
        };
        a.send(Uint8Array.of(1, 2, 3));
        await run(15, () => acks === 1);
        a.send(Uint8Array.of(4, 5, 6));
        await run(15, () => acks === 2);
        await run(1, () => false);
        expect(got).toBe(2);
        expect(acks).toBe(2);
        expect(a.stats.turns).toBe(2);
        expect(a.stats.pttKeyings).toBe(2);
        expect(a.stats.pttErrors).toBe(0);
        // Every step with audio still queued saw the rig keyed; keyed runs = turns; released at the end.
        expect(samples.filter((s) => s.onAir).every((s) => s.keyed)).toBe(true);
        const keyedRuns = samples.filter((s, i) => s.keyed && !samples[i - 1]?.keyed).length;
        expect(keyedRuns).toBe(2);
        expect(samples.at(-1)!.keyed).toBe(false);
        // Keyed for the turn's airtime (0.66 s of burst + 0.25 s delay/tail), not much longer.
        const keyedSteps = samples.filter((s) => s.keyed).length;
        expect(keyedSteps).toBeGreaterThanOrEqual(2 * 9);
        expect(keyedSteps).toBeLessThanOrEqual(2 * 11);
      } finally {
        await a.close();
        await b.close();
        await watch.close();
        audio.close();
      }
      const after = await RigctldPtt.connect({ port: rig.port });
      expect(await after.get()).toBe(false);
      await after.close();
    }, 60_000);
  });
});
