/**
 * Kill-9 runs of the edge daemon (issue #16 item 5): two `stcts daemon` child processes with a
 * `state_dir` each on loopback (ship dials shore over ws://, real recognizer and synthesizer); the
 * ship plays a WAV once as a local user's microphone (`--wav-loop IN.wav --loops 1`). At a seeded
 * point of the call the ship, the shore or both get SIGKILL and are started again with the same
 * config (the ship without the microphone: that user is gone, what was accepted must still arrive).
 * From the two `--transcript` files: phrases the ship accepted that the shore never played (lost),
 * and phrases the shore played twice (duplicated), by (session, seq).
 *
 *   node --import tsx scripts/bench-kill9-daemon.ts [--points 20] [--seed 1] [--json]
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulberry32 } from '../src/transport/prng.ts';
import { type Victim, withFixture } from './bench-kill9.ts';
import { exited, isMain, numberArg, reportPhraseKills, runPoints, sleep, startStcts } from './kill9-common.ts';

const PSK = '5c0e1b7f3a9d2e4c6b8a0f1e3d5c7b9a5c0e1b7f3a9d2e4c6b8a0f1e3d5c7b9a';

export interface DaemonKillPointResult {
  seed: number;
  victim: Victim;
  afterPhrases: number;
  delayMs: number;
  /** Phrases the ship had accepted when the kill came (> 0: during the call). */
  acceptedAtKill: number;
  accepted: number;
  delivered: number;
  lost: string[];
  duplicated: string[];
  /** Exit codes after the final SIGTERM (0: clean stop). */
  shipExit: number | null;
  shoreExit: number | null;
  /** Unacknowledged outgoing sessions left in the ship's state dir at the end (0 when all arrived). */
  outboxesLeft: number;
  seconds: number;
}

function writeConfigs(dir: string, port: number): { ship: string; shore: string } {
  writeFileSync(join(dir, 'psk'), PSK + '\n', { mode: 0o600 });
  const common = `http: { listen: "127.0.0.1:0" }\ncodec: { mode: balanced, text: lm }\nlog: { level: info }\n`;
  const shore = join(dir, 'shore.yaml');
  const ship = join(dir, 'ship.yaml');
  writeFileSync(shore, `node: shore\n${common}link: { listen: "127.0.0.1:${port}" }\nstate_dir: shore-state\npeers:\n  - { name: ship, psk_file: psk, bits_per_second: 2400 }\n`);
  writeFileSync(ship, `node: ship\n${common}state_dir: ship-state\npeers:\n  - { name: shore, url: "ws://127.0.0.1:${port}", psk_file: psk, bits_per_second: 2400 }\n`);
  return { ship, shore };
}

interface Line { dir: string; session: number; seq: number }

function linesOf(path: string, dir: 'in' | 'out'): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').flatMap((l) => {
    try {
      const x = JSON.parse(l) as Line;
      return x.dir === dir ? [`${x.session}:${x.seq}`] : [];
    } catch {
      return [];
    }
  });
}

const start = startStcts;

async function logged(log: string[], text: string, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while (!log.join('').includes(text)) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`no '${text}' in the daemon's log: ${log.join('').slice(-2000)}`);
    await sleep(50);
  }
}

function outboxesIn(stateDir: string): number {
  const d = join(stateDir, 'peers', 'shore');
  return existsSync(d) ? readdirSync(d).filter((f) => /^out-\d+\.journal$/.test(f)).length : 0;
}

/**
 * One seeded kill point: which side dies, after how many accepted phrases (1..3) and how long after
 * that (0..1500 ms: mid-phrase, mid-ack, around the End) come from `seed`.
 */
