import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, startDaemon, WavLoopEndpoint, type Daemon } from '../../src/daemon/index.ts';
import { DaemonStateDir, renderedSeqsOf } from '../../src/daemon/durable.ts';
import { silentLogger } from '../../src/core/log.ts';
import { JournalError } from '../../src/transport/journal/index.ts';
import { FakeAsr, FakeTts, toneBursts } from './fakes.ts';
import { until as waitUntil } from '../fixtures/wait.ts';

const PSK = 'a-test-psk-0123456789abcdef';
const engines = { asr: async () => new FakeAsr(), tts: async () => new FakeTts() };
const running: Daemon[] = [];
const dirs: string[] = [];
const until = (cond: () => boolean, timeoutMs = 30_000) => waitUntil(cond, timeoutMs, 25);

afterEach(async () => {
  for (const d of running.splice(0)) await d.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'stcts-durable-'));
  dirs.push(d);
  return d;
}

interface Line { dir: 'in' | 'out'; session: number; seq: number; text: string }
const lines = (path: string, dir: 'in' | 'out'): Line[] =>
  existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line).filter((l) => l.dir === dir) : [];

async function shore(state: string, transcript: string, port = 0): Promise<Daemon> {
  const d = await startDaemon(parseConfig(`node: shore\nhttp: { listen: "127.0.0.1:0" }\ncodec: { mode: balanced, text: utf8 }\nstate_dir: ${state}\nlink: { listen: "127.0.0.1:${port}" }\npeers:\n  - { name: ship, psk: "${PSK}", bits_per_second: 4000 }\n`), { engines, log: silentLogger, lingerMs: 500, transcriptPath: transcript });
  running.push(d);
  return d;
}

async function ship(state: string, transcript: string, port: number): Promise<Daemon> {
  const d = await startDaemon(parseConfig(`node: ship\nhttp: { listen: "127.0.0.1:0" }\ncodec: { mode: balanced, text: utf8 }\nstate_dir: ${state}\npeers:\n  - { name: shore, url: "ws://127.0.0.1:${port}", psk: "${PSK}", bits_per_second: 4000 }\n`), { engines, log: silentLogger, lingerMs: 500, transcriptPath: transcript });
  running.push(d);
  return d;
}

async function stop(d: Daemon): Promise<void> {
  running.splice(running.indexOf(d), 1);
  await d.close();
}

const outboxes = (state: string) => {
  const dir = join(state, 'peers', 'shore');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith('out-')) : [];
};

describe('daemon state_dir (issue #16 item 5)', () => {
  it('keeps the instance id across restarts; a corrupt one is moved aside with a typed error', () => {
    const d = tmp();
    const a = DaemonStateDir.open(d).instanceId();
    expect(Buffer.from(DaemonStateDir.open(d).instanceId())).toEqual(Buffer.from(a));
    writeFileSync(join(d, 'instance-id'), 'not hex\n');
    expect(() => DaemonStateDir.open(d).instanceId()).toThrow(JournalError);
    expect(readdirSync(d).some((f) => f.startsWith('instance-id.corrupt-'))).toBe(true);
  });

  it('state_dir in the config: relative to the config file; not a string → ConfigError naming it', () => {
    const base = 'node: a\nhttp: { listen: "127.0.0.1:0" }\npeers: []\n';
    expect(parseConfig(base + 'state_dir: st\n', { baseDir: '/etc/stcts' }).stateDir).toBe('/etc/stcts/st');
    expect(parseConfig(base).stateDir).toBeUndefined();
    expect(() => parseConfig(base + 'state_dir: [1]\n')).toThrow(/state_dir/);
  });

  it('reads the rendered seqs per peer from a transcript file, a torn last line ignored', () => {
    const d = tmp();
    const t = join(d, 't.jsonl');
    writeFileSync(t, [{ dir: 'in', peer: 'ship', session: 5, seq: 3 }, { dir: 'in', peer: 'ship', session: 5, seq: 7 }, { dir: 'out', peer: 'ship', session: 5, seq: 9 }, { dir: 'in', peer: 'other', session: 5, seq: 11 }].map((l) => JSON.stringify(l)).join('\n') + '\n{"dir":"in","pe');
    expect([...renderedSeqsOf(t)].map(([peer, m]) => [peer, [...m]])).toEqual([['ship', [[5, 7]]], ['other', [[5, 11]]]]);
  });

  it('the sending daemon stopped mid-call: the next start resends what the peer had not acknowledged; each phrase played once', async () => {
    const d = tmp();
    const tShip = join(d, 'ship.jsonl');
    const tShore = join(d, 'shore.jsonl');
    const b = await shore(join(d, 'shore-state'), tShore);
    const a = await ship(join(d, 'ship-state'), tShip, b.linkPort!);
    await until(() => a.metrics().peers[0]!.state === 'connected');
    const ep = new WavLoopEndpoint(toneBursts(8, 200, 300), { id: 'a', chunkMs: 50 });
    const call = a.host.attach(ep);
    await until(() => lines(tShip, 'out').length >= 4);
    await stop(a); // the call is cut: its outbox stays on disk
    await call.catch(() => {});
    const accepted = lines(tShip, 'out').map((l) => `${l.session}:${l.seq}`);
    expect(outboxes(join(d, 'ship-state')).length).toBeGreaterThan(0);
    const a2 = await ship(join(d, 'ship-state'), tShip, b.linkPort!);
    await until(() => accepted.every((k) => lines(tShore, 'in').some((l) => `${l.session}:${l.seq}` === k)) && outboxes(join(d, 'ship-state')).length === 0);
    const played = lines(tShore, 'in').map((l) => `${l.session}:${l.seq}`);
    expect(new Set(played).size).toBe(played.length);
    // No restart seen by the shore: the ship came back with its state (same instance id), so nothing was started over.
    expect(b.metrics().peers[0]!.peerRestarts).toBe(0);
    expect(a2.metrics().peers[0]!.peerRestarts).toBe(0);
  });

  it('the receiving daemon stopped mid-call and started again on its state: it continues the same session, plays each phrase once', async () => {
    const d = tmp();
    const tShip = join(d, 'ship.jsonl');
    const tShore = join(d, 'shore.jsonl');
    const b = await shore(join(d, 'shore-state'), tShore);
    const port = b.linkPort!;
    const a = await ship(join(d, 'ship-state'), tShip, port);
    await until(() => a.metrics().peers[0]!.state === 'connected');
    const ep = new WavLoopEndpoint(toneBursts(12, 200, 300), { id: 'a', chunkMs: 50 });
    const call = a.host.attach(ep);
    await until(() => lines(tShore, 'in').length >= 3);
    await stop(b);
    const before = lines(tShore, 'in').length;
    await new Promise((r) => setTimeout(r, 600)); // the ship keeps talking meanwhile
    const b2 = await shore(join(d, 'shore-state'), tShore, port);
    await call;
    await until(() => lines(tShore, 'in').length >= 12);
    await new Promise((r) => setTimeout(r, 500));
    const played = lines(tShore, 'in');
    expect(played.map((l) => l.text)).toEqual(Array.from({ length: 12 }, (_, i) => `PHRASE ${i + 1}`));
    expect(new Set(played.map((l) => l.session)).size).toBe(1); // one session throughout: no rotation
    expect(a.metrics().peers[0]!.peerRestarts).toBe(0);
    expect(a.metrics().phrasesResent).toBe(0);
    // The restarted shore replayed the journalled phrases through its decoder but played only the rest.
    expect(b2.metrics().phrasesReceived).toBe(12 - before);
  });
});
