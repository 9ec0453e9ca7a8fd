/**
 * Shore → ship gateway benchmark (issue #18): how many concurrent real-time talks (a shore client
 * speaking to a vessel) one worker process sustains, with the real recognizer (pocketsphinx) and
 * the LM text coder on the worker, at a median added latency ≤ 1.5 s; and with 2 workers.
 * A nats-server (JetStream, temp store, loopback), the terminator in this process, workers as
 * `stcts gateway --role worker` child processes, one listening simulated vessel per talk (ARQ
 * receiver + session decoder, no TTS). Each talk: 3 dev-corpus utterances with 1 s between them,
 * written in real time (100-ms pieces) through ShoreTalk, the talks' starts spread over 2 s.
 * Added latency = the vessel has the phrase in order − the end of the utterance it starts in
 * (so it includes the recognizer's end-of-phrase wait, recognition, coding, JetStream and the link).
 *
 * Usage: node --import tsx scripts/bench-gateway-talk.ts [--json] [--corpus ../shared/corpus/dev]
 *        [--steps 2,4,6,8,10,12] [--workers 1,2] [--pin]
 * Steps stop at the first that misses the target (a talk not delivered to its End, a phrase heard
 * twice, or median > 1.5 s).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeWav, resample, toPcm16k } from '../src/audio/index.ts';
import { loadDefaultTextModel, phraseCodecFactory } from '../src/pipeline/codecs.ts';
import { listenSimulatedVessel, parseGatewayConfig, ShoreTalk, startGateway, type HeardPhrase } from '../src/gateway/index.ts';
import { NatsServerFixture } from '../test/gateway/nats-fixture.ts';
import { spawnWorker } from '../test/gateway/worker-fixture.ts';
import { cpuSeconds } from './proc-cpu.ts';

const argv = process.argv.slice(2);
const flag = (name: string, dflt: string) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : dflt;
};
const json = argv.includes('--json');
const corpus = flag('--corpus', '../shared/corpus/dev');
const steps = flag('--steps', '2,4,6,8,10,12').split(',').map(Number);
const workerCounts = flag('--workers', '1,2').split(',').map(Number);
/** Pin worker i to core i (taskset): one worker gets one core, two get two, the rest of the bench floats. */
const pin = argv.includes('--pin');
const LATENCY_TARGET_MS = 1500;
const UTTERANCES_PER_TALK = 3;
const log = (m: string) => process.stderr.write(`${m}\n`);

const quantile = (xs: number[], q = 0.5) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

/** The corpus utterances as 16 kHz PCM. */
function loadCorpus(): Int16Array[] {
  const ids = readFileSync(join(corpus, 'transcripts.tsv'), 'utf8').split('\n').slice(1).filter(Boolean).map((l) => l.split('\t')[0]!);
  return ids.map((id) => {
    const a = decodeWav(new Uint8Array(readFileSync(join(corpus, `${id}.wav`))));
    return toPcm16k(a.sampleRateHz === 16000 ? a : resample(a, 16000));
  });
}

/** A talk's speech: utterances with 1 s of silence after each, and where each ends (stream ms). */
function talkSpeech(utts: Int16Array[], first: number): { pcm: Int16Array; endsMs: number[]; startsMs: number[] } {
  const parts: Int16Array[] = [];
  const endsMs: number[] = [];
  const startsMs: number[] = [];
  let samples = 0;
  for (let k = 0; k < UTTERANCES_PER_TALK; k++) {
    const u = utts[(first + k) % utts.length]!;
    startsMs.push(samples / 16);
    parts.push(u, new Int16Array(16000));
    samples += u.length;
    endsMs.push(samples / 16);
    samples += 16000;
  }
  const pcm = new Int16Array(samples);
  let o = 0;
  for (const p of parts) { pcm.set(p, o); o += p.length; }
  return { pcm, endsMs, startsMs };
}


interface StepResult { talks: number; phrases: number; undeliveredTalks: number; duplicatePhrases: number; latencyMsMedian: number; latencyMsP95: number; workerCores: number; sustained: boolean }


