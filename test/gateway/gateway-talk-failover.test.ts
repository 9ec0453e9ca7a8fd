import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeWith, FESTIVAL, NATS_SERVER, POCKETSPHINX_ADDON, POCKETSPHINX_MODEL, TEXT_MODEL } from '../fixtures/components.ts';
import { festivalSpeech } from '../engines/asr.conformance.ts';
import { NatsServerFixture } from './nats-fixture.ts';
import { spawnWorker } from './worker-fixture.ts';
import { decodeFrameMessage, DOWN_STREAM, parseGatewayConfig, startGateway, type GatewayNode } from '../../src/gateway/index.ts';
import { parseConfig, startDaemon, type Daemon } from '../../src/daemon/index.ts';
import { silentLogger } from '../../src/core/log.ts';
import { FakeAsr, FakeTts } from '../daemon/fakes.ts';
import { until } from '../fixtures/wait.ts';
import { played, talk, type TalkMessage } from './talk-fixture.ts';
import { toPcm16k } from '../../src/audio/index.ts';

const PSK = 'a-gateway-talk-failover-key-0123456789abcdef';
const SCRIPT = ['THE WEATHER IS FINE TODAY', 'THE SHIP IS READY TO SAIL', 'PLEASE SEND A PILOT AT SIX', 'WE WILL CALL YOU TOMORROW'];


const words = (s: string) => s.toLowerCase().split(/\s+/).filter(Boolean);

describeWith('gateway shore → ship failover: real recognizer on 2 worker processes, kill -9 of the talk\'s owner mid-talk', [NATS_SERVER, TEXT_MODEL, FESTIVAL, POCKETSPHINX_ADDON, POCKETSPHINX_MODEL], () => {
  let nats: NatsServerFixture;
  let dir: string;
  let node: GatewayNode;
  let vessel: Daemon;
  let workers: ChildProcess[] = [];
  afterAll(async () => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    await vessel?.close();
    await node?.close();
    await nats?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the new owner codes the talk again from its start and stores only what was missing: every phrase reaches the vessel exactly once, in order', async () => {
    nats = await NatsServerFixture.start();
    dir = mkdtempSync(join(tmpdir(), 'stcts-gwtalk-'));
    const yaml = `
nats: { servers: ['${nats.url}'] }
terminators: [{ kind: ws, listen: '127.0.0.1:0' }]
vessels: [{ name: ship1, psk: '${PSK}' }]
workers: { count: 1, tts: tone }
lease: { ttl_ms: 1500, heartbeat_ms: 500 }
shore: { listen: '127.0.0.1:0' }
`;
    const configPath = join(dir, 'gateway.yaml');
    writeFileSync(configPath, yaml);
    node = await startGateway(parseGatewayConfig(yaml), { role: 'terminator' });
    workers = await Promise.all(['t1', 't2'].map((id) => spawnWorker(configPath, id)));
    const transcript = join(dir, 'vessel.jsonl');
    vessel = await startDaemon(parseConfig(`node: ship1\nhttp: { listen: "127.0.0.1:0" }\ncodec: { mode: balanced, text: lm }\npeers:\n  - { name: stcts-gateway, url: "${node.terminators[0]!.address}", psk: "${PSK}", bits_per_second: 2400 }\n`), {
      engines: { asr: async () => new FakeAsr(), tts: async () => new FakeTts() }, log: silentLogger, lingerMs: 500, transcriptPath: transcript,
    });
    await until(() => vessel.metrics().peers[0]!.state === 'connected', 15_000);

    // Four phrases with 1 s between them, spoken in real time (100-ms messages).
    const gap = new Float32Array(16000);
    const parts = SCRIPT.flatMap((t) => [festivalSpeech(t).samples, gap]);
    const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) { all.set(p, o); o += p.length; }
    const pcm = toPcm16k({ samples: all, sampleRateHz: 16000 });
    // Kill the talk's owner once its first phrase is stored (the rest is still being spoken).
    let victim: string | undefined;
    const killer = (async () => {
      for (;;) {
        for await (const k of await node.jet.leases.keys()) {
          const e = await node.jet.leases.get(k);
          if (e && e.operation === 'PUT') victim = (JSON.parse(new TextDecoder().decode(e.value)) as { owner: string }).owner;
        }
        const stored = await node.jet.jsm.streams.info(DOWN_STREAM).then((i) => i.state.messages, () => 0);
        if (victim && stored >= 3) break; // header, a speaker profile or the first phrase
        await new Promise((r) => setTimeout(r, 100));
      }
      workers[victim === 't1' ? 0 : 1]!.kill('SIGKILL');
    })();
    const msgs: TalkMessage[] = await talk(node.shore!.port, 'ship1', pcm, { paceMs: 100 });
    await killer;
    expect(victim).toBeDefined();
    const session = msgs[0]!.session!;
    const coded = msgs.filter((m) => m.type === 'phrase');
    const delivered = msgs.filter((m) => m.type === 'delivered');
    expect(msgs.at(-1)?.type, JSON.stringify(msgs)).toBe('end');
    expect(coded.length).toBe(SCRIPT.length);
    expect(delivered.map((m) => m.seq)).toEqual(coded.map((m) => m.seq));
    // The real recognizer: most words come through.
    const hyp = coded.flatMap((m) => words(m.text!));
    const ref = SCRIPT.flatMap(words);
    expect(ref.filter((w) => hyp.includes(w)).length / ref.length).toBeGreaterThan(0.6);
    // Stored once each (the new owner skipped what the victim had stored), played once each, in order.
    const seqs: number[] = [];
    const c = await node.jet.js.consumers.get(DOWN_STREAM, { filterSubjects: `stcts.v1.down.ship1.${session}` });
    for (;;) {
      const m = await c.next({ expires: 1000 });
      if (!m) break;
      seqs.push(decodeFrameMessage(m.data).seq);
    }
    expect(seqs).toEqual(seqs.map((_, i) => i));
    await until(() => played(transcript).length >= SCRIPT.length, 15_000);
    expect(played(transcript).map((p) => [p.seq, p.text])).toEqual(coded.map((m) => [m.seq, m.text]));
  }, 180_000);
});
