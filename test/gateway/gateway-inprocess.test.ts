import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith, NATS_SERVER } from '../fixtures/components.ts';
import { NatsServerFixture } from './nats-fixture.ts';
import { parseGatewayConfig, runSimulatedCall, shorePcm, simulatedCallFrames, startGateway, type GatewayNode, type ShorePcm } from '../../src/gateway/index.ts';
import { WebSocket } from 'ws';
import { connectLink } from '../../src/transport/ws.ts';
import { LinkSession } from '../../src/transport/link-session.ts';
import { kissChannel } from '../fixtures/kiss-channel.ts';

describeWith('gateway in one process (terminator + 2 workers, UTF-8 frames, tone voice)', [NATS_SERVER], () => {
  let nats: NatsServerFixture;
  let node: GatewayNode;
  beforeAll(async () => {
    nats = await NatsServerFixture.start();
    const config = parseGatewayConfig(`
nats: { servers: ['${nats.url}'] }
terminators: [{ kind: ws, listen: '127.0.0.1:0' }]
workers: { count: 2, tts: tone }
lease: { ttl_ms: 1500, heartbeat_ms: 500 }
shore: { listen: '127.0.0.1:0' }
`);
    node = await startGateway(config, { workerId: 'inproc' });
  }, 30_000);
  afterAll(async () => {
    await node?.close();
    await nats?.stop();
  });

  it('renders every phrase of 3 calls once, in order, readable by a shore client', async () => {
    const url = node.terminators[0]!.address;
    const phrases = ['ship to shore testing one', 'we are ten miles out', 'request a berth for tonight'];
    const calls = await Promise.all([11, 12, 13].map((id) => runSimulatedCall({ url, vessel: `v${id}`, sessionId: id, phrases, phraseIntervalMs: 300 })));
    for (const [i, id] of [11, 12, 13].entries()) {
      const got: ShorePcm[] = [];
      for await (const p of shorePcm(node.jet.js, id, AbortSignal.timeout(10_000))) got.push(p);
      expect(got.at(-1)?.end).toBe(true);
      const speech = got.filter((p) => !p.end);
      expect(speech.map((p) => p.seq)).toEqual(calls[i]!.phraseSeqs);
      expect(speech.map((p) => p.text)).toEqual(phrases);
      expect(speech.every((p) => p.pcm.length > 16000)).toBe(true);
    }
  }, 30_000);

  it('the shore page (issue #18 item 2): GET / serves it, /calls lists the calls, /listen streams a call\'s speech (text, then PCM) to its End', async () => {
    const base = `http://127.0.0.1:${node.shore!.port}`;
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('/listen');
    expect(html).toContain('/talk?vessel=');
    const call = runSimulatedCall({ url: node.terminators[0]!.address, vessel: 'v14', sessionId: 14, phrases: ['shore page check', 'over'], phraseIntervalMs: 400 });
    // Listed while it runs (an ended call leaves the registry).
    let listed: { vessel: string; sessionId: number }[] = [];
    for (let i = 0; i < 100 && !listed.some((c) => c.sessionId === 14); i++) {
      listed = ((await (await fetch(`${base}/calls`)).json()) as { calls: typeof listed }).calls;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(listed).toEqual(expect.arrayContaining([expect.objectContaining({ vessel: 'v14', sessionId: 14 })]));
    const r = await call;
    const ws = new WebSocket(`ws://127.0.0.1:${node.shore!.port}/listen?session=14`);
    const texts: { seq?: number; text?: string; end?: boolean }[] = [];
    let pcmBytes = 0;
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (data, isBinary) => {
        if (isBinary) pcmBytes += (data as Buffer).length;
        else {
          const m = JSON.parse(String(data)) as { seq?: number; text?: string; end?: boolean };
          texts.push(m);
          if (m.end) resolve();
        }
      });
      ws.on('error', reject);
      setTimeout(() => reject(new Error('no End within 15 s')), 15_000).unref();
    });
    ws.close();
    expect(texts.filter((t) => !t.end).map((t) => [t.seq, t.text])).toEqual(r.phraseSeqs.map((seq, i) => [seq, ['shore page check', 'over'][i]]));
    expect(pcmBytes).toBeGreaterThan(2 * 16000);
    expect((await fetch(`${base}/nothing`)).status).toBe(404);
    const bad = new WebSocket(`ws://127.0.0.1:${node.shore!.port}/listen?session=abc`);
    await expect(new Promise((resolve, reject) => { bad.on('open', resolve); bad.on('error', reject); })).rejects.toThrow(/400/);
  }, 30_000);

  it('a vessel that reconnects to another gateway node mid-call resumes after what JetStream holds', async () => {
    const nodeB = await startGateway(parseGatewayConfig(`
nats: { servers: ['${nats.url}'] }
terminators: [{ kind: ws, listen: '127.0.0.1:0' }]
workers: { count: 0 }
`), { role: 'terminator' });
    try {
      const sessionId = 31;
      const { frames, phraseSeqs } = simulatedCallFrames(sessionId, ['first phrase', 'second phrase', 'third phrase', 'fourth phrase'], 100);
      const link = new LinkSession(sessionId, { sender: { bitsPerSecond: 9600 } });
      const idle = async () => {
        while (!link.sender.idle) await new Promise((r) => setTimeout(r, 20));
      };
      let conn = connectLink(`${node.terminators[0]!.address}/vessel/v31`, link);
      const half = frames.findIndex((f) => f.seq === phraseSeqs[2]);
      for (const f of frames.slice(0, half)) link.send(f);
      await idle();
      // Wait until node A has stored the first half in JetStream (it acks the vessel before that).
      const stored = () => node.jet.jsm.streams.getMessage('STCTS_UP', { last_by_subj: 'stcts.v1.up.v31.31' }).then((m) => m.seq, () => 0);
      let lastStored = 0;
      while ((lastStored = await stored()) === 0 || node.hub!.stats.framesPublished === 0) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 200));
      expect(lastStored).toBeGreaterThan(0);
      conn.close();
      conn = connectLink(`${nodeB.terminators[0]!.address}/vessel/v31`, link);
      for (const f of frames.slice(half)) link.send(f);
      await idle();
      conn.close();
      const got: ShorePcm[] = [];
      for await (const p of shorePcm(node.jet.js, sessionId, AbortSignal.timeout(10_000))) got.push(p);
      expect(got.filter((p) => !p.end).map((p) => p.seq)).toEqual(phraseSeqs);
      expect(got.at(-1)?.end).toBe(true);
      expect(nodeB.hub!.stats.resumedSessions).toBe(1);
      expect(nodeB.hub!.stats.framesPublished).toBe(frames.length - half);
      link.close();
    } finally {
      await nodeB.close();
    }
  }, 30_000);
});

