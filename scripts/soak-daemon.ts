/**
 * Soak run of the edge daemon (issue #8): two daemons in one process, linked over loopback through
 * the link emulator (default 300 bit/s, 10 % Gilbert–Elliott loss, mean burst 5), each with a
 * WAV-loop endpoint speaking a Festival-synthesized recording in real time. Reports every minute
 * (RSS, heap, phrases sent/delivered, link use); at the end stops the microphones, waits for the
 * links to drain and checks that every text segment arrived, in order, and that memory stayed
 * bounded. Exit code 0 = pass.
 *
 *   node --import tsx scripts/soak-daemon.ts --minutes 30 [--bps 300] [--loss 0.1] [--burst 5]
 *        [--delay-ms 300] [--seed 1] [--max-rss-growth-mb 96] [--json OUT.json]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readWavFile, writeWavFile } from '../src/audio/index.ts';
import { parseArgs, numberFlag, stringFlag } from '../src/cli/args.ts';
import { createLogger } from '../src/core/log.ts';
import { parseConfig, startDaemon, WavLoopEndpoint } from '../src/daemon/index.ts';
import { loadDefaultTextModel } from '../src/pipeline/codecs.ts';

const SCRIPT_A = [
  'The wind is from the north west at twenty knots.',
  'We expect to reach the harbour before noon tomorrow.',
  'Please confirm the position of the fishing fleet.',
  'The engine room reports all systems are working normally.',
  'Visibility is good and the sea state is moderate.',
];
const SCRIPT_B = [
  'Message received, the harbour master is waiting for you.',
  'The fishing fleet is ten miles south of the island.',
  'A storm warning has been issued for the evening.',
  'Please report your fuel and water supplies.',
];

const p = parseArgs(process.argv.slice(2), { values: ['minutes', 'bps', 'loss', 'burst', 'delay-ms', 'jitter-ms', 'seed', 'max-rss-growth-mb', 'json', 'log-level'] });
const minutes = numberFlag(p, 'minutes', { min: 0.1 }) ?? 30;
const bps = numberFlag(p, 'bps', { min: 10 }) ?? 300;
const loss = numberFlag(p, 'loss', { min: 0, max: 0.9 }) ?? 0.1;
const burst = numberFlag(p, 'burst', { min: 1 }) ?? 5;
const delayMs = numberFlag(p, 'delay-ms', { min: 0 }) ?? 300;
const jitterMs = numberFlag(p, 'jitter-ms', { min: 0 }) ?? 50;
const seed = numberFlag(p, 'seed') ?? 1;
const maxRssGrowthMb = numberFlag(p, 'max-rss-growth-mb', { min: 1 }) ?? 96;
const jsonOut = stringFlag(p, 'json');
const logLevel = (stringFlag(p, 'log-level') ?? 'warn') as 'debug' | 'info' | 'warn' | 'error';

const out = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);

/** One WAV of the sentences, each synthesized by Festival, with 1.2 s of silence after each. */
async function synthesize(dir: string, name: string, sentences: string[]): Promise<string> {
  const parts: Float32Array[] = [];
  let rate = 16000;
  for (const [i, sentence] of sentences.entries()) {
    const txt = join(dir, `${name}-${i}.txt`);
    const wav = join(dir, `${name}-${i}.wav`);
    writeFileSync(txt, sentence + '\n');
    execFileSync('text2wave', ['-o', wav, txt], { stdio: ['ignore', 'ignore', 'inherit'] });
    const audio = await readWavFile(wav);
    rate = audio.sampleRateHz;
    parts.push(audio.samples, new Float32Array(Math.round(1.2 * rate)));
  }
  const samples = new Float32Array(parts.reduce((n, x) => n + x.length, 0));
  let o = 0;
  for (const x of parts) {
    samples.set(x, o);
    o += x.length;
  }
  const path = join(dir, `${name}.wav`);
  await writeWavFile(path, { samples, sampleRateHz: rate });
  return path;
}

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'stcts-soak-'));
  const wavA = await synthesize(dir, 'a', SCRIPT_A);
  const wavB = await synthesize(dir, 'b', SCRIPT_B);
  out(`speech: ${wavA}, ${wavB}; link ${bps} bit/s, loss ${loss}, burst ${burst}, delay ${delayMs}±${jitterMs} ms, ${minutes} min`);
  const textModel = await loadDefaultTextModel();
  const psk = 'soak-psk-7f3a9c1e5b2d4f60a8e1';
  const emu = (s: number) => `emulator: { bits_per_second: ${bps}, loss: ${loss}, burst: ${burst}, delay_ms: ${delayMs}, jitter_ms: ${jitterMs}, seed: ${s} }`;
  const common = `codec: { mode: balanced, text: lm }\nengines: { asr: pocketsphinx, tts: auto }\nlog: { level: ${logLevel} }\n`;
  const log = (node: string) => createLogger({ level: logLevel }, { node });
  const shore = await startDaemon(parseConfig(`node: shore\nhttp: { listen: "127.0.0.1:0" }\nlink: { listen: "127.0.0.1:0" }\npeers:\n  - { name: ship, psk: "${psk}", bits_per_second: ${bps} }\n${common}${emu(seed * 2 + 1)}`), { textModel, log: log('shore') });
  const ship = await startDaemon(parseConfig(`node: ship\nhttp: { listen: "127.0.0.1:0" }\npeers:\n  - { name: shore, url: "ws://127.0.0.1:${shore.linkPort}", psk: "${psk}", bits_per_second: ${bps} }\n${common}${emu(seed * 2)}`), { textModel, log: log('ship') });
  const epA = await WavLoopEndpoint.fromFile(wavA, { id: 'ship-wav', loops: Infinity, gapMs: 2000 });
  const epB = await WavLoopEndpoint.fromFile(wavB, { id: 'shore-wav', loops: Infinity, gapMs: 2000 });
  const calls = [ship.host.attach(epA), shore.host.attach(epB)];
  const t0 = Date.now();
  const samples: Array<Record<string, number>> = [];
  const report = (label: string) => {
    const mem = process.memoryUsage();
    const ms = ship.metrics().peers[0]!;
    const mh = shore.metrics().peers[0]!;
    const s = {
      minute: Math.round((Date.now() - t0) / 600) / 100,
      rssMb: Math.round(mem.rss / 1048576),
      heapMb: Math.round(mem.heapUsed / 1048576),
      shipSent: epA.sent.length,
      shoreHeard: epB.heard.length,
      shoreSent: epB.sent.length,
      shipHeard: epA.heard.length,
      shipBpsOut: Math.round((sumBits(ms.bitsOut) * 1000) / Math.max(1, Date.now() - t0)),
      shoreBpsOut: Math.round((sumBits(mh.bitsOut) * 1000) / Math.max(1, Date.now() - t0)),
      lostShipToShore: ms.packetsLostOut,
      lostShoreToShip: mh.packetsLostOut,
      retransmissions: ms.retransmissions + mh.retransmissions,
      queued: ms.queuedFrames + mh.queuedFrames,
    };
    samples.push(s);
    out(`${label} ${JSON.stringify(s)}`);
  };
  const timer = setInterval(() => report('minute'), 60_000);
  await new Promise((r) => setTimeout(r, minutes * 60_000));
  clearInterval(timer);
  report('stopping speech');
  epA.stopSpeaking();
  epB.stopSpeaking();
  // The microphones stay open (silence) so both calls keep hearing: wait until every phrase said
  // was heard on the other side (or 10 minutes), then end the calls.
  await new Promise((r) => setTimeout(r, 5000));
  const t1 = Date.now();
  const caughtUp = () => epB.heard.length >= epA.sent.length && epA.heard.length >= epB.sent.length;
  while (!caughtUp() && Date.now() - t1 < 10 * 60_000) await new Promise((r) => setTimeout(r, 500));
  const drainSeconds = (Date.now() - t1) / 1000;
  epA.stop();
  epB.stop();
  const drained = await Promise.race([Promise.allSettled(calls).then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 120_000))]);
  report('final');
  const inOrder = (sent: string[], heard: string[]) => sent.length === heard.length && sent.every((t, i) => heard[i] === t);
  const aOk = inOrder(epA.sent, epB.heard);
  const bOk = inOrder(epB.sent, epA.heard);
  // Phrase recognized at one end → its synthesized audio handed to the other end's speaker.
  const latencies = (from: WavLoopEndpoint, to: WavLoopEndpoint) => {
    const outs = from.events.filter((e) => e.type === 'transcript' && e.direction === 'out');
    const ins = to.events.filter((e) => e.type === 'transcript' && e.direction === 'in');
    return ins.map((e, i) => e.atMs - (outs[i]?.atMs ?? e.atMs)).sort((x, y) => x - y);
  };
  const lat = [...latencies(epA, epB), ...latencies(epB, epA)].sort((x, y) => x - y);
  const q = (f: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(f * lat.length))]! / 1000 : NaN);
  const latencySeconds = { median: q(0.5), p90: q(0.9), max: q(1) };
  const warm = samples.find((s) => s.minute >= Math.min(5, minutes / 2)) ?? samples[0]!;
  const last = samples[samples.length - 1]!;
  const rssGrowthMb = last.rssMb - warm.rssMb;
  const memOk = rssGrowthMb <= maxRssGrowthMb;
  const result = {
    minutes,
    link: { bps, loss, burst, delayMs, jitterMs, seed },
    drained,
    drainSeconds,
    latencySeconds,
    shipToShore: { sent: epA.sent.length, delivered: epB.heard.length, inOrder: aOk },
    shoreToShip: { sent: epB.sent.length, delivered: epA.heard.length, inOrder: bOk },
    rssMb: { afterWarmup: warm.rssMb, final: last.rssMb, max: Math.max(...samples.map((s) => s.rssMb)), growth: rssGrowthMb, limitGrowth: maxRssGrowthMb },
    heapMb: { afterWarmup: warm.heapMb, final: last.heapMb, max: Math.max(...samples.map((s) => s.heapMb)) },
    ship: ship.metrics(),
    shore: shore.metrics(),
    samples,
  };
  if (!aOk) out(`MISMATCH ship→shore:\n sent ${JSON.stringify(epA.sent)}\n heard ${JSON.stringify(epB.heard)}`);
  if (!bOk) out(`MISMATCH shore→ship:\n sent ${JSON.stringify(epB.sent)}\n heard ${JSON.stringify(epA.heard)}`);
  out(`result ${JSON.stringify({ ...result, samples: undefined, ship: undefined, shore: undefined })}`);
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify(result, null, 2));
  await ship.close();
  await shore.close();
  const pass = aOk && bOk && memOk && epA.sent.length > 0 && epB.sent.length > 0;
  out(pass ? 'PASS' : 'FAIL');
  return pass ? 0 : 1;
}

function sumBits(r: Record<string, number>): number {
  return Object.values(r).reduce((a, b) => a + b, 0);
}

main().then((code) => process.exit(code), (err) => {
  process.stderr.write(`soak failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
