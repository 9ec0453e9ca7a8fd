/**
 * Kill-9 runs (issue #16 item 5): `stcts send … --state-dir` and `stcts receive … --state-dir` as
 * child processes over udp:// on loopback; at a seeded point of the call one side (or both) gets
 * SIGKILL and is restarted with the same arguments. From the transcripts: phrases the sender
 * accepted that the receiver never wrote (lost), and phrases the receiver wrote twice (duplicated).
 *
 *   node --import tsx scripts/bench-kill9.ts [--points 20] [--seed 1] [--json]
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../src/transport/prng.ts';
import { BIN, exited, isMain, numberArg, reportPhraseKills, runPoints, sleep, startStcts } from './kill9-common.ts';

const TEXT = 'The quick brown fox jumps over the lazy dog. We will meet at the harbour at noon. Please bring the charts and the radio. The weather looks fine for tomorrow morning. Call me when you arrive at the station.';

export type Victim = 'sender' | 'receiver' | 'both';

export interface KillPointResult {
  seed: number;
  victim: Victim;
  /** The kill came `delayMs` after the sender's transcript showed `afterPhrases` accepted phrases. */
  afterPhrases: number;
  delayMs: number;
  killAtMs: number;
  /** Phrases in the sender's transcript when the kill came (the call was under way when > 0). */
  acceptedAtKill: number;
  accepted: number;
  delivered: number;
  lost: number[];
  duplicated: number[];
  senderExit: number | null;
  receiverExit: number | null;
  seconds: number;
}

/** A WAV fixture made with the project's TTS (nothing downloads). */
export function makeFixture(dir: string): string {
  const wav = join(dir, 'in.wav');
  const r = spawnSync(process.execPath, [BIN, 'say', TEXT, '-o', wav], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`stcts say failed: ${r.stderr}`);
  return wav;
}

function seqsOf(path: string): number[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).flatMap((l) => {
    try { return [(JSON.parse(l) as { seq: number }).seq]; } catch { return []; }
  });
}

const start = startStcts;

async function listening(log: string[], timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while (!log.join('').includes('listening on')) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`receiver did not listen: ${log.join('')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}


/**
 * One seeded kill point: which side dies, after how many accepted phrases (1..3 of the fixture's
 * 3) and how long after that (0..1500 ms: mid-phrase, mid-ack, around the End) come from `seed`.
 */
export async function runKillPoint(seed: number, wav: string, port: number): Promise<KillPointResult> {
  const rnd = mulberry32(seed);
  const victim: Victim = (['sender', 'receiver', 'both'] as const)[Math.floor(rnd() * 3)]!;
  const afterPhrases = 1 + Math.floor(rnd() * 3);
  const delayMs = Math.round(rnd() * 1500);
  const dir = mkdtempSync(join(tmpdir(), `stcts-kill9-${seed}-`));
  const t0 = performance.now();
  const url = `udp://127.0.0.1:${port}`;
  const st = join(dir, 'sent.jsonl');
  const rt = join(dir, 'received.jsonl');
  const sendArgs = ['send', wav, '--to', url, '--fast', '--quiet', '--state-dir', join(dir, 'send-state'), '--transcript', st];
  const recvArgs = ['receive', '--listen', url, '-o', join(dir, 'out.wav'), '--state-dir', join(dir, 'recv-state'), '--transcript', rt];
  const rlog: string[] = [];
  const slog: string[] = [];
  let receiver = start(recvArgs, rlog);
  await listening(rlog, 30_000);
  let sender = start(sendArgs, slog);
  const tSend = performance.now();
  while (seqsOf(st).length < afterPhrases && sender.exitCode === null && performance.now() - tSend < 60_000) await sleep(20);
  await sleep(delayMs);
  const killAtMs = Math.round(performance.now() - tSend);
  const acceptedAtKill = seqsOf(st).length;
  // Only a process that was still running is killed and restarted: a sender that already finished
  // (on a loaded machine the whole --fast call can end before the kill point) is not run again,
  // or it would start a second session towards a receiver that has ended the first.
  const killSender = victim !== 'receiver' && sender.exitCode === null;
  const killReceiver = victim !== 'sender' && receiver.exitCode === null;
  if (killSender) sender.kill('SIGKILL');
  if (killReceiver) receiver.kill('SIGKILL');
  await sleep(300);
  if (killReceiver) {
    await exited(receiver, 5000);
    rlog.length = 0;
    receiver = start(recvArgs, rlog);
    await listening(rlog, 30_000);
  }
  if (killSender) {
    await exited(sender, 5000);
    sender = start(sendArgs, slog);
  }
  const senderExit = await exited(sender, 120_000);
  const receiverExit = await exited(receiver, 90_000);
  const sent = seqsOf(st);
  const got = seqsOf(rt);
  const gotSet = new Set(got);
  const result: KillPointResult = {
    seed, victim, afterPhrases, delayMs, killAtMs, acceptedAtKill,
    accepted: new Set(sent).size,
    delivered: gotSet.size,
    lost: [...new Set(sent)].filter((s) => !gotSet.has(s)),
    duplicated: got.filter((s, i) => got.indexOf(s) !== i),
    senderExit, receiverExit,
    seconds: (performance.now() - t0) / 1000,
  };
  if (senderExit !== 0 || receiverExit !== 0) process.stderr.write(`seed ${seed}: sender ${senderExit} receiver ${receiverExit}\n${slog.join('')}\n${rlog.join('')}\n`);
  rmSync(dir, { recursive: true, force: true });
  return result;
}

/** Runs `fn` with the TTS-made WAV fixture in a temporary directory (removed afterwards). */
export async function withFixture<T>(fn: (wav: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'stcts-kill9-fixture-'));
  try {
    return await fn(makeFixture(dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function runKill9(points: number, seed0: number, onResult?: (r: KillPointResult) => void, basePort = 47100): Promise<KillPointResult[]> {
  return withFixture((wav) => runPoints(points, seed0, (seed) => runKillPoint(seed, wav, basePort + (seed % 500)), onResult));
}

if (isMain(import.meta.url)) {
  const arg = numberArg;
  const json = process.argv.includes('--json');
  const results = await runKill9(arg('points', 20), arg('seed', 1), (r) => {
    if (!json) process.stderr.write(`seed ${r.seed}: kill ${r.victim} ${r.delayMs} ms after phrase ${r.afterPhrases} (${r.killAtMs} ms, ${r.acceptedAtKill} accepted then): ${r.accepted} accepted, ${r.delivered} delivered, lost [${r.lost}], duplicated [${r.duplicated}] (${r.seconds.toFixed(1)} s)\n`);
  });
  reportPhraseKills(results, (r) => r.senderExit !== 0 || r.receiverExit !== 0, json);
}
