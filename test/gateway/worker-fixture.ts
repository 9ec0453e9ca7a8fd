import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/stcts.js', import.meta.url));

/**
 * A gateway worker as its own process (`stcts gateway --role worker`), so it can be killed with
 * SIGKILL; resolves once it is ready. `cpus`: pin it (and its addon threads) to these cores with
 * `taskset -c` (benchmarks that measure scaling per core).
 */
export async function spawnWorker(configPath: string, id: string, timeoutMs = 60_000, cpus?: string): Promise<ChildProcess> {
  const args = [BIN, 'gateway', '--config', configPath, '--role', 'worker', '--worker-id', id];
  const p = cpus === undefined
    ? spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn('taskset', ['-c', cpus, process.execPath, ...args], { stdio: ['ignore', 'ignore', 'pipe'] }); // taskset execs node: same pid
  await new Promise<void>((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`worker ${id} did not start: ${log}`)), timeoutMs);
    p.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      if (log.includes('gateway ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    p.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker ${id} exited (${code}): ${log}`));
    });
  });
  return p;
}