describeWith('gateway vessel authentication (the daemon PSK scheme, vessel = authenticated name)', [NATS_SERVER], () => {
  const KEY = '3f9a1c0b7d2e4f6a8b0c1d2e3f405162';
  const KEY2 = '7c1e5a9b3d0f2e4c6a8b1d3f5e7c9a0b';
  let nats: NatsServerFixture;
  let node: GatewayNode;
  const errors: string[] = [];
  beforeAll(async () => {
    nats = await NatsServerFixture.start();
    const config = parseGatewayConfig(`
nats: { servers: ['${nats.url}'], storage: memory }
terminators: [{ kind: ws, listen: '127.0.0.1:0' }, { kind: udp, listen: 'udp://127.0.0.1:0' }]
vessels: [{ name: mv-aurora, psk: ${KEY} }, { name: mv-borealis, psk: ${KEY2} }]
workers: { count: 1, tts: tone }
`);
    node = await startGateway(config, { workerId: 'auth', onError: (e) => errors.push(e.code) });
  }, 30_000);
  afterAll(async () => {
    await node?.close();
    await nats?.stop();
  });

  it('a vessel with its key is accepted and its frames land on its own subject; a wrong key is refused', async () => {
    const url = node.terminators[0]!.address;
    const r = await runSimulatedCall({ url, vessel: 'mv-aurora', psk: KEY, sessionId: 21, phrases: ['all well on board'], phraseIntervalMs: 200 });
    const got: ShorePcm[] = [];
    for await (const p of shorePcm(node.jet.js, 21, AbortSignal.timeout(10_000))) got.push(p);
    expect(got.filter((p) => !p.end).map((p) => p.seq)).toEqual(r.phraseSeqs);
    const m = await node.jet.jsm.streams.getMessage('STCTS_UP', { last_by_subj: 'stcts.v1.up.mv-aurora.21' });
    expect(m.seq).toBeGreaterThan(0);
    await expect(runSimulatedCall({ url, vessel: 'mv-aurora', psk: KEY.replace('3f', '4f'), sessionId: 22, phrases: ['x'], phraseIntervalMs: 100 })).rejects.toMatchObject({ code: 'auth_failed' });
    expect(errors).toContain('auth_failed');
  }, 30_000);

  it('over the UDP terminator (issue #18): the vessel proves its key in the Noise handshake, its frames land on its own subject, rendered once and in order; a wrong key is refused', async () => {
    const udp = node.terminators.find((t) => t.kind === 'udp')!;
    expect(udp.address).toMatch(/^udp:\/\/127\.0\.0\.1:\d+$/);
    const r = await runSimulatedCall({ url: udp.address, vessel: 'mv-aurora', psk: KEY, sessionId: 23, phrases: ['position fifty four north', 'all well on board'], phraseIntervalMs: 200 });
    const got: ShorePcm[] = [];
    for await (const p of shorePcm(node.jet.js, 23, AbortSignal.timeout(10_000))) got.push(p);
    expect(got.filter((p) => !p.end).map((p) => p.seq)).toEqual(r.phraseSeqs);
    const m = await node.jet.jsm.streams.getMessage('STCTS_UP', { last_by_subj: 'stcts.v1.up.mv-aurora.23' });
    expect(m.seq).toBeGreaterThan(0);
    const before = errors.filter((e) => e === 'auth_failed').length;
    await expect(runSimulatedCall({ url: udp.address, vessel: 'mv-aurora', psk: KEY.replace('3f', '4f'), sessionId: 24, phrases: ['x'], phraseIntervalMs: 100 })).rejects.toMatchObject({ code: 'auth_failed' });
    expect(errors.filter((e) => e === 'auth_failed').length).toBeGreaterThan(before);
  }, 60_000);

  it('over a KISS terminator (issue #18): the gateway attaches to its TNC, a vessel calling on the channel is authenticated by its key; frames on its own subject, once, in order', async () => {
    const channel = await kissChannel();
    const kissNode = await startGateway(parseGatewayConfig(`
nats: { servers: ['${nats.url}'], storage: memory }
terminators: [{ kind: kiss, listen: '${channel.url}' }]
vessels: [{ name: mv-borealis, psk: ${KEY2} }]
workers: { count: 0 }
`), { workerId: 'kiss', onError: (e) => errors.push(e.code) });
    try {
      expect(kissNode.terminators[0]!.kind).toBe('kiss');
      const r = await runSimulatedCall({ url: channel.url, vessel: 'mv-borealis', psk: KEY2, sessionId: 25, phrases: ['radio check', 'loud and clear'], phraseIntervalMs: 200, bitsPerSecond: 9600 });
      const got: ShorePcm[] = [];
      // Rendered by the first node's worker: nodes share nothing but JetStream.
      for await (const p of shorePcm(node.jet.js, 25, AbortSignal.timeout(15_000))) got.push(p);
      expect(got.filter((p) => !p.end).map((p) => p.seq)).toEqual(r.phraseSeqs);
      const m = await node.jet.jsm.streams.getMessage('STCTS_UP', { last_by_subj: 'stcts.v1.up.mv-borealis.25' });
      expect(m.seq).toBeGreaterThan(0);
      // The words never crossed the channel in the clear (no callsign: encrypted).
      expect(channel.heard().includes(Buffer.from('RADIO CHECK'))).toBe(false);
      expect(channel.heard().includes(Buffer.from('radio check'))).toBe(false);
    } finally {
      await kissNode.close();
      await channel.close();
    }
  }, 60_000);
});
