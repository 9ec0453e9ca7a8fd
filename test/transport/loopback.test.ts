import { describe, expect, it } from 'vitest';
import type { Frame } from '../../src/codec/frame/index.ts';
import { TransportError } from '../../src/core/errors.ts';
import { connectLink, LinkSession, listenLink } from '../../src/transport/index.ts';
import { startRelay } from '../../src/transport/relay.ts';
import { packetRoute } from '../../src/transport/link-packet.ts';
import { CLOSE_SESSION_HELD, RESUME_HEADER } from '../../src/transport/ws.ts';
import { WebSocket } from 'ws';
import { until } from '../fixtures/wait.ts';

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

describe('live link with a pre-shared key (stcts send/receive --psk-file)', () => {
  const PSK = 'loopback-test-key-0123456789';

  async function server(psk: string, received: Frame[], errors: TransportError[]) {
    let session: LinkSession | undefined;
    const s = await listenLink({
      host: '127.0.0.1',
      port: 0,
      security: { psk },
      onError: (e) => errors.push(e),
      sessionFor: () => {
        session = new LinkSession(555, { sender: { bitsPerSecond: 100_000 } });
        void (async () => {
          for await (const fr of session!.frames()) received.push(fr);
        })();
        return session;
      },
    });
    return { port: s.port, close: async () => { await s.close(); session?.close(); } };
  }

  it('authenticates both ways, then delivers sealed packets (10 bytes more each, counted)', async () => {
    const received: Frame[] = [];
    const errors: TransportError[] = [];
    const srv = await server(PSK, received, errors);
    const client = new LinkSession(555, { sender: { bitsPerSecond: 100_000 } });
    const conn = connectLink(`ws://127.0.0.1:${srv.port}`, client, { security: { psk: PSK }, onFatal: (e) => errors.push(e) });
    try {
      for (let i = 0; i < 5; i++) {
        const fr = f(i, { type: 'text', coding: 'utf8', coded: new TextEncoder().encode(`PHRASE ${i}`) });
        client.send(fr);
      }
      await until(() => received.length >= 5);
      expect(received.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4]);
      expect(errors).toEqual([]);
      // Bits out = the packets' own bits + 10 bytes of protection on each (+ the ack sent on attach).
      const packetBits = Object.values(client.sender.stats.bitsByStream).reduce((a, b) => a + b, 0);
      const extra = client.bitsOut - packetBits - client.sender.stats.packets * 80;
      expect(extra).toBeGreaterThanOrEqual(0);
      expect(extra).toBeLessThanOrEqual(2 * (32 + 10) * 8);
    } finally {
      conn.close();
      client.close();
      await srv.close();
    }
  });

  it('a wrong key is refused on both sides with auth_failed; nothing is delivered and the client stops retrying', async () => {
    const received: Frame[] = [];
    const serverErrors: TransportError[] = [];
    const srv = await server(PSK, received, serverErrors);
    const fatal: TransportError[] = [];
    let connects = 0;
    const client = new LinkSession(555, { sender: { bitsPerSecond: 100_000 } });
    const conn = connectLink(`ws://127.0.0.1:${srv.port}`, client, { security: { psk: 'not-the-right-key-0123456789' }, maxBackoffMs: 50, onFatal: (e) => fatal.push(e), onState: (s) => { if (s === 'connected') connects++; } });
    try {
      client.send(f(0, { type: 'text', coding: 'utf8', coded: new TextEncoder().encode('SECRET') }));
      await until(() => fatal.length > 0 && serverErrors.length > 0);
      await new Promise((r) => setTimeout(r, 300));
      expect(fatal).toHaveLength(1);
      expect(fatal[0]!.code).toBe('auth_failed');
      expect(serverErrors.map((e) => e.code)).toEqual(['auth_failed']); // one attempt: no retry loop
      expect(received).toEqual([]);
      expect(connects).toBe(0);
    } finally {
      conn.close();
      client.close();
      await srv.close();
    }
  });

  it('through `stcts relay`: the right key gets through, a wrong one is still told so (close code passed on)', async () => {
    const received: Frame[] = [];
    const errors: TransportError[] = [];
    const srv = await server(PSK, received, errors);
    const relay = await startRelay({ host: '127.0.0.1', port: 0 }, `ws://127.0.0.1:${srv.port}`, { bitsPerSecond: 100_000, seed: 1 });
    const fatal: TransportError[] = [];
    const wrong = new LinkSession(555, { sender: { bitsPerSecond: 100_000 } });
    const right = new LinkSession(555, { sender: { bitsPerSecond: 100_000 } });
    const c1 = connectLink(`ws://127.0.0.1:${relay.port}`, wrong, { security: { psk: 'not-the-right-key-0123456789' }, maxBackoffMs: 50, onFatal: (e) => fatal.push(e) });
    try {
      await until(() => fatal.length > 0);
      expect(fatal[0]!.code).toBe('auth_failed');
      c1.close();
      const c2 = connectLink(`ws://127.0.0.1:${relay.port}`, right, { security: { psk: PSK }, onFatal: (e) => fatal.push(e) });
      right.send(f(0, { type: 'text', coding: 'utf8', coded: new TextEncoder().encode('VIA THE RELAY') }));
      await until(() => received.length > 0);
      c2.close();
      expect(received.map((r) => r.seq)).toEqual([0]);
      expect(fatal).toHaveLength(1);
    } finally {
      wrong.close();
      right.close();
      await relay.close();
      await srv.close();
    }
  });

  it('a plain client gets nothing through a protected server', async () => {
    const received: Frame[] = [];
    const errors: TransportError[] = [];
    const srv = await server(PSK, received, errors);
    const client = new LinkSession(555, { sender: { bitsPerSecond: 100_000 } });
    const fatal: TransportError[] = [];
    const conn = connectLink(`ws://127.0.0.1:${srv.port}`, client, { maxBackoffMs: 100, onFatal: (e) => fatal.push(e) });
    try {
      client.send(f(0, { type: 'text', coding: 'utf8', coded: new TextEncoder().encode('HELLO') }));
      await until(() => errors.length > 0 && fatal.length > 0);
      await new Promise((r) => setTimeout(r, 300));
      expect(received).toEqual([]);
      // The client learns that a key is required and stops instead of reconnecting forever.
      expect(fatal.map((e) => e.code)).toEqual(['auth_failed']);
      expect(fatal[0]!.message).toMatch(/pre-shared key/);
      expect(errors).toHaveLength(1);
    } finally {
      conn.close();
      client.close();
      await srv.close();
    }
  });
});