export async function runDaemonKillPoint(seed: number, wav: string, port: number): Promise<DaemonKillPointResult> {
  const rnd = mulberry32(seed);
  const victim: Victim = (['sender', 'receiver', 'both'] as const)[Math.floor(rnd() * 3)]!;
  const afterPhrases = 1 + Math.floor(rnd() * 3);
  const delayMs = Math.round(rnd() * 1500);
  const dir = mkdtempSync(join(tmpdir(), `stcts-dkill9-${seed}-`));
  const t0 = performance.now();
  const cfg = writeConfigs(dir, port);
  const shipT = join(dir, 'ship.jsonl');
  const shoreT = join(dir, 'shore.jsonl');
  const shoreArgs = ['daemon', '--config', cfg.shore, '--transcript', shoreT];
  const shipArgs = ['daemon', '--config', cfg.ship, '--transcript', shipT];
  const shoreLog: string[] = [];
  const shipLog: string[] = [];
  let shore = start(shoreArgs, shoreLog);
  let ship: ChildProcess | undefined;
  try {
    await logged(shoreLog, 'daemon started', 60_000);
    ship = start([...shipArgs, '--wav-loop', wav, '--loops', '1'], shipLog);
    const tCall = performance.now();
    while (linesOf(shipT, 'out').length < afterPhrases && !shipLog.join('').includes('call ended') && performance.now() - tCall < 120_000) await sleep(20);
    await sleep(delayMs);
    const acceptedAtKill = linesOf(shipT, 'out').length;
    const callEnded = shipLog.join('').includes('call ended');
    const killShip = victim !== 'receiver';
    const killShore = victim !== 'sender';
    if (killShip) ship.kill('SIGKILL');
    if (killShore) shore.kill('SIGKILL');
    if (killShore) {
      await exited(shore, 5000);
      shoreLog.length = 0;
      shore = start(shoreArgs, shoreLog);
      await logged(shoreLog, 'daemon started', 60_000);
    }
    if (killShip) {
      await exited(ship, 5000);
      // Restarted without the microphone: that user is gone; what it had said must still arrive.
      ship = start(shipArgs, shipLog);
      await logged(shipLog, 'daemon started', 60_000);
    }
    // Done when the ship's call (if it still runs) has ended, no outgoing session waits for acks, and the shore played everything accepted.
    const deadline = performance.now() + 180_000;
    for (;;) {
      const out = linesOf(shipT, 'out');
      const got = new Set(linesOf(shoreT, 'in'));
      const callDone = killShip || callEnded || shipLog.join('').includes('call ended');
      if (callDone && outboxesIn(join(dir, 'ship-state')) === 0 && out.every((k) => got.has(k))) break;
      if (performance.now() > deadline) break;
      await sleep(200);
    }
    await sleep(1500); // a late duplicate would show now
    const outboxesLeft = outboxesIn(join(dir, 'ship-state'));
    ship.kill('SIGTERM');
    shore.kill('SIGTERM');
    const shipExit = await exited(ship, 15_000);
    const shoreExit = await exited(shore, 15_000);
    const sent = linesOf(shipT, 'out');
    const got = linesOf(shoreT, 'in');
    const gotSet = new Set(got);
    const result: DaemonKillPointResult = {
      seed, victim, afterPhrases, delayMs, acceptedAtKill,
      accepted: new Set(sent).size,
      delivered: gotSet.size,
      lost: [...new Set(sent)].filter((k) => !gotSet.has(k)),
      duplicated: got.filter((k, i) => got.indexOf(k) !== i),
      shipExit, shoreExit, outboxesLeft,
      seconds: (performance.now() - t0) / 1000,
    };
    if (result.lost.length || result.duplicated.length || shipExit !== 0 || shoreExit !== 0) {
      process.stderr.write(`seed ${seed}: ${JSON.stringify(result)}\n--- ship\n${shipLog.join('').slice(-6000)}\n--- shore\n${shoreLog.join('').slice(-6000)}\n`);
    }
    return result;
  } finally {
    ship?.kill('SIGKILL');
    shore.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

export function runDaemonKill9(points: number, seed0: number, onResult?: (r: DaemonKillPointResult) => void, basePort = 47700): Promise<DaemonKillPointResult[]> {
  return withFixture((wav) => runPoints(points, seed0, (seed) => runDaemonKillPoint(seed, wav, basePort + (seed % 200)), onResult));
}

if (isMain(import.meta.url)) {
  const arg = numberArg;
  const json = process.argv.includes('--json');
  const results = await runDaemonKill9(arg('points', 20), arg('seed', 1), (r) => {
    if (!json) process.stderr.write(`seed ${r.seed}: kill ${r.victim} ${r.delayMs} ms after phrase ${r.afterPhrases} (${r.acceptedAtKill} accepted then): ${r.accepted} accepted, ${r.delivered} delivered, lost [${r.lost}], duplicated [${r.duplicated}], exits ${r.shipExit}/${r.shoreExit} (${r.seconds.toFixed(1)} s)\n`);
  });
  reportPhraseKills(results, (r) => r.shipExit !== 0 || r.shoreExit !== 0, json, { outboxesLeft: results.reduce((s, r) => s + r.outboxesLeft, 0) });
}
