import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { describeWith, NATS_SERVER } from '../fixtures/components.ts';
import { NatsServerFixture } from './nats-fixture.ts';
import { parseGatewayConfig, startGateway, type GatewayNode } from '../../src/gateway/index.ts';
import { parseConfig, startDaemon, type Daemon } from '../../src/daemon/index.ts';
import { silentLogger } from '../../src/core/log.ts';
import { FakeAsr, FakeTts, toneBursts } from '../daemon/fakes.ts';
import { until } from '../fixtures/wait.ts';
import { played, talk, type TalkMessage } from './talk-fixture.ts';

const PSK = 'a-gateway-talk-test-key-0123456789abcdef';

describeWith('gateway shore → ship (issue #18): a shore client talks, a worker codes, the vessel\'s terminator delivers', [NATS_SERVER], () => {
  let nats: NatsServerFixture;
  let node: GatewayNode;
  let vessel: Daemon;
  let transcript: string;
  beforeAll(async () => {
    nats = await NatsServerFixture.start();
    const config = parseGatewayConfig(`
nats: { servers: ['${nats.url}'] }
terminators: [{ kind: ws, listen: '127.0.0.1:0' }, { kind: udp, listen: 'udp://127.0.0.1:0' }]
vessels: [{ name: ship3, psk: '${PSK}y' }, { name: ship1, psk: '${PSK}' }, { name: ship2, psk: '${PSK}x' }]
workers: { count: 2, tts: tone, text: utf8 }
lease: { ttl_ms: 1500, heartbeat_ms: 500 }
shore: { listen: '127.0.0.1:0' }
`);
    node = await startGateway(config, { workerId: 'talk', createAsr: async () => new FakeAsr() });
    transcript = join(mkdtempSync(join(tmpdir(), 'stcts-talk-')), 'vessel.jsonl');
    // The vessel: a real edge daemon that dials the gateway (its own sessions odd, the gateway's even).
    vessel = await startDaemon(parseConfig(`node: ship1\nhttp: { listen: "127.0.0.1:0" }\ncodec: { mode: balanced, text: utf8 }\npeers:\n  - { name: stcts-gateway, url: "${node.terminators[0]!.address}", psk: "${PSK}", bits_per_second: 4000 }\n`), {
      engines: { asr: async () => new FakeAsr(), tts: async () => new FakeTts() },
      log: silentLogger,
      lingerMs: 500,
      transcriptPath: transcript,
    });
    await until(() => vessel.metrics().peers[0]!.state === 'connected', 15_000);
  }, 60_000);
  afterAll(async () => {
    await vessel?.close();
    await node?.close();
    await nats?.stop();
  });

  it('every phrase recognized on a worker reaches the vessel once and in order; the talker hears coded → delivered → end', async () => {
    const msgs = await talk(node.shore!.port, 'ship1', toneBursts(3, 400, 700));
    expect(msgs[0]).toMatchObject({ type: 'talk', session: expect.any(Number) });
    const session = msgs[0]!.session!;
    expect(session % 2).toBe(0);
    const coded = msgs.filter((m) => m.type === 'phrase');
    const delivered = msgs.filter((m) => m.type === 'delivered');
    expect(coded.map((m) => m.text)).toEqual(['PHRASE 1', 'PHRASE 2', 'PHRASE 3']);
    expect(delivered.map((m) => [m.seq, m.text])).toEqual(coded.map((m) => [m.seq, m.text]));
    expect(msgs.at(-1)).toMatchObject({ type: 'end', session });
    // Each delivered event after its coded event.
    for (const d of delivered) expect(msgs.indexOf(d)).toBeGreaterThan(msgs.findIndex((m) => m.type === 'phrase' && m.seq === d.seq));
    await until(() => played(transcript).filter((p) => p.session === session).length >= 3, 10_000);
    expect(played(transcript).filter((p) => p.session === session).map((p) => [p.seq, p.text])).toEqual(coded.map((m) => [m.seq, m.text]));
    // Delivered: the registry entry is gone.
    await until(() => node.downlinks!.stats.sessionsDelivered >= 1, 5000);
    expect(await node.jet.calls.get(String(session))).toSatisfy((e: { operation?: string } | null) => !e || e.operation !== 'PUT');
  }, 60_000);

  it('a talk to a vessel that is not connected waits in JetStream and is delivered when it connects', async () => {
    const msgs = talk(node.shore!.port, 'ship2', toneBursts(2, 400, 700));
    // ship2 comes later (after the worker has coded the talk).
    await until(() => node.workers.reduce((n, w) => n + w.stats.phrasesCoded, 0) >= 5, 20_000);
    const t2 = join(mkdtempSync(join(tmpdir(), 'stcts-talk-')), 'ship2.jsonl');
    const ship2 = await startDaemon(parseConfig(`node: ship2\nhttp: { listen: "127.0.0.1:0" }\ncodec: { mode: balanced, text: utf8 }\npeers:\n  - { name: stcts-gateway, url: "${node.terminators[0]!.address}", psk: "${PSK}x", bits_per_second: 4000 }\n`), {
      engines: { asr: async () => new FakeAsr(), tts: async () => new FakeTts() }, log: silentLogger, lingerMs: 500, transcriptPath: t2,
    });
    try {
      const got = await msgs;
      expect(got.filter((m) => m.type === 'delivered').map((m) => m.text)).toEqual(['PHRASE 1', 'PHRASE 2']);
      expect(got.at(-1)?.type).toBe('end');
      await until(() => played(t2).length >= 2, 10_000);
      expect(played(t2).map((p) => p.text)).toEqual(['PHRASE 1', 'PHRASE 2']);
    } finally {
      await ship2.close();
    }
  }, 60_000);

  it('over the UDP terminator: a vessel daemon on udp:// hears the talk once and in order', async () => {
    const t3 = join(mkdtempSync(join(tmpdir(), 'stcts-talk-')), 'ship3.jsonl');
    const ship3 = await startDaemon(parseConfig(`node: ship3\nhttp: { listen: "127.0.0.1:0" }\ncodec: { mode: balanced, text: utf8 }\npeers:\n  - { name: stcts-gateway, url: "${node.terminators[1]!.address}", psk: "${PSK}y", bits_per_second: 4000 }\n`), {
      engines: { asr: async () => new FakeAsr(), tts: async () => new FakeTts() }, log: silentLogger, lingerMs: 500, transcriptPath: t3,
    });
    try {
      await until(() => ship3.metrics().peers[0]!.state === 'connected', 15_000);
      const got = await talk(node.shore!.port, 'ship3', toneBursts(3, 400, 700));
      expect(got.filter((m) => m.type === 'delivered').map((m) => m.text)).toEqual(['PHRASE 1', 'PHRASE 2', 'PHRASE 3']);
      expect(got.at(-1)?.type).toBe('end');
      await until(() => played(t3).length >= 3, 10_000);
      expect(played(t3).map((p) => p.text)).toEqual(['PHRASE 1', 'PHRASE 2', 'PHRASE 3']);
      expect(ship3.metrics().peers[0]!.kind).toBe('udp');
    } finally {
      await ship3.close();
    }
  }, 60_000);

  it('refuses bad talks with a clear error: unknown vessel (404), a bad name (400), a text message that is not {"end":true}', async () => {
    const open = (q: string) => new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${node.shore!.port}/talk${q}`);
      ws.on('open', () => { ws.close(); resolve(); });
      ws.on('error', reject);
    });
    await expect(open('?vessel=nobody')).rejects.toThrow(/404/);
    await expect(open('?vessel=a.b')).rejects.toThrow(/400/);
    await expect(open('')).rejects.toThrow(/400/);
    const ws = new WebSocket(`ws://127.0.0.1:${node.shore!.port}/talk?vessel=ship1`);
    const got: TalkMessage[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (d) => {
        got.push(JSON.parse(String(d)) as TalkMessage);
        if (got.length === 1) ws.send('hello');
      });
      ws.on('close', () => resolve());
      ws.on('error', reject);
    });
    expect(got.at(-1)).toMatchObject({ type: 'error', code: 'bad_message' });
  }, 30_000);
});
