import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { parseConfig, startDaemon, WavLoopEndpoint, type Daemon } from '../../src/daemon/index.ts';
import { createLogger, silentLogger } from '../../src/core/log.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { FakeAsr, FakeTts, toneBursts } from './fakes.ts';
import { until as waitUntil } from '../fixtures/wait.ts';

const PSK = 'a-test-psk-0123456789abcdef';
const engines = { asr: async () => new FakeAsr(), tts: async () => new FakeTts() };
const running: Daemon[] = [];

afterEach(async () => {
  for (const d of running.splice(0)) await d.close();
});

function config(node: string, extra: string): ReturnType<typeof parseConfig> {
  return parseConfig(`node: ${node}\nhttp: { listen: "127.0.0.1:0" }\ncodec: { mode: balanced, text: utf8 }\n${extra}`);
}

async function pair(emulator = '', bPort = 0, aPsk = PSK): Promise<{ a: Daemon; b: Daemon }> {
  const b = await startDaemon(config('shore', `link: { listen: "127.0.0.1:${bPort}" }\npeers:\n  - { name: ship, psk: "${PSK}", bits_per_second: 4000 }\n${emulator}`), { engines, log: silentLogger, lingerMs: 500 });
  running.push(b);
  const a = await startDaemon(config('ship', `peers:\n  - { name: shore, url: "ws://127.0.0.1:${b.linkPort}", psk: "${aPsk}", bits_per_second: 4000 }\n${emulator}`), { engines, log: silentLogger, lingerMs: 500 });
  running.push(a);
  return { a, b };
}

const until = (cond: () => boolean, timeoutMs = 20_000) => waitUntil(cond, timeoutMs, 25);

describe('edge daemon: two daemons over loopback', () => {
  it('delivers every phrase in order, both directions, through a seeded lossy emulator', async () => {
    const { a, b } = await pair('emulator: { bits_per_second: 4000, loss: 0.2, burst: 3, delay_ms: 40, jitter_ms: 20, seed: 7 }');
    await until(() => a.metrics().peers[0]!.state === 'connected');
    // Real-time microphones (6 s): phrases go out one by one, so losses hit data packets too.
    const epA = new WavLoopEndpoint(toneBursts(12, 250, 250), { id: 'a', chunkMs: 50 });
    const epB = new WavLoopEndpoint(toneBursts(8, 250, 500), { id: 'b', chunkMs: 50 });
    const callA = a.host.attach(epA);
    const callB = b.host.attach(epB);
    await Promise.all([callA, callB]);
    await until(() => epB.heard.length >= 12 && epA.heard.length >= 8);
    expect(epA.sent).toEqual(Array.from({ length: 12 }, (_, i) => `PHRASE ${i + 1}`));
    expect(epB.heard).toEqual(epA.sent);
    expect(epA.heard).toEqual(epB.sent);
    expect(epB.heardMs).toBeGreaterThan(0);
    const ma = a.metrics();
    const mb = b.metrics();
    expect(ma.peers[0]!.packetsLostOut + mb.peers[0]!.packetsLostOut).toBeGreaterThan(0);
    expect(ma.peers[0]!.retransmissions + mb.peers[0]!.retransmissions).toBeGreaterThan(0);
    // What one side lost on the way out, the other counted as gaps in the packet numbers.
    expect(mb.peers[0]!.packetsLostIn).toBe(ma.peers[0]!.packetsLostOut);
    expect(ma.peers[0]!.bitsOut.text).toBeGreaterThan(0);
    expect(ma.peers[0]!.bitsOut.overhead).toBe(ma.peers[0]!.packetsOut * 80);
  });
});

