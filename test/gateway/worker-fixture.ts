import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/stcts.js', import.meta.url));

/** A gateway worker as its own process (`stcts gateway --role worker`), so it can be killed with SIGKILL; resolves once it is ready. */
export async function spawnWorker(configPath: string, id: string, timeoutMs = 60_000): Promise<ChildProcess> {
  const p = spawn(process.execPath, [BIN, 'gateway', '--config', configPath, '--role', 'worker', '--worker-id', id], { stdio: ['ignore', 'ignore', 'pipe'] });
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
