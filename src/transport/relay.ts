import { WebSocket, WebSocketServer } from 'ws';
import { TransportError } from '../core/errors.ts';
import { LinkEmulator, type LinkOptions } from './emulator.ts';
import { MAX_PACKET_BYTES } from './packet.ts';
import { PROTECTION_OVERHEAD_BYTES } from './secure/index.ts';

export interface RelayStats {
  up: LinkEmulator['stats'];
  down: LinkEmulator['stats'];
  connections: number;
}

/**
 * A WebSocket proxy that applies the link emulator in both directions, in real time: what `stcts
 * relay` runs between `stcts send` and `stcts receive` to try a thin lossy link on one machine.
 */
/** A close code the relay may send on: 1000 or an application code (3000–4999); others become 1000. */
function passableCode(code: number): number {
  return code === 1000 || (code >= 3000 && code <= 4999) ? code : 1000;
}

export async function startRelay(listen: { host: string; port: number }, upstreamUrl: string, link: Partial<LinkOptions>): Promise<{ stats(): RelayStats; close(): Promise<void>; port: number }> {
  const up = new LinkEmulator(link);
  const down = new LinkEmulator({ ...link, seed: (link.seed ?? 1) * 7919 + 13 });
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  let connections = 0;
  const timers = new Set<NodeJS.Timeout>();
  const wss = new WebSocketServer({ host: listen.host, port: listen.port, maxPayload: MAX_PACKET_BYTES + PROTECTION_OVERHEAD_BYTES });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', (e) => reject(new TransportError('refused', `relay cannot listen on ${listen.host}:${listen.port}: ${e.message}`)));
  });
  const forward = (emu: LinkEmulator, data: Buffer, target: () => WebSocket | undefined) => {
    const v = emu.send(data.length, now());
    if (!v.delivered) return;
    const t = setTimeout(() => {
      timers.delete(t);
      const ws = target();
      if (ws?.readyState === WebSocket.OPEN) ws.send(data);
    }, Math.max(0, v.arriveAtMs - now()));
    timers.add(t);
  };
  wss.on('connection', (client) => {
    connections++;
    const upstream = new WebSocket(upstreamUrl, { maxPayload: MAX_PACKET_BYTES + PROTECTION_OVERHEAD_BYTES });
    upstream.on('error', () => client.close());
    // Pass an application close code on (4401: a refused key), so the sender learns why.
    upstream.on('close', (code: number) => client.close(passableCode(code)));
    client.on('close', (code: number) => upstream.close(passableCode(code)));
    client.on('message', (d: Buffer) => forward(up, d, () => upstream));
    upstream.on('message', (d: Buffer) => forward(down, d, () => client));
  });
  const address = wss.address();
  return {
    port: typeof address === 'object' && address ? address.port : listen.port,
    stats: () => ({ up: { ...up.stats }, down: { ...down.stats }, connections }),
    close: () => new Promise<void>((resolve) => {
      for (const t of timers) clearTimeout(t);
      for (const c of wss.clients) c.terminate();
      wss.close(() => resolve());
    }),
  };
}