describe('edge daemon: two daemons over a UDP link (#14, #20)', () => {
  it('peers[].url udp:// and link.listen udp://: the Noise handshake, then calls both ways, every phrase once and in order', async () => {
    const b = await startDaemon(config('shore', `link: { listen: "udp://127.0.0.1:0" }\npeers:\n  - { name: ship, psk: "${PSK}", bits_per_second: 4000 }\n`), { engines, log: silentLogger, lingerMs: 500 });
    running.push(b);
    expect(b.linkPort).toBeUndefined();
    expect(b.linkUdpPort).toBeGreaterThan(0);
    const a = await startDaemon(config('ship', `peers:\n  - { name: shore, url: "udp://127.0.0.1:${b.linkUdpPort}", psk: "${PSK}", bits_per_second: 4000 }\n`), { engines, log: silentLogger, lingerMs: 500 });
    running.push(a);
    await until(() => a.metrics().peers[0]!.state === 'connected' && b.metrics().peers[0]!.state === 'connected');
    // Real-time microphones (both calls overlap, so each side hears the other while it talks).
    const epA = new WavLoopEndpoint(toneBursts(8, 250, 250), { id: 'a', chunkMs: 50 });
    const epB = new WavLoopEndpoint(toneBursts(6, 250, 400), { id: 'b', chunkMs: 50 });
    await Promise.all([a.host.attach(epA), b.host.attach(epB)]);
    await until(() => epB.heard.length >= 8 && epA.heard.length >= 6);
    expect(epB.heard).toEqual(Array.from({ length: 8 }, (_, i) => `PHRASE ${i + 1}`));
    expect(epA.heard).toEqual(epB.sent);
    const ma = a.metrics().peers[0]!;
    expect(ma.connects).toBe(1);
    expect(ma.bitsOut.text).toBeGreaterThan(0);
    expect(b.metrics().peers[0]!.packetsIn).toBe(ma.packetsOut);
    expect(ma.kind).toBe('udp');
    expect(b.metrics().peers[0]!.kind).toBe('udp');
    // UDP airtime: wire bytes (payload + 10 protection + 28 IP/UDP) at the 4000 bit/s budget.
    expect(ma.airtimeSecondsOut).toBeGreaterThan(0);
    expect(ma.lossIn).toBe(0);
  });

  it('the UDP listener restarts mid-call on the same port: the dialer handshakes again after its silence limit, no text is lost', async () => {
    const shore = (port: number) => startDaemon(config('shore', `link: { listen: "udp://127.0.0.1:${port}" }\npeers:\n  - { name: ship, psk: "${PSK}", bits_per_second: 4000 }\n`), { engines, log: silentLogger, lingerMs: 500 });
    const b = await shore(0);
    running.push(b);
    const port = b.linkUdpPort!;
    const a = await startDaemon(config('ship', `peers:\n  - { name: shore, url: "udp://127.0.0.1:${port}", psk: "${PSK}", bits_per_second: 4000 }\n`), { engines, log: silentLogger, lingerMs: 500 });
    running.push(a);
    const epA = new WavLoopEndpoint(toneBursts(24, 200, 300), { id: 'a', chunkMs: 50 });
    const listen1 = new WavLoopEndpoint(new Int16Array(800), { id: 'b1', loops: Infinity, chunkMs: 50 });
    const l1 = b.host.attach(listen1);
    const call = a.host.attach(epA);
    await until(() => listen1.heard.length >= 3);
    await b.close();
    running.splice(running.indexOf(b), 1);
    listen1.stop();
    await l1.catch(() => {});
    const b2 = await shore(port);
    running.push(b2);
    const listen2 = new WavLoopEndpoint(new Int16Array(800), { id: 'b2', loops: Infinity, chunkMs: 50 });
    const l2 = b2.host.attach(listen2);
    await call;
    await until(() => new Set([...listen1.heard, ...listen2.heard]).size >= 24, 30_000);
    listen2.stop();
    await l2;
    const expected = Array.from({ length: 24 }, (_, i) => `PHRASE ${i + 1}`);
    const first2 = expected.indexOf(listen2.heard[0]!);
    expect(first2).toBeGreaterThanOrEqual(0);
    expect(first2).toBeLessThanOrEqual(listen1.heard.length);
    expect(listen2.heard).toEqual(expected.slice(first2));
    expect(a.metrics().peers[0]!.peerRestarts).toBe(1);
    expect(a.metrics().peers[0]!.connects).toBe(2);
  }, 60_000);

  it('a wrong key over UDP is refused at the listener (counted), nothing connects', async () => {
    const b = await startDaemon(config('shore', `link: { listen: "udp://127.0.0.1:0" }\npeers:\n  - { name: ship, psk: "${PSK}" }\n`), { engines, log: silentLogger });
    running.push(b);
    const a = await startDaemon(config('ship', `peers:\n  - { name: shore, url: "udp://127.0.0.1:${b.linkUdpPort}", psk: "not-the-right-key-0123456789" }\n`), { engines, log: silentLogger });
    running.push(a);
    await until(() => b.metrics().authFailuresUnknownPeer >= 1);
    expect(b.metrics().peers[0]!.state).toBe('disconnected');
    expect(a.metrics().peers[0]!.state).toBe('connecting');
  });
});

