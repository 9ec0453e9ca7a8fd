/**
 * Shore gateway benchmark (issue #18): how many concurrent real-time vessel calls one worker
 * process (one core) sustains with a median added latency ≤ 1.5 s, and how that scales with 2.
 * A nats-server (JetStream, temp store, loopback), the WebSocket terminator in this process, the
 * workers as `stcts gateway --role worker` child processes with the real TTS (auto: HTS, else flite).
 * Each call: LM-coded phrases handed to the link at the end of each phrase (every --interval-ms),
 * as a live talker's sender would. Added latency = phrase PCM stored in JetStream and received by
 * a shore subscriber − the moment the vessel handed the phrase to its link.
 *
 * Usage: node --import tsx scripts/bench-gateway.ts [--json] [--phrases 6] [--interval-ms 2500]
 *        [--steps 4,8,12,16,20,24,28] [--workers 1,2] [--tts auto|hts|flite|tone]
 * Steps stop at the first that misses the target (a lost or repeated phrase, or median > 1.5 s).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDefaultTextModel } from '../src/pipeline/codecs.ts';
import { parseGatewayConfig, runSimulatedCall, shorePcm, startGateway } from '../src/gateway/index.ts';
import { NatsServerFixture } from '../test/gateway/nats-fixture.ts';
import { spawnWorker } from '../test/gateway/worker-fixture.ts';
import { cpuSeconds } from './proc-cpu.ts';

const argv = process.argv.slice(2);
const flag = (name: string, dflt: string) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : dflt;
};
const json = argv.includes('--json');
const phrasesPerCall = Number(flag('--phrases', '6'));
const intervalMs = Number(flag('--interval-ms', '2500'));
const steps = flag('--steps', '4,8,12,16,20,24,28').split(',').map(Number);
const workerCounts = flag('--workers', '1,2').split(',').map(Number);
const tts = flag('--tts', 'auto');
const LATENCY_TARGET_MS = 1500;
const SENTENCES = [
  'the vessel is now twelve miles west of the harbour entrance',
  'we request a pilot for the approach at six in the morning',
  'wind is from the north west at twenty knots with a moderate swell',
  'one of the crew has an injured hand and needs to see a doctor',
  'please confirm the berth number and the time of the tide',
  'our engine is running normally and we expect no delay',
];
const log = (m: string) => process.stderr.write(`${m}\n`);

interface StepResult { calls: number; phrases: number; lostPhrases: number; duplicatePhrases: number; latencyMsMedian: number; latencyMsP95: number; workerCores: number; sustained: boolean }

const median = (xs: number[], q = 0.5) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};


async function runWith(workers: number, model: Awaited<ReturnType<typeof loadDefaultTextModel>>): Promise<{ workers: number; steps: StepResult[]; sustainedCalls: number }> {
  const nats = await NatsServerFixture.start();
  const dir = mkdtempSync(join(tmpdir(), 'stcts-bench-gw-'));
  const yaml = `
nats: { servers: ['${nats.url}'] }
terminators: [{ kind: ws, listen: '127.0.0.1:0' }]
workers: { count: 1, tts: ${tts}, max_sessions: 64 }
lease: { ttl_ms: 3000, heartbeat_ms: 1000 }
`;
  writeFileSync(join(dir, 'gateway.yaml'), yaml);
  const node = await startGateway(parseGatewayConfig(yaml), { role: 'terminator' });
  const procs = await Promise.all(Array.from({ length: workers }, (_, i) => spawnWorker(join(dir, 'gateway.yaml'), `bench-w${i + 1}`)));
  const arrived = new Map<string, number>();
  let duplicates = 0;
  const stop = new AbortController();
  const shore = (async () => {
    for await (const p of shorePcm(node.jet.js, undefined, stop.signal)) {
      if (p.end || p.part !== 0) continue;
      const k = `${p.sessionId}.${p.seq}`;
      if (arrived.has(k)) duplicates++;
      else arrived.set(k, Date.now());
    }
  })().catch(() => {});
  const results: StepResult[] = [];
  let sustainedCalls = 0;
  let nextSession = 1;
  try {
    for (const n of steps) {
      const dupBefore = duplicates;
      const ids = Array.from({ length: n }, () => nextSession++);
      const url = node.terminators[0]!.address;
      const cpu0 = procs.reduce((a, p) => a + cpuSeconds(p.pid!), 0);
      const wall0 = performance.now();
      const calls = await Promise.all(ids.map((id, i) => {
        const phrases = Array.from({ length: phrasesPerCall }, (_, k) => SENTENCES[(i + k) % SENTENCES.length]!);
        return runSimulatedCall({ url, vessel: `bench-${id}`, sessionId: id, phrases, phraseIntervalMs: intervalMs, model });
      }));
      const deadline = Date.now() + 15_000;
      const want = calls.flatMap((c, i) => c.phraseSeqs.map((s) => `${ids[i]}.${s}`));
      while (Date.now() < deadline && want.some((k) => !arrived.has(k))) await new Promise((r) => setTimeout(r, 100));
      // Cores the worker processes used (the TTS addon synthesizes off the event loop: a worker may use more than one).
      const workerCores = (procs.reduce((a, p) => a + cpuSeconds(p.pid!), 0) - cpu0) / ((performance.now() - wall0) / 1000);
      const latencies: number[] = [];
      let lost = 0;
      calls.forEach((c, i) => {
        for (const s of c.phraseSeqs) {
          const at = arrived.get(`${ids[i]}.${s}`);
          if (at === undefined) lost++;
          else latencies.push(at - c.sentAtMs.get(s)!);
        }
      });
      const r: StepResult = { calls: n, phrases: want.length, lostPhrases: lost, duplicatePhrases: duplicates - dupBefore, latencyMsMedian: Math.round(median(latencies)), latencyMsP95: Math.round(median(latencies, 0.95)), workerCores: Number(workerCores.toFixed(2)), sustained: false };
      r.sustained = r.lostPhrases === 0 && r.duplicatePhrases === 0 && r.latencyMsMedian <= LATENCY_TARGET_MS;
      results.push(r);
      log(`workers=${workers} ${JSON.stringify(r)} load=${loadavg().map((x) => x.toFixed(2)).join(',')}`);
      if (!r.sustained) break;
      sustainedCalls = n;
    }
  } finally {
    stop.abort();
    await shore;
    for (const p of procs) p.kill('SIGTERM');
    await node.close();
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return { workers, steps: results, sustainedCalls };
}

const model = await loadDefaultTextModel();
const loadBefore = loadavg();
const runs: Array<Awaited<ReturnType<typeof runWith>>> = [];
for (const w of workerCounts) runs.push(await runWith(w, model));
const one = runs.find((r) => r.workers === 1);
const two = runs.find((r) => r.workers === 2);
const best = (r: (typeof runs)[number] | undefined) => r?.steps.filter((s) => s.sustained).at(-1) ?? r?.steps[0];
const report = {
  tts,
  phrasesPerCall,
  intervalMs,
  cores: availableParallelism(),
  loadAvgBefore: loadBefore.map((x) => Number(x.toFixed(2))),
  loadAvgAfter: loadavg().map((x) => Number(x.toFixed(2))),
  // One worker is one process on one core: its sustained calls are the calls per core.
  callsPerCore: one?.sustainedCalls ?? null,
  // The same, divided by the cores the worker process measurably used on that step (at least 1).
  callsPerCoreUsed: best(one)?.sustained ? Number((best(one)!.calls / Math.max(1, best(one)!.workerCores)).toFixed(2)) : null,
  sustainedCalls: Object.fromEntries(runs.map((r) => [`${r.workers}worker${r.workers > 1 ? 's' : ''}`, r.sustainedCalls])),
  scaling2vs1: one && two && one.sustainedCalls > 0 ? Number((two.sustainedCalls / one.sustainedCalls).toFixed(2)) : null,
  // Over every step, the overloaded last one too (a phrase not stored within 15 s of the call's end counts as lost).
  lostPhrases: runs.reduce((a, r) => a + r.steps.reduce((b, s) => b + s.lostPhrases, 0), 0),
  duplicatePhrases: runs.reduce((a, r) => a + r.steps.reduce((b, s) => b + s.duplicatePhrases, 0), 0),
  latencyMsMedian: best(one)?.latencyMsMedian ?? null,
  latencyMsMedian2Workers: best(two)?.latencyMsMedian ?? null,
  runs,
};
if (json) process.stdout.write(`${JSON.stringify(report)}\n`);
else process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
process.exit(0);