describe('plain receiver: no session takeover (issue #20 item 5)', () => {
  it('a connection from another address naming an established session is closed with 4403; the owner goes on', async () => {
    const received: Frame[] = [];
    const errors: TransportError[] = [];
    let serverSession: LinkSession | undefined;
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
      onError: (e) => errors.push(e),
    });
    const text = (i: number, s: string) => f(i, { type: 'text', coding: 'utf8', coded: new TextEncoder().encode(s) });
    const owner = new LinkSession(555, { sender: { bitsPerSecond: 100_000, initialRtoMs: 200, minRtoMs: 100, maxRtoMs: 400 } });
    const conn = connectLink(`ws://127.0.0.1:${server.port}`, owner, { maxBackoffMs: 200 });
    // The intruder's first packet names session 555 in full, as a resume would.
    const intruder = new LinkSession(555, { sender: { bitsPerSecond: 100_000 } });
    const packets: Uint8Array[] = [];
    intruder.attach({ connected: true, send: (p) => void packets.push(p) });
    try {
      for (let i = 0; i < 5; i++) owner.send(text(i, `OWNER ${i}`));
      await until(() => received.length >= 5);
      intruder.send(text(5, 'INTRUDER'));
      await until(() => packets.length > 0);
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}`, { localAddress: '127.0.0.2' });
      await new Promise((r) => ws.once('open', r));
      ws.send(packets[0]!);
      expect(await new Promise<number>((r) => ws.once('close', (code) => r(code)))).toBe(CLOSE_SESSION_HELD);
      expect(errors.map((e) => [e.code, e.details?.reason])).toContainEqual(['refused', 'session_held']);
      for (let i = 5; i < 10; i++) owner.send(text(i, `OWNER ${i}`));
      await until(() => received.length >= 10);
      expect(received.map((r) => new TextDecoder().decode((r.payload as { coded: Uint8Array }).coded))).toEqual(Array.from({ length: 10 }, (_, i) => `OWNER ${i}`));
    } finally {
      conn.close();
      owner.close();
      intruder.close();
      serverSession?.close();
      await server.close();
    }
  });
  it('a session is bound to its resume secret: without it (same address) or with another, refused; with it, from another address, resumed; after a receiver restart, still refused', async () => {
    const received: Frame[] = [];
    const errors: TransportError[] = [];
    const store = new Map<number, string>();
    const resumeSecrets = { get: (id: number) => store.get(id), set: (id: number, v: string) => void store.set(id, v) };
    const sessions: LinkSession[] = [];
    const serve = () =>
      listenLink({
        host: '127.0.0.1',
        port: 0,
        resumeSecrets,
        sessionFor: () => {
          const s = new LinkSession(555, { sender: { bitsPerSecond: 100_000 } });
          sessions.push(s);
          void (async () => {
            for await (const fr of s.frames()) received.push(fr);
          })();
          return s;
        },
        onError: (e) => errors.push(e),
      });
    let server = await serve();
    const SECRET = 'a1'.repeat(16);
    const text = (i: number, s: string) => f(i, { type: 'text', coding: 'utf8', coded: new TextEncoder().encode(s) });
    const owner = new LinkSession(555, { sender: { bitsPerSecond: 100_000, initialRtoMs: 200, minRtoMs: 100, maxRtoMs: 400 } });
    let connects = 0;
    let conn = connectLink(`ws://127.0.0.1:${server.port}`, owner, { maxBackoffMs: 200, resumeSecret: SECRET, onState: (st) => void (st === 'connected' && connects++) });
    /** The first packet of a session sending frame `seq` (it names session 555 in full, as a resume does). */
    const firstPacket = async (seq: number, words: string) => {
      const s = new LinkSession(555, { sender: { bitsPerSecond: 100_000 } });
      const packets: Uint8Array[] = [];
      s.attach({ connected: true, send: (p) => void packets.push(p) });
      s.send(text(seq, words));
      // (The one that names the session in full, as a first packet after a reconnect does.)
      await until(() => packets.some((p) => 'sessionId' in (packetRoute(p) ?? {})));
      s.close();
      return packets.find((p) => 'sessionId' in (packetRoute(p) ?? {}))!;
    };
    /** A raw connection that sends `packet`: the close code, or 'open' if it is still open after 400 ms. */
    const attempt = async (packet: Uint8Array, o: { from?: string; secret?: string }) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}`, { localAddress: o.from ?? '127.0.0.1', ...(o.secret ? { headers: { [RESUME_HEADER]: o.secret } } : {}) });
      await new Promise((r) => ws.once('open', r));
      const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
      ws.send(packet);
      const r = await Promise.race([closed, new Promise<'open'>((r) => setTimeout(() => r('open'), 400))]);
      ws.terminate();
      return r;
    };
    try {
      for (let i = 0; i < 5; i++) owner.send(text(i, `OWNER ${i}`));
      await until(() => received.length >= 5);
      expect(store.get(555)).toBe(SECRET);
      const intruder = await firstPacket(5, 'INTRUDER');
      // From the owner's own address (one NAT, another process), without the secret or with a guess: refused.
      expect(await attempt(intruder, {})).toBe(CLOSE_SESSION_HELD);
      expect(await attempt(intruder, { secret: 'b2'.repeat(16) })).toBe(CLOSE_SESSION_HELD);
      expect(errors.filter((e) => e.details?.reason === 'session_held')).toHaveLength(2);
      // The owner's secret from another address (its NAT mapping moved): taken over (the owner's old
      // connection is dropped; its own reconnect, the newest, then takes the session back: no 4403 either way).
      const before = connects;
      expect(await attempt(await firstPacket(5, 'OWNER 5'), { from: '127.0.0.2', secret: SECRET })).not.toBe(CLOSE_SESSION_HELD);
      await until(() => connects > before);
      expect(errors.filter((e) => e.details?.reason === 'session_held')).toHaveLength(2);
      for (let i = 5; i < 10; i++) owner.send(text(i, `OWNER ${i}`));
      await until(() => received.length >= 10);
      expect(received.map((r) => new TextDecoder().decode((r.payload as { coded: Uint8Array }).coded))).toEqual(Array.from({ length: 10 }, (_, i) => `OWNER ${i}`));
      // A restarted receiver (the store is its state dir) still refuses a stranger naming the session.
      conn.close();
      await server.close();
      server = await serve();
      expect(await attempt(intruder, {})).toBe(CLOSE_SESSION_HELD);
      expect(sessions).toHaveLength(1);
      conn = connectLink(`ws://127.0.0.1:${server.port}`, owner, { maxBackoffMs: 200, resumeSecret: SECRET });
      owner.send(text(10, 'OWNER 10'));
      await until(() => sessions.length === 2);
      expect(errors.filter((e) => e.details?.reason === 'session_held')).toHaveLength(3);
    } finally {
      conn.close();
      owner.close();
      for (const s of sessions) s.close();
      await server.close();
    }
  });
});