describe('edge daemon: restarts, authentication, monitoring', () => {
  it('a peer restart mid-call loses no text: unacknowledged phrases go again in a new session', async () => {
    const { a, b } = await pair();
    const epA = new WavLoopEndpoint(toneBursts(16, 200, 300), { id: 'a', chunkMs: 50 });
    const listen1 = new WavLoopEndpoint(new Int16Array(800), { id: 'b1', loops: Infinity, chunkMs: 50 });
    const l1 = b.host.attach(listen1);
    const call = a.host.attach(epA);
    await until(() => listen1.heard.length >= 4);
    const linkPort = b.linkPort!;
    await b.close();
    running.splice(running.indexOf(b), 1);
    listen1.stop();
    await l1.catch(() => {});
    await new Promise((r) => setTimeout(r, 700)); // A keeps talking while B is down
    const { b: b2 } = await restartB(linkPort);
    const listen2 = new WavLoopEndpoint(new Int16Array(800), { id: 'b2', loops: Infinity, chunkMs: 50 });
    const l2 = b2.host.attach(listen2);
    await call;
    await until(() => new Set([...listen1.heard, ...listen2.heard]).size >= 16);
    listen2.stop();
    await l2;
    const expected = Array.from({ length: 16 }, (_, i) => `PHRASE ${i + 1}`);
    expect(epA.sent).toEqual(expected);
    expect(listen1.heard).toEqual(expected.slice(0, listen1.heard.length));
    // The new instance hears the rest in order; at most the phrases in flight at the restart twice.
    const first2 = expected.indexOf(listen2.heard[0]!);
    expect(first2).toBeGreaterThanOrEqual(0);
    expect(first2).toBeLessThanOrEqual(listen1.heard.length);
    expect(listen2.heard).toEqual(expected.slice(first2));
    expect(a.metrics().peers[0]!.peerRestarts).toBe(1);
    expect(a.metrics().phrasesResent).toBeGreaterThan(0);
  });

  it('a link outage (the TCP path cut for a second) resumes the same sessions: nothing lost, nothing twice', async () => {
    const b = await startDaemon(config('shore', `link: { listen: "127.0.0.1:0" }\npeers:\n  - { name: ship, psk: "${PSK}", bits_per_second: 4000 }\n`), { engines, log: silentLogger, lingerMs: 500 });
    running.push(b);
    const proxy = await tcpProxy(b.linkPort!);
    const a = await startDaemon(config('ship', `peers:\n  - { name: shore, url: "ws://127.0.0.1:${proxy.port}", psk: "${PSK}", bits_per_second: 4000 }\n`), { engines, log: silentLogger, lingerMs: 500 });
    running.push(a);
    try {
      const epA = new WavLoopEndpoint(toneBursts(12, 200, 300), { id: 'a', chunkMs: 50 });
      const listener = new WavLoopEndpoint(new Int16Array(800), { id: 'b', loops: Infinity, chunkMs: 50 });
      const l = b.host.attach(listener);
      const call = a.host.attach(epA);
      await until(() => listener.heard.length >= 3);
      await proxy.cut(1000);
      await call;
      await until(() => listener.heard.length >= 12);
      listener.stop();
      await l;
      expect(listener.heard).toEqual(epA.sent);
      expect(epA.sent).toHaveLength(12);
      const m = a.metrics();
      expect(m.peers[0]!.connects).toBeGreaterThanOrEqual(2);
      expect(m.peers[0]!.peerRestarts).toBe(0);
      expect(m.phrasesResent).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it('the link listener survives garbage: oversize messages close the socket, bad handshakes are refused', async () => {
    const { a, b } = await pair();
    await until(() => a.metrics().peers[0]!.state === 'connected');
    const url = `ws://127.0.0.1:${b.linkPort}`;
    const closeCode = async (payload: Buffer | string) => {
      const ws = new WebSocket(url);
      await new Promise((r) => ws.once('open', r)); // the dialer speaks first (Noise message 1)
      ws.send(payload);
      return new Promise<number>((r) => ws.once('close', (code) => r(code)));
    };
    expect(await closeCode(Buffer.alloc(20_000))).toBe(1009);
    expect(await closeCode('{"hello": "text"}')).not.toBe(1000);
    expect(await closeCode(Buffer.from([0x53, 2, 1, 2, 3]))).toBe(4401);
    // The real peer is still connected and working.
    expect(b.metrics().peers[0]!.state).toBe('connected');
    const ep = new WavLoopEndpoint(toneBursts(2, 200, 300), { id: 'a', realtime: false });
    const listener = new WavLoopEndpoint(new Int16Array(800), { id: 'b', loops: Infinity, chunkMs: 50 });
    const l = b.host.attach(listener);
    await a.host.attach(ep);
    await until(() => listener.heard.length === 2);
    listener.stop();
    await l;
  });

  it('a flood of bad handshakes stays within the admission caps, logs a bounded number of lines and is counted in /metrics', async () => {
    const lines: string[] = [];
    const b = await startDaemon(config('shore', `link: { listen: "127.0.0.1:0" }\npeers:\n  - { name: ship, psk: "${PSK}" }\n`), { engines, log: createLogger({ write: (l) => lines.push(l) }) });
    running.push(b);
    const url = `ws://127.0.0.1:${b.linkPort}`;
    const attempt = () =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(url);
        ws.on('error', () => {});
        ws.once('open', () => ws.send(Buffer.from([0x53, 2, 1, 2, 3])));
        ws.once('close', (code) => resolve(code));
      });
    const codes = await Promise.all(Array.from({ length: 60 }, attempt));
    // Refused before any work (1013, admission) or after a failed handshake (4401): never accepted.
    expect(codes.every((c) => c === 1013 || c === 4401)).toBe(true);
    expect(codes.filter((c) => c === 1013).length).toBeGreaterThan(0);
    const logged = lines.map((l) => JSON.parse(l)).filter((l) => /^link (connection|handshakes) refused$/.test(l.msg));
    expect(logged.length).toBeLessThanOrEqual(2);
    const metrics = await (await fetch(`http://127.0.0.1:${b.httpPort}/metrics`)).text();
    const count = (re: RegExp) => [...metrics.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);
    const refused = count(/^stcts_link_handshakes_total\{outcome="refused",reason="[a-z_]+"\} (\d+)$/gm);
    const admitted = count(/^stcts_link_handshakes_total\{outcome="admitted"\} (\d+)$/gm);
    expect(refused + admitted).toBe(60);
    expect(refused).toBe(codes.filter((c) => c === 1013).length);
    expect(metrics).toMatch(/^stcts_link_handshakes_pending 0$/m);
    expect(metrics).toMatch(/^stcts_link_refusals_logged_total\{kind="link handshakes refused"\} [1-9]/m);
  });

  it('close() ends running calls even when a microphone never yields, and closes their endpoints', async () => {
    const { a } = await pair();
    let closed = false;
    const stuck = {
      id: 'stuck',
      mic: { [Symbol.asyncIterator]: () => ({ next: () => new Promise<IteratorResult<Int16Array>>(() => {}) }) },
      play: async () => {},
      event: () => {},
      close: async () => {
        closed = true;
      },
    };
    const call = a.host.attach(stuck);
    await until(() => a.metrics().calls === 1);
    const t0 = Date.now();
    await a.close();
    await call;
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(closed).toBe(true);
  });

  it('refuses a peer with the wrong key, logs and counts it', async () => {
    const lines: string[] = [];
    const b = await startDaemon(config('shore', `link: { listen: "127.0.0.1:0" }\npeers:\n  - { name: ship, psk: "${PSK}" }\n`), { engines, log: createLogger({ write: (l) => lines.push(l) }) });
    running.push(b);
    const a = await startDaemon(config('ship', `peers:\n  - { name: shore, url: "ws://127.0.0.1:${b.linkPort}", psk: "not-the-right-key-0123456789" }\n`), { engines, log: silentLogger });
    running.push(a);
    // The caller's name travels only under the pair key: with a wrong key the listener cannot tell who it was.
    await until(() => b.metrics().authFailuresUnknownPeer >= 1 && a.metrics().peers[0]!.rejected.auth >= 1);
    expect(b.metrics().peers[0]!.state).toBe('disconnected');
    expect(a.metrics().peers[0]!.state).not.toBe('connected');
    const refused = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'link connection refused');
    expect(refused).toMatchObject({ level: 'warn', count: 1, reasons: { auth_failed: 1 } });
    const metrics = await (await fetch(`http://127.0.0.1:${b.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/^stcts_link_rejected_total\{peer="\(unknown\)",reason="auth"\} [1-9]/m);
  });

  it('serves /healthz and /metrics, limits request bodies, 404s the rest; unknown peers are typed errors', async () => {
    const { a } = await pair();
    await until(() => a.metrics().peers[0]!.state === 'connected');
    const ep = new WavLoopEndpoint(toneBursts(3, 200, 300), { id: 'a', realtime: false });
    await a.host.attach(ep);
    const base = `http://127.0.0.1:${a.httpPort}`;
    const health = await (await fetch(`${base}/healthz`)).json();
    expect(health).toMatchObject({ ok: true, node: 'ship', peers: [{ name: 'shore', state: 'connected' }] });
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    for (const stream of ['text', 'speaker', 'prosody', 'control', 'overhead']) {
      expect(text).toMatch(new RegExp(`^stcts_link_bits_total\\{peer="shore",direction="out",stream="${stream}"\\} \\d+$`, 'm'));
      expect(text).toMatch(new RegExp(`^stcts_link_bits_per_second\\{peer="shore",direction="in",stream="${stream}"\\} `, 'm'));
    }
    expect(text).toMatch(/^stcts_phrases_total\{event="sent"\} 3$/m);
    // Per-peer link type, airtime, RTO and loss (#14).
    expect(text).toMatch(/^stcts_link_info\{peer="shore",kind="ws"\} 1$/m);
    expect(text).toMatch(/^stcts_link_airtime_seconds_total\{peer="shore"\} 0\.\d*[1-9]/m);
    expect(text).toMatch(/^stcts_link_rto_seconds\{peer="shore"\} \d/m);
    expect(text).toMatch(/^stcts_link_loss_ratio\{peer="shore"\} 0$/m);
    // Each phrase went queued → sent → acknowledged, in that order, on the endpoint's event stream.
    const states = new Map<number, string[]>();
    for (const e of ep.events) if (e.type === 'phrase') states.set(e.seq, [...(states.get(e.seq) ?? []), e.state]);
    expect(states.size).toBe(3);
    for (const s of states.values()) expect(s).toEqual(['queued', 'sent', 'acknowledged']);
    for (const name of ['stcts_link_queue_frames', 'stcts_link_packets_lost_total', 'stcts_link_retransmissions_total', 'stcts_phrase_delivery_seconds_count', 'stcts_tts_real_time_factor', 'stcts_asr_latency_seconds', 'stcts_process_resident_memory_bytes']) {
      expect(text).toContain(name);
    }
    expect(text).toMatch(/^# TYPE stcts_link_bits_total counter$/m);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST', body: 'x' })).status).toBe(405);
    expect((await fetch(`${base}/anything`, { method: 'POST', body: 'x'.repeat(70_000) })).status).toBe(413);
    const err = await a.host.attach(ep, { peer: 'mars' }).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.code).toBe('unknown_peer');
  });
});

async function restartB(linkPort: number): Promise<{ b: Daemon }> {
  const b = await startDaemon(config('shore', `link: { listen: "127.0.0.1:${linkPort}" }\npeers:\n  - { name: ship, psk: "${PSK}", bits_per_second: 4000 }\n`), { engines, log: silentLogger, lingerMs: 500 });
  running.push(b);
  return { b };
}

/** A TCP relay whose path can be cut (all sockets destroyed, no new ones accepted) for a while. */
async function tcpProxy(targetPort: number): Promise<{ port: number; cut(ms: number): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let down = false;
  const server = createServer((client) => {
    if (down) return client.destroy();
    const up = connect(targetPort, '127.0.0.1');
    for (const s of [client, up]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(up);
    up.pipe(client);
    client.on('close', () => up.destroy());
    up.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    async cut(ms) {
      down = true;
      for (const s of sockets) s.destroy();
      await new Promise((r) => setTimeout(r, ms));
      down = false;
    },
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}
