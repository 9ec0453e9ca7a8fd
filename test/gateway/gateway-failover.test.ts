import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { TextModel } from '../../src/codec/text/index.ts';
import { loadDefaultTextModel } from '../../src/pipeline/codecs.ts';
import { describeWith, NATS_SERVER, TEXT_MODEL } from '../fixtures/components.ts';
import { NatsServerFixture } from './nats-fixture.ts';
import { spawnWorker } from './worker-fixture.ts';
import { openJetStream, parseGatewayConfig, readCheckpoint, runSimulatedCall, shorePcm, startGateway, type GatewayJetStream, type GatewayNode, type SimulatedCallResult } from '../../src/gateway/index.ts';

const CALLS = 20;
const PHRASES = ['vessel calling shore station', 'we are twelve miles out', 'wind from the north west', 'request a pilot at six', 'two crew need a doctor', 'please confirm the berth'];


async function leaseOwners(jet: GatewayJetStream, sessionsOf?: Map<string, number[]>): Promise<Map<string, number>> {
  const owners = new Map<string, number>();
  const keys: string[] = [];
  for await (const k of await jet.leases.keys()) keys.push(k);
  for (const k of keys) {
    const e = await jet.leases.get(k);
    if (!e || e.operation !== 'PUT') continue;
    const owner = (JSON.parse(new TextDecoder().decode(e.value)) as { owner: string }).owner;
    owners.set(owner, (owners.get(owner) ?? 0) + 1);
    sessionsOf?.set(owner, [...(sessionsOf.get(owner) ?? []), Number(k)]);
  }
  return owners;
}

/** Every session's speech, from the PCM stream: seqs in stream order (a duplicate would repeat). */
async function renderedSeqs(jet: GatewayJetStream, sessionId: number): Promise<{ seqs: number[]; ended: boolean }> {
  const seqs: number[] = [];
  let ended = false;
  for await (const p of shorePcm(jet.js, sessionId)) {
    if (p.end) ended = true;
    else if (p.part === 0) seqs.push(p.seq);
  }
  return { seqs, ended };
}

describeWith('gateway failover: 1 nats-server, 3 worker processes, 20 vessel calls', [NATS_SERVER, TEXT_MODEL], () => {
  let nats: NatsServerFixture;
  let dir: string;
  let configPath: string;
  let model: TextModel;
  let terminator: GatewayNode;
  let workers: ChildProcess[] = [];
  beforeAll(async () => {
    model = await loadDefaultTextModel();
  }, 30_000);
  afterEach(async () => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    workers = [];
    await terminator?.close();
    await nats?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function setUp(): Promise<void> {
    nats = await NatsServerFixture.start();
    dir = mkdtempSync(join(tmpdir(), 'stcts-gw-'));
    const yaml = `
nats: { servers: ['${nats.url}'] }
terminators: [{ kind: ws, listen: '127.0.0.1:0' }]
workers: { count: 1, tts: tone, max_sessions: 20 }
lease: { ttl_ms: 1500, heartbeat_ms: 500 }
`;
    configPath = join(dir, 'gateway.yaml');
    writeFileSync(configPath, yaml);
    terminator = await startGateway(parseGatewayConfig(yaml), { role: 'terminator' });
    workers = await Promise.all(['w1', 'w2', 'w3'].map((id) => spawnWorker(configPath, id)));
  }

  function startCalls(): Promise<SimulatedCallResult[]> {
    const url = terminator.terminators[0]!.address;
    return Promise.all(Array.from({ length: CALLS }, (_, i) => runSimulatedCall({ url, vessel: `vessel-${i}`, sessionId: 7000 + i, phrases: PHRASES, phraseIntervalMs: 700, model })));
  }

  async function expectExactlyOnce(calls: SimulatedCallResult[]): Promise<void> {
    const jet = await openJetStream({ servers: [nats.url] });
    try {
      for (let i = 0; i < CALLS; i++) {
        const deadline = Date.now() + 20_000;
        let r = await renderedSeqs(jet, 7000 + i);
        while (!r.ended && Date.now() < deadline) r = await renderedSeqs(jet, 7000 + i);
        expect(r.ended, `call ${i} ended`).toBe(true);
        expect(r.seqs, `call ${i}: every phrase once, in order`).toEqual(calls[i]!.phraseSeqs);
      }
    } finally {
      await jet.close();
    }
  }

  it('kill -9 of a worker mid-call: its sessions are taken over, every phrase rendered exactly once, in order', async () => {
    await setUp();
    const calls = startCalls();
    // Wait until every call is owned, then kill the worker that owns the most.
    let owners = new Map<string, number>();
    let sessionsOf = new Map<string, number[]>();
    for (let i = 0; i < 100; i++) {
      sessionsOf = new Map();
      owners = await leaseOwners(terminator.jet, sessionsOf);
      if ([...owners.values()].reduce((a, b) => a + b, 0) >= CALLS) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const [victim, owned] = [...owners].sort((a, b) => b[1] - a[1])[0]!;
    expect(owned).toBeGreaterThan(0);
    expect(owners.size, 'calls spread over several workers').toBeGreaterThan(1);
    workers[Number(victim.slice(1)) - 1]!.kill('SIGKILL');
    // The victim was mid-call: its sessions had not ended (some phrases still to render).
    const midCall = await Promise.all(sessionsOf.get(victim)!.map((id) => readCheckpoint(terminator.jet.jsm, id)));
    expect(midCall.some((c) => !c.ended && c.completeSeq < PHRASES.length)).toBe(true);
    const results = await calls;
    await expectExactlyOnce(results);
    const after = await leaseOwners(terminator.jet);
    expect(after.has(victim)).toBe(false);
  }, 120_000);

  it('restart of nats-server mid-call: calls resume, every phrase rendered exactly once, in order', async () => {
    await setUp();
    let finished = false;
    const calls = startCalls().finally(() => (finished = true));
    await new Promise((r) => setTimeout(r, 1800));
    expect(finished).toBe(false);
    await nats.restart(1000);
    const results = await calls;
    await expectExactlyOnce(results);
    expect(terminator.hub!.stats.publishRetries, 'the terminator retried while the server was down').toBeGreaterThan(0);
  }, 120_000);
});