async function runWith(workers: number, utts: Int16Array[], codecFor: Awaited<ReturnType<typeof phraseCodecFactory>>): Promise<{ workers: number; steps: StepResult[]; sustainedTalks: number }> {
  const nats = await NatsServerFixture.start();
  const dir = mkdtempSync(join(tmpdir(), 'stcts-bench-gwtalk-'));
  const yaml = `
nats: { servers: ['${nats.url}'] }
terminators: [{ kind: ws, listen: '127.0.0.1:0' }]
workers: { count: 1, tts: tone, max_sessions: 64 }
lease: { ttl_ms: 3000, heartbeat_ms: 1000 }
`;
  writeFileSync(join(dir, 'gateway.yaml'), yaml);
  const node = await startGateway(parseGatewayConfig(yaml), { role: 'terminator' });
  const procs = await Promise.all(Array.from({ length: workers }, (_, i) => spawnWorker(join(dir, 'gateway.yaml'), `talk-w${i + 1}`, 60_000, pin ? String(i % availableParallelism()) : undefined)));
  const results: StepResult[] = [];
  let sustainedTalks = 0;
  let vesselNo = 0;
  try {
    for (const n of steps) {
      const heard = new Map<number, HeardPhrase[]>();
      const ended = new Set<number>();
      const vessels = Array.from({ length: n }, () => `talk-v${++vesselNo}`);
      const listeners = vessels.map((v) => listenSimulatedVessel(node.terminators[0]!.address, v, codecFor, (p) => {
        heard.set(p.sessionId, [...(heard.get(p.sessionId) ?? []), p]);
      }, (id) => ended.add(id)));
      await new Promise((r) => setTimeout(r, 500)); // the vessels' links are up
      const cpu0 = procs.reduce((a, p) => a + cpuSeconds(p.pid!), 0);
      const wall0 = performance.now();
      const talks = await Promise.all(vessels.map(async (v, i) => {
        await new Promise((r) => setTimeout(r, (i * 2000) / n));
        // Talk i says the same utterances at every step (step n+1 adds one talk): the median moves with the load, not with which utterances are spoken.
        const speech = talkSpeech(utts, i * UTTERANCES_PER_TALK);
        const t = await ShoreTalk.open(node.jet, v);
        const t0 = Date.now();
        const bytes = new Uint8Array(speech.pcm.buffer);
        for (let o = 0, k = 0; o < bytes.length; o += 3200, k++) {
          const due = t0 + (k + 1) * 100 - Date.now(); // a piece is written when its last sample was spoken
          if (due > 0) await new Promise((r) => setTimeout(r, due));
          await t.write(bytes.subarray(o, o + 3200));
        }
        await t.end();
        t.close();
        return { sessionId: t.sessionId, t0, speech };
      }));
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && talks.some((t) => !ended.has(t.sessionId))) await new Promise((r) => setTimeout(r, 100));
      // The recognizer decodes on the addon's threads: a worker process may use more than one core.
      const workerCores = (procs.reduce((a, p) => a + cpuSeconds(p.pid!), 0) - cpu0) / ((performance.now() - wall0) / 1000);
      const latencies: number[] = [];
      let duplicates = 0;
      for (const t of talks) {
        const ps = heard.get(t.sessionId) ?? [];
        duplicates += ps.length - new Set(ps.map((p) => p.seq)).size;
        for (const p of ps) {
          // The utterance the phrase starts in (the recognizer may split one utterance into two phrases).
          let u = 0;
          while (u + 1 < t.speech.startsMs.length && p.startMs >= t.speech.startsMs[u + 1]! - 50) u++;
          latencies.push(p.atMs - (t.t0 + t.speech.endsMs[u]!));
        }
      }
      for (const l of listeners) l.close();
      const r: StepResult = {
        talks: n,
        phrases: latencies.length,
        undeliveredTalks: talks.filter((t) => !ended.has(t.sessionId)).length,
        duplicatePhrases: duplicates,
        latencyMsMedian: Math.round(quantile(latencies)),
        latencyMsP95: Math.round(quantile(latencies, 0.95)),
        workerCores: Number(workerCores.toFixed(2)),
        sustained: false,
      };
      r.sustained = r.undeliveredTalks === 0 && r.duplicatePhrases === 0 && r.latencyMsMedian <= LATENCY_TARGET_MS;
      results.push(r);
      log(`workers=${workers} ${JSON.stringify(r)} load=${loadavg().map((x) => x.toFixed(2)).join(',')}`);
      if (!r.sustained) break;
      sustainedTalks = n;
    }
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await node.close();
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return { workers, steps: results, sustainedTalks };
}

const utts = loadCorpus();
const codecFor = await phraseCodecFactory(await loadDefaultTextModel());
const loadBefore = loadavg();
const runs: Array<Awaited<ReturnType<typeof runWith>>> = [];
for (const w of workerCounts) runs.push(await runWith(w, utts, codecFor));
const one = runs.find((r) => r.workers === 1);
const two = runs.find((r) => r.workers === 2);
const best = (r: (typeof runs)[number] | undefined) => r?.steps.filter((s) => s.sustained).at(-1) ?? r?.steps[0];
const report = {
  direction: 'shore→ship',
  pinned: pin,
  cores: availableParallelism(),
  loadAvgBefore: loadBefore.map((x) => Number(x.toFixed(2))),
  loadAvgAfter: loadavg().map((x) => Number(x.toFixed(2))),
  // Sustained talks ÷ the cores the worker processes used on that step (the addon decodes off the event loop, so one worker may use more than one).
  talksPerCore: best(one)?.sustained ? Number((best(one)!.talks / Math.max(1, best(one)!.workerCores)).toFixed(2)) : null,
  sustainedTalks: Object.fromEntries(runs.map((r) => [`${r.workers}worker${r.workers > 1 ? 's' : ''}`, r.sustainedTalks])),
  scaling2vs1: one && two && one.sustainedTalks > 0 ? Number((two.sustainedTalks / one.sustainedTalks).toFixed(2)) : null,
  undeliveredTalks: runs.reduce((a, r) => a + r.steps.reduce((b, s) => b + s.undeliveredTalks, 0), 0),
  duplicatePhrases: runs.reduce((a, r) => a + r.steps.reduce((b, s) => b + s.duplicatePhrases, 0), 0),
  latencyMsMedian: best(one)?.latencyMsMedian ?? null,
  latencyMsP95: best(one)?.latencyMsP95 ?? null,
  latencyMsMedian2Workers: best(two)?.latencyMsMedian ?? null,
  runs,
};
if (json) process.stdout.write(`${JSON.stringify(report)}\n`);
else process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
process.exit(0);
