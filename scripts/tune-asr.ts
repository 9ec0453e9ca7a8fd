// Two-fold re-tuning of the pocketsphinx decoder flags (issue #17 item 3): tune on half of the
// speakers, check the gain on the other half, and the other way round.
//   node --import tsx scripts/tune-asr.ts [CORPUS_DIR] [--json] [--cache PATH] [--passes N] [--no-cache]
//
// Split (fixed): speakers are sorted numerically within each sex, F first then M, and dealt
// alternately to half 1 and half 2 (on dev: half 1 = F 237 4446, M 260 6930; half 2 = F 1580 5142,
// M 2830). Fold A tunes on half 1 and tests on half 2; fold B the reverse.
//
// Tuning: coordinate search from the current default, one coordinate at a time in the order of
// COORDINATES; a value replaces the current one only if it makes strictly fewer word errors on the
// tuning half and is not much slower (RTF ≤ MAX_RTF_RATIO × the default's RTF on the same
// utterances, i.e. 0.22 at the default's 0.156). --passes repeats the sweep (default 1).
//
// Chosen: a setting is kept only if both folds independently pick it and it lowers the errors on
// the held-out half of both folds. Otherwise `chosen` is null and the default stays.
//
// Decodes are cached per (models, VAD, flag set, utterance) in /tmp/stcts-tune-asr-cache.json, so a
// re-run only decodes what is new; cached RTFs are those of the run that decoded them.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { transcribeAudio } from '../src/engines/asr/index.ts';
import { defaultPocketsphinxOptions, PocketsphinxEngine } from '../src/engines/asr/pocketsphinx.ts';
import { loadUtteranceAudio, readCorpus, type CorpusUtterance } from '../src/eval/corpus.ts';
import { corpusWer } from '../src/eval/wer.ts';

type Flags = Record<string, string>;
/** One coordinate: alternative values for a group of flags; `{}` = the flags absent (pocketsphinx's own default). */
interface Coordinate {
  name: string;
  keys: string[];
  values: Flags[];
}

/** pocketsphinx 5prealpha defaults: -lw 6.5, -bestpathlw 9.5, -wip 0.65, -beam 1e-48, -wbeam 7e-29, -fwdflat/-bestpath yes. */
const COORDINATES: Coordinate[] = [
  { name: 'lw', keys: ['-lw'], values: [{}, { '-lw': '5.5' }, { '-lw': '8' }, { '-lw': '10' }] },
  { name: 'bestpathlw', keys: ['-bestpathlw'], values: [{}, { '-bestpathlw': '8' }, { '-bestpathlw': '11' }, { '-bestpathlw': '13' }] },
  { name: 'wip', keys: ['-wip'], values: [{}, { '-wip': '0.2' }, { '-wip': '2' }] },
  { name: 'beams', keys: ['-beam', '-wbeam'], values: [{}, { '-beam': '1e-60', '-wbeam': '1e-35' }, { '-beam': '1e-40', '-wbeam': '1e-24' }] },
  { name: 'passes', keys: ['-fwdflat', '-bestpath'], values: [{}, { '-fwdflat': 'no' }, { '-bestpath': 'no' }] },
  { name: 'maxhmmpf', keys: ['-maxhmmpf'], values: [{ '-maxhmmpf': '3000' }, { '-maxhmmpf': '2000' }, { '-maxhmmpf': '5000' }] },
];
/** 0.22 / 0.156: the slowest recognition accepted, relative to the default measured on the same utterances. */
const MAX_RTF_RATIO = 0.22 / 0.156;

interface Decoded {
  hyp: string;
  procMs: number;
  audioSec: number;
}
interface Score {
  wer: number;
  errors: number;
  refWords: number;
  rtf: number;
}

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const positional = args.filter((a, i) => !a.startsWith('--') && !['--cache', '--passes'].includes(args[i - 1] ?? ''));
const dir = positional[0] ?? new URL('../../shared/corpus/dev', import.meta.url).pathname;
const cachePath = opt('--cache') ?? '/tmp/stcts-tune-asr-cache.json';
const passes = Math.max(1, Number(opt('--passes') ?? 1));
const json = args.includes('--json');
const log = (s: string) => (json ? process.stderr : process.stdout).write(`${s}\n`);

const base = defaultPocketsphinxOptions();
const baselineFlags: Flags = { ...base.decoderFlags };
const cacheScope = JSON.stringify([base.hmm, base.lm, base.dict, base.vadId, base.speculative]);
const cache: Record<string, Record<string, Decoded>> = !args.includes('--no-cache') && existsSync(cachePath) ? JSON.parse(readFileSync(cachePath, 'utf8')) : {};

