import { describe, expect, it } from 'vitest';
import type { Frame } from '../../src/codec/frame/index.ts';
import { connectLink, LinkSession, listenLink } from '../../src/transport/index.ts';

const f = (seq: number, payload: Frame['payload']): Frame => ({ version: 1, sessionId: 555, seq, time: seq, payload });

describe('live link over a real loopback WebSocket', () => {
  it('delivers every frame once, in order, across a forced disconnect (session resume)', async () => {
    const received: Frame[] = [];
    let serverSession: LinkSession | undefined;
    let sockets = 0;
    const server = await listenLink({
      host: '127.0.0.1',
      port: 0,
      sessionFor: () => {
        serverSession = new LinkSession(555, { sender: { bitsPerSecond: 100_000 } });
        void (async () => {
          for await (const fr of serverSession!.frames()) received.push(fr);
        })();
        return serverSession;
      },
    });
    const client = new LinkSession(555, { sender: { bitsPerSecond: 100_000, initialRtoMs: 200, minRtoMs: 100, maxRtoMs: 400 } });
    const conn = connectLink(`ws://127.0.0.1:${server.port}`, client, { maxBackoffMs: 200, onState: (s) => { if (s === 'connected') sockets++; } });
    try {
      const frames: Frame[] = [f(0, { type: 'speakerProfile', id: 1, profile: new Uint8Array(20) })];
      for (let i = 1; i <= 30; i++) frames.push(f(i, { type: 'text', coding: 'utf8', coded: new TextEncoder().encode(`PHRASE ${i}`) }));
      for (const fr of frames.slice(0, 15)) client.send(fr);
      await until(() => received.length >= 5);
      // Cut the connection from the server side: the client reconnects and resumes.
      await server.close().catch(() => {});
      const server2 = await listenLink({ host: '127.0.0.1', port: server.port, sessionFor: () => serverSession! });
      for (const fr of frames.slice(15)) client.send(fr);
      await until(() => received.length >= frames.length, 10_000);
      await server2.close();
      expect(received.map((r) => r.seq)).toEqual(frames.map((x) => x.seq));
      expect(received.filter((r) => r.payload.type === 'speakerProfile')).toHaveLength(1);
      expect(sockets).toBeGreaterThanOrEqual(2);
    } finally {
      conn.close();
      client.close();
      serverSession?.close();
    }
  });
});

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
