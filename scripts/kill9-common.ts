/** What the kill -9 benches (bench-kill9*.ts) share: child processes, waiting, seeded runs, the command line. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
export const BIN = join(ROOT, 'bin/stcts.js');

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `stcts ARGS…` as a child process; its stderr lines collect in `log` (bounded). */
export function startStcts(args: string[], log: string[]): ChildProcess {
  const c = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  c.stderr!.on('data', (d: Buffer) => {
    log.push(d.toString());
    if (log.length > 4000) log.splice(0, 2000);
  });
  return c;
}

/** The child's exit code (null: it was killed, or SIGKILLed here after `timeoutMs`). */
export function exited(c: ChildProcess, timeoutMs: number): Promise<number | null> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve(c.exitCode);
  return new Promise((r) => {
    const t = setTimeout(() => {
      c.kill('SIGKILL');
      r(null);
    }, timeoutMs);
    c.once('exit', (code) => {
      clearTimeout(t);
      r(code);
    });
  });
}

/** Points `seed0`, `seed0 + 1`, … one after the other. */
export async function runPoints<R>(points: number, seed0: number, run: (seed: number) => Promise<R>, onResult?: (r: R) => void): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < points; i++) {
    const r = await run(seed0 + i);
    onResult?.(r);
    out.push(r);
  }
  return out;
}

/** True when the module at `url` is the script node was started with. */
export const isMain = (url: string) => !!process.argv[1] && resolve(process.argv[1]) === fileURLToPath(url);

/** `--name N` of the command line, else `d`. */
export function numberArg(name: string, d: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
}

/** The fields every phrase-level kill point reports. */
export interface PhraseKillPoint {
  acceptedAtKill: number;
  accepted: number;
  lost: readonly unknown[];
  duplicated: readonly unknown[];
}

/** The summary of phrase-level kill points (`badExit`: a process did not stop cleanly), printed as JSON or one line. */
export function reportPhraseKills<R extends PhraseKillPoint>(results: R[], badExit: (r: R) => boolean, json: boolean, extra: Record<string, number> = {}): void {
  const summary = {
    points: results.length,
    midCall: results.filter((r) => r.acceptedAtKill > 0).length,
    phrasesAccepted: results.reduce((s, r) => s + r.accepted, 0),
    lost: results.reduce((s, r) => s + r.lost.length, 0),
    duplicated: results.reduce((s, r) => s + r.duplicated.length, 0),
    failedExits: results.filter(badExit).length,
    ...extra,
    results,
  };
  if (json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  else process.stderr.write(`${summary.points} kill points (${summary.midCall} mid-call): ${summary.phrasesAccepted} phrases accepted, ${summary.lost} lost, ${summary.duplicated} duplicated, ${summary.failedExits} bad exits${Object.entries(extra).map(([k, v]) => `, ${k} ${v}`).join('')}\n`);
}