const flagKey = (f: Flags) => JSON.stringify(Object.entries(f).sort(([a], [b]) => a.localeCompare(b)));
const show = (f: Flags) => Object.entries(f).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k} ${v}`).join(' ') || '(pocketsphinx defaults)';

const corpus = await readCorpus(dir);
const audioCache = new Map<string, Awaited<ReturnType<typeof loadUtteranceAudio>>>();

/** Decodes the utterances not yet cached for this flag set (one engine, one phrase at a time). */
async function decodeAll(flags: Flags, utts: CorpusUtterance[]): Promise<Decoded[]> {
  const key = `${cacheScope}|${flagKey(flags)}`;
  const entry = (cache[key] ??= {});
  const missing = utts.filter((u) => !entry[u.id]);
  if (missing.length > 0) {
    log(`decoding ${missing.length} utterances with ${show(flags)}`);
    const engine = new PocketsphinxEngine({ ...base, decoderFlags: flags });
    try {
      for (const u of missing) {
        let audio = audioCache.get(u.id);
        if (!audio) audioCache.set(u.id, (audio = await loadUtteranceAudio(u)));
        const t0 = performance.now();
        const hyp = (await transcribeAudio(engine, audio)).map((r) => r.text).join(' ');
        entry[u.id] = { hyp, procMs: performance.now() - t0, audioSec: audio.samples.length / 16000 };
      }
    } finally {
      await engine.close();
    }
    writeFileSync(cachePath, JSON.stringify(cache));
  }
  return utts.map((u) => entry[u.id]!);
}

async function score(flags: Flags, utts: CorpusUtterance[]): Promise<Score> {
  const d = await decodeAll(flags, utts);
  const w = corpusWer(utts.map((u, i) => ({ reference: u.transcript, hypothesis: d[i]!.hyp })));
  const procMs = d.reduce((s, x) => s + x.procMs, 0);
  const audioSec = d.reduce((s, x) => s + x.audioSec, 0);
  return { wer: w.wer, errors: w.errors, refWords: w.refWords, rtf: procMs / 1000 / audioSec };
}

function withValue(flags: Flags, c: Coordinate, value: Flags): Flags {
  const out = { ...flags };
  for (const k of c.keys) delete out[k];
  return { ...out, ...value };
}

/** Coordinate search on `utts` from the default flags. */
async function tune(utts: CorpusUtterance[]): Promise<{ best: Flags; score: Score; baseline: Score }> {
  const baseline = await score(baselineFlags, utts);
  let best = baselineFlags;
  let bestScore = baseline;
  for (let pass = 0; pass < passes; pass++) {
    let moved = false;
    for (const c of COORDINATES) {
      for (const v of c.values) {
        const cand = withValue(best, c, v);
        if (flagKey(cand) === flagKey(best)) continue;
        const s = await score(cand, utts);
        const fastEnough = s.rtf <= MAX_RTF_RATIO * baseline.rtf;
        log(`  ${c.name}: ${show(cand)} → WER ${s.wer.toFixed(3)} (${s.errors}/${s.refWords}) RTF ${s.rtf.toFixed(3)}${fastEnough ? '' : ' (too slow)'}`);
        if (fastEnough && s.errors < bestScore.errors) {
          best = cand;
          bestScore = s;
          moved = true;
        }
      }
    }
    if (!moved) break;
  }
  return { best, score: bestScore, baseline };
}

/** Numeric speaker order within each sex (F, then M, then unknown), dealt alternately. */
function splitSpeakers(utts: CorpusUtterance[]): [string[], string[]] {
  const sexOf = new Map<string, 'F' | 'M' | '?'>(utts.map((u) => [u.speaker, u.sex ?? '?']));
  const order = { F: 0, M: 1, '?': 2 } as const;
  const speakers = [...sexOf.keys()].sort((a, b) => order[sexOf.get(a)!] - order[sexOf.get(b)!] || Number(a) - Number(b) || a.localeCompare(b));
  const halves: [string[], string[]] = [[], []];
  let next = 0;
  let lastSex = '';
  for (const s of speakers) {
    // Each sex starts on the half that has fewer speakers so far (then the first half on a tie).
    if (sexOf.get(s) !== lastSex) {
      next = halves[1].length < halves[0].length ? 1 : 0;
      lastSex = sexOf.get(s)!;
    }
    halves[next].push(s);
    next = 1 - next;
  }
  return halves;
}

const halves = splitSpeakers(corpus);
const uttsOf = (speakers: string[]) => corpus.filter((u) => speakers.includes(u.speaker));
const folds = [];
for (const [name, tuneSpeakers, testSpeakers] of [['A', halves[0], halves[1]], ['B', halves[1], halves[0]]] as const) {
  log(`fold ${name}: tune on speakers ${tuneSpeakers.join(' ')}, test on ${testSpeakers.join(' ')}`);
  const t = await tune(uttsOf(tuneSpeakers));
  const test = await score(t.best, uttsOf(testSpeakers));
  const baselineTest = await score(baselineFlags, uttsOf(testSpeakers));
  log(`fold ${name}: best ${show(t.best)}; tune WER ${t.score.wer.toFixed(3)} (default ${t.baseline.wer.toFixed(3)}), test WER ${test.wer.toFixed(3)} (default ${baselineTest.wer.toFixed(3)})`);
  folds.push({
    tuneSpeakers: [...tuneSpeakers],
    testSpeakers: [...testSpeakers],
    best: t.best,
    tuneWer: t.score.wer,
    testWer: test.wer,
    baselineTuneWer: t.baseline.wer,
    baselineTestWer: baselineTest.wer,
    errors: { tune: t.score.errors, baselineTune: t.baseline.errors, test: test.errors, baselineTest: baselineTest.errors, tuneRefWords: t.score.refWords, testRefWords: test.refWords },
    rtf: { tune: t.score.rtf, baselineTune: t.baseline.rtf, test: test.rtf, baselineTest: baselineTest.rtf },
  });
}

const sameBest = flagKey(folds[0]!.best) === flagKey(folds[1]!.best) && flagKey(folds[0]!.best) !== flagKey(baselineFlags);
const heldOutGain = folds.every((f) => f.errors.test < f.errors.baselineTest);
const chosen = sameBest && heldOutGain ? folds[0]!.best : null;
const full = await score(chosen ?? baselineFlags, corpus);
const baselineHalves = [await score(baselineFlags, uttsOf(halves[0])), await score(baselineFlags, uttsOf(halves[1]))];
// Every flag set already decoded on both halves (from the default, both folds try the same first
// values): the "best summed over both halves" view, for the report only (it selects on all of dev).
const crossCheck = [];
for (const [key, entry] of Object.entries(cache)) {
  if (!key.startsWith(`${cacheScope}|`) || !corpus.every((u) => entry[u.id])) continue;
  const flags: Flags = Object.fromEntries(JSON.parse(key.slice(cacheScope.length + 1)) as Array<[string, string]>);
  const h = [await score(flags, uttsOf(halves[0])), await score(flags, uttsOf(halves[1]))];
  crossCheck.push({ flags, errorsHalf1: h[0]!.errors, errorsHalf2: h[1]!.errors, helpsBothHalves: h.every((x, i) => x.errors < baselineHalves[i]!.errors), wer: (h[0]!.errors + h[1]!.errors) / (h[0]!.refWords + h[1]!.refWords) });
}
crossCheck.sort((a, b) => a.wer - b.wer);
const baselineFull = await score(baselineFlags, corpus);
const summary = {
  corpus: dir,
  baselineFlags,
  folds,
  chosen,
  reason: chosen ? 'both folds picked this setting and it lowered the held-out errors in both' : sameBest ? 'both folds picked the same setting but it did not lower the held-out errors in both' : 'the folds picked different settings (or kept the default): no setting is supported by both halves',
  crossCheck: { baselineErrorsHalf1: baselineHalves[0]!.errors, baselineErrorsHalf2: baselineHalves[1]!.errors, refWordsHalf1: baselineHalves[0]!.refWords, refWordsHalf2: baselineHalves[1]!.refWords, settings: crossCheck },
  fullDevWer: full.wer,
  baselineFullDevWer: baselineFull.wer,
  fullDevRtf: full.rtf,
  baselineFullDevRtf: baselineFull.rtf,
};
if (json) console.log(JSON.stringify(summary, null, 2));
else {
  log(`chosen: ${chosen ? show(chosen) : 'none (default kept)'}: ${summary.reason}`);
  for (const c of crossCheck) log(`both halves: ${show(c.flags)} → errors ${c.errorsHalf1}/${c.errorsHalf2} (default ${baselineHalves[0]!.errors}/${baselineHalves[1]!.errors}), WER ${c.wer.toFixed(3)}`);
  log(`full dev WER ${full.wer.toFixed(3)} RTF ${full.rtf.toFixed(3)} (default ${baselineFull.wer.toFixed(3)}, RTF ${baselineFull.rtf.toFixed(3)})`);
}
