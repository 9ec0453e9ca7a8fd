import { existsSync, readFileSync } from 'node:fs';
import { WebSocket } from 'ws';

export interface TalkMessage { type: string; session?: number; seq?: number; text?: string; code?: string }

/** A shore client on `/talk`: sends `pcm` in 100-ms messages, then `{"end":true}`; resolves with every message the gateway sent until it closed. */
export function talk(port: number, vessel: string, pcm: Int16Array, o: { end?: boolean; paceMs?: number; timeoutMs?: number } = {}): Promise<TalkMessage[]> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/talk?vessel=${vessel}`);
  const got: TalkMessage[] = [];
  return new Promise((resolve, reject) => {
    // Fails with what the gateway said so far (a diagnosis, not a bare test timeout).
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`talk to ${vessel}: the gateway did not close within ${o.timeoutMs ?? 45_000} ms; it sent ${JSON.stringify(got)}`));
    }, o.timeoutMs ?? 45_000);
    ws.on('message', (d) => got.push(JSON.parse(String(d)) as TalkMessage));
    ws.on('open', async () => {
      const bytes = new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
      for (let i = 0; i < bytes.length; i += 3200) {
        ws.send(bytes.subarray(i, i + 3200));
        if (o.paceMs) await new Promise((r) => setTimeout(r, o.paceMs));
      }
      if (o.end !== false) ws.send(JSON.stringify({ end: true }));
    });
    ws.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
    ws.on('error', reject);
  });
}

/** The phrases the vessel daemon played (its transcript file, `dir: in`). */
export function played(path: string): { session: number; seq: number; text: string }[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { dir: string; session: number; seq: number; text: string }).filter((l) => l.dir === 'in');
}
