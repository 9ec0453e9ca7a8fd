/**
 * One call over a real link (issue #14 targets): `stcts receive` and `stcts send` as child processes
 * (the CLI a user runs), the WAV played at real time, through
 *   --link kiss-1200 | kiss-300   two real direwolf 1.6 soft modems chained by audio
 *                                 (test/fixtures/direwolf.ts), a seeded share of transmissions destroyed;
 *   --link udp                    the seeded UDP impairment proxy (src/transport/impair-proxy.ts).
 * Reads both sides' --transcript and --stats-json and prints one JSON object: phrases delivered,
 * in order, duplicates, added latency (receive t − send t) median and p95, wire bits both ways,
 * airtime and channel occupancy (both stations' transmit time ÷ call duration, from the relay's log).
 *
 *   node --import tsx scripts/bench-link-call.ts --wav CALL.wav --link kiss-1200 --destroy 0.1 --seed 1 [--mode balanced] [--json OUT]
 *   node --import tsx scripts/bench-link-call.ts --wav CALL.wav --link udp --loss 0.1 --burst 5 --bps 300 --seed 1
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startImpairProxy } from '../src/transport/impair-proxy.ts';
import { startDirewolfChain } from '../test/fixtures/direwolf.ts';

const argv = process.argv.slice(2);
const flag = (n: string): string | undefined => {
  const i = argv.indexOf(`--${n}`);
  return i < 0 ? undefined : argv[i + 1];
};
const num = (n: string, d: number): number => (flag(n) === undefined ? d : Number(flag(n)));
const wav = flag('wav');
if (!wav || !existsSync(wav)) throw new Error('give the call with --wav FILE.wav');
const kind = flag('link') ?? 'kiss-1200';
const seed = num('seed', 1);
const mode = flag('mode') ?? 'balanced';
const dir = mkdtempSync(join(tmpdir(), 'stcts-bench-call-'));
const cli = join(import.meta.dirname, '..', 'bin', 'stcts.js');

const run = (args: string[], log: string): ChildProcess => {
  const p = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    writeFileSync(join(dir, log), err);
  });
  return p;
};
const exited = (p: ChildProcess): Promise<number> => new Promise((r) => (p.exitCode !== null ? r(p.exitCode) : p.once('exit', (c) => r(c ?? 1))));

let listen: string;
let to: string;
let stopLink: () => Promise<unknown>;
let channel: () => { airtimeMs: number; occupancy: number; transmissions: number; destroyed: number } | undefined = () => undefined;
const t0 = Date.now();
if (kind.startsWith('kiss')) {
  const modemBaud = kind === 'kiss-300' ? 300 : 1200;
  const chain = await startDirewolfChain({ modemBaud, destroyShare: num('destroy', 0.1), seed });
  const q = `?modem=${modemBaud}${flag('txdelay') ? `&txdelay=${flag('txdelay')}` : ''}${flag('persist') ? `&persist=${flag('persist')}` : ''}${flag('slottime') ? `&slottime=${flag('slottime')}` : ''}`;
  listen = chain.b.kissUrl + q;
  to = chain.a.kissUrl + q;
  stopLink = () => chain.stop();
  channel = () => {
    const txs = [...chain.a.transmissions(), ...chain.b.transmissions()].filter((t) => t.startMs >= callStart);
    const airtimeMs = txs.reduce((s, t) => s + t.durationMs, 0);
    return { airtimeMs, occupancy: airtimeMs / Math.max(1, callEnd - callStart), transmissions: txs.length, destroyed: txs.filter((t) => t.destroyed).length };
  };
} else if (kind === 'udp') {
  const port = 20000 + Math.floor(Math.random() * 20000);
  listen = `udp://127.0.0.1:${port}`;
  const proxy = await startImpairProxy({ target: listen, link: { lossRate: num('loss', 0.1), meanBurstPackets: num('burst', 5), delayMs: num('delay-ms', 0), jitterMs: num('jitter-ms', 0), bitsPerSecond: num('bps', 300), seed } });
  to = `udp://127.0.0.1:${proxy.port}`;
  stopLink = () => proxy.close();
  channel = () => undefined;
} else throw new Error('--link kiss-1200|kiss-300|udp');

let callStart = Date.now();
let callEnd = callStart;
const rx = run(['receive', '--listen', listen, '-o', join(dir, 'heard.wav'), '--transcript', join(dir, 'rx.jsonl'), '--stats-json', join(dir, 'rx.json'), '--bps', String(num('bps', 300))], 'rx.log');
await new Promise((r) => setTimeout(r, 4000)); // engines loaded, link attached
callStart = Date.now();
const tx = run(['send', wav, '--to', to, '--mode', mode, '--bps', String(num('bps', 300)), '--transcript', join(dir, 'tx.jsonl'), '--stats-json', join(dir, 'tx.json')], 'tx.log');
const txCode = await exited(tx);
const rxCode = await Promise.race([exited(rx), new Promise<number>((r) => setTimeout(() => r(-1), 60_000))]);
if (rxCode === -1) rx.kill('SIGTERM');
await exited(rx);
const lines = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { seq: number; text: string; t: number }) : []);
const sent = lines(join(dir, 'tx.jsonl'));
const heard = lines(join(dir, 'rx.jsonl'));
callEnd = Math.max(...heard.map((h) => h.t), Date.now());
const use = channel();
await stopLink();
const sentAt = new Map(sent.map((s) => [s.seq, s.t]));
const lat = heard.filter((h) => sentAt.has(h.seq)).map((h) => h.t - sentAt.get(h.seq)!).sort((a, b) => a - b);
const q = (p: number) => lat[Math.min(lat.length - 1, Math.max(0, Math.ceil(p * lat.length) - 1))] ?? NaN;
const seqs = heard.map((h) => h.seq);
const txStats = existsSync(join(dir, 'tx.json')) ? JSON.parse(readFileSync(join(dir, 'tx.json'), 'utf8')) : {};
const rxStats = existsSync(join(dir, 'rx.json')) ? JSON.parse(readFileSync(join(dir, 'rx.json'), 'utf8')) : {};
const callSeconds = (callEnd - callStart) / 1000;
const result = {
  link: kind,
  seed,
  mode,
  phrasesSent: sent.length,
  phrasesDelivered: new Set(seqs).size,
  deliveredRatio: sent.length ? sent.filter((s) => seqs.includes(s.seq)).length / sent.length : 0,
  inOrder: seqs.every((s, i) => i === 0 || s > seqs[i - 1]!),
  duplicates: seqs.length - new Set(seqs).size,
  latencyMsMedian: Math.round(q(0.5)),
  latencyMsP95: Math.round(q(0.95)),
  latencyMsMax: Math.round(lat.at(-1) ?? NaN),
  callSeconds,
  wireBitsOut: txStats.wireBitsOut,
  wireBitsIn: txStats.wireBitsIn,
  wireBitsPerSecond: (txStats.wireBitsOut + txStats.wireBitsIn) / callSeconds,
  retransmissions: txStats.retransmissions,
  ...(use ? { channel: use } : {}),
  exitCodes: { send: txCode, receive: rxCode },
  loadAverage: (await import('node:os')).loadavg(),
  dir,
  wallSeconds: (Date.now() - t0) / 1000,
};
const out = JSON.stringify(result, null, 2);
if (flag('json')) writeFileSync(flag('json')!, out + '\n');
process.stdout.write(out + '\n');
