// Unsupervised per-speaker MLLR adaptation of pocketsphinx, measured (issue #17 item 2).
//   node --import tsx scripts/bench-mllr.ts [CORPUS_DIR] [--json] [--cache PATH] [--no-cache]
//
// First pass: every utterance decoded by the default recognizer (VAD phrases, as the sender does);
// its words, times and posteriors are the adaptation transcript (nothing from the reference).
// Per variant and speaker:
//   held-out ("loo"): each utterance is decoded with a transform estimated from the speaker's OTHER
//     utterances only (leave-one-out), so no utterance is decoded with a transform made from its audio;
//   self-included ("all", labelled as such): one transform from all the speaker's utterances,
//     used on each of them — optimistic, reported only for comparison.
// A speaker with too little kept speech gets no transform: that utterance is decoded unadapted.
// Choosing a variant: on half 1 of the speakers (tune-asr.ts's split: F 237 4446, M 260 6930), the one
// with fewest held-out errors; its held-out errors are then reported on half 2 (F 1580 5142, M 2830),
// and the other way round. No variant is picked on all of dev.
// WER: src/eval/wer.ts (Σ errors / Σ reference words). Decodes are cached in /tmp by (models, flags,
// variant, mode, utterance), so re-runs only decode what is new. Progress on stderr.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { toPcm16k } from '../src/audio/resample.ts';
import { transcribeAudio } from '../src/engines/asr/index.ts';
import { MllrAdapter, type AdaptationUtterance, type MllrOptions } from '../src/engines/asr/mllr.ts';
import { defaultPocketsphinxOptions, PocketsphinxEngine } from '../src/engines/asr/pocketsphinx.ts';
import type { AsrWord } from '../src/engines/asr/types.ts';
import { loadUtteranceAudio, readCorpus, type CorpusUtterance } from '../src/eval/corpus.ts';
import { wordErrorRate } from '../src/eval/wer.ts';

interface Variant {
  name: string;
  options: Partial<MllrOptions>;
}
/**
 * The first four were fixed before any adapted decode was scored; the two variance-adapting ones
 * were added after (Debian's mllr_solve has no variance adaptation; MllrAdapter estimates it itself).
 */
const VARIANTS: Variant[] = [
  { name: 'full, all words', options: { fullMatrix: true, minConfidence: 0 } },
  { name: 'full, conf>=0.5', options: { fullMatrix: true, minConfidence: 0.5 } },
  { name: 'full, conf>=0.8', options: { fullMatrix: true, minConfidence: 0.8 } },
  { name: 'bias only, all words', options: { fullMatrix: false, minConfidence: 0 } },
  { name: 'full + variances, all words', options: { fullMatrix: true, minConfidence: 0, adaptVariances: true } },
  { name: 'full + variances, conf>=0.5', options: { fullMatrix: true, minConfidence: 0.5, adaptVariances: true } },
];

interface FirstPass {
  hyp: string;
  words: AsrWord[];
}
interface AdaptedDecode {
  hyp: string;
  /** null: no transform (too little kept speech), decoded unadapted. */
  speechSec: number | null;
  adaptMs: number | null;
}
interface SpeakerRow {
  speaker: string;
  sex: string | undefined;
  utterances: number;
  refWords: number;
  baselineErrors: number;
  heldOutErrors: number;
  selfIncludedErrors: number;
  heldOutSpeechSec: number[];
  selfIncludedSpeechSec: number | null;
  adaptMs: number[];
  /** Held-out utterances decoded unadapted (the other utterances kept too little speech). */
  heldOutUnadapted: number;
  /** Held-out utterances with fewer / more errors than the first pass. */
  heldOutBetter: number;
  heldOutWorse: number;
}
type Total = 'refWords' | 'baselineErrors' | 'heldOutErrors' | 'selfIncludedErrors' | 'heldOutBetter' | 'heldOutWorse';
interface Cache {
  firstPass: Record<string, FirstPass>;
  adapted: Record<string, AdaptedDecode>;
}

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const positional = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--cache');
const dir = positional[0] ?? new URL('../../shared/corpus/dev', import.meta.url).pathname;
const cachePath = opt('--cache') ?? '/tmp/stcts-bench-mllr-cache.json';
const json = args.includes('--json');
const log = (s: string) => process.stderr.write(`${s}\n`);

const base = defaultPocketsphinxOptions();
const scope = JSON.stringify([base.hmm, base.lm, base.dict, base.vadId, base.speculative, base.decoderFlags]);
const cache: Cache = !args.includes('--no-cache') && existsSync(cachePath) ? JSON.parse(readFileSync(cachePath, 'utf8')) : { firstPass: {}, adapted: {} };
const save = () => writeFileSync(cachePath, JSON.stringify(cache));

/** Numeric speaker order within each sex, F first, dealt alternately (as scripts/tune-asr.ts). */
function splitSpeakers(utts: CorpusUtterance[]): [string[], string[]] {
  const sexOf = new Map(utts.map((u) => [u.speaker, u.sex ?? '?']));
  const order: Record<string, number> = { F: 0, M: 1, '?': 2 };
  const speakers = [...sexOf.keys()].sort((a, b) => order[sexOf.get(a)!]! - order[sexOf.get(b)!]! || Number(a) - Number(b) || a.localeCompare(b));
  const halves: [string[], string[]] = [[], []];
  let next = 0;
  let lastSex = '';
  for (const s of speakers) {
    if (sexOf.get(s) !== lastSex) {
      next = halves[1].length < halves[0].length ? 1 : 0;
      lastSex = sexOf.get(s)!;
    }
    halves[next].push(s);
    next = 1 - next;
  }
  return halves;
}

/** Two-sided sign test over utterances that changed (ties dropped): P(at least this lopsided | no effect). */
function signTest(better: number, worse: number): number {
  const n = better + worse;
  if (n === 0) return 1;
  const k = Math.min(better, worse);
  let p = 0;
  for (let i = 0; i <= k; i++) {
    let c = 1;
    for (let j = 0; j < i; j++) c = (c * (n - j)) / (j + 1);
    p += c / 2 ** n;
  }
  return Math.min(1, 2 * p);
}

async function decodeWith(flags: Record<string, string>, utts: CorpusUtterance[], pcmOf: Map<string, Int16Array>): Promise<Map<string, FirstPass>> {
  const engine = new PocketsphinxEngine({ ...base, decoderFlags: { ...base.decoderFlags, ...flags } });
  const out = new Map<string, FirstPass>();
  try {
    for (const u of utts) {
      const results = await transcribeAudio(engine, { samples: Float32Array.from(pcmOf.get(u.id)!, (v) => v / 32768), sampleRateHz: 16000 });
      out.set(u.id, { hyp: results.map((r) => r.text).join(' '), words: results.flatMap((r) => r.words) });
    }
  } finally {
    await engine.close();
  }
  return out;
}

async function main(): Promise<void> {
  const corpus = await readCorpus(dir);
  const pcmOf = new Map<string, Int16Array>();
  for (const u of corpus) pcmOf.set(u.id, toPcm16k(await loadUtteranceAudio(u)));
  const speakers = [...new Set(corpus.map((u) => u.speaker))];
  const uttsOf = (s: string) => corpus.filter((u) => u.speaker === s);

  const missing = corpus.filter((u) => !cache.firstPass[`${scope}|${u.id}`]);
  if (missing.length) {
    log(`first pass: decoding ${missing.length} utterances`);
    for (const [id, r] of await decodeWith({}, missing, pcmOf)) cache.firstPass[`${scope}|${id}`] = r;
    save();
  }
  const first = (id: string) => cache.firstPass[`${scope}|${id}`]!;
  const confidences = corpus.flatMap((u) => first(u.id).words.map((w) => w.confidence)).sort((a, b) => a - b);
  const q = (p: number) => confidences[Math.min(confidences.length - 1, Math.floor(p * confidences.length))]!;
  log(`first-pass word posteriors: n ${confidences.length}, p10 ${q(0.1).toFixed(2)} p25 ${q(0.25).toFixed(2)} median ${q(0.5).toFixed(2)} p75 ${q(0.75).toFixed(2)}; ≥0.5 ${confidences.filter((c) => c >= 0.5).length}, ≥0.8 ${confidences.filter((c) => c >= 0.8).length}`);
  const errorsOf = (id: string, hyp: string) => wordErrorRate(corpus.find((u) => u.id === id)!.transcript, hyp);
  const adaptUtt = (u: CorpusUtterance): AdaptationUtterance => ({ id: u.id, pcm: pcmOf.get(u.id)!, words: first(u.id).words });

  // Control: an identity transform must reproduce the first pass exactly, or the -mllr path itself
  // (not the adaptation) would be what changes the WER.
  const identityKey = `${scope}|identity`;
  if (!cache.adapted[`${identityKey}|${corpus.at(-1)!.id}`]) {
    log('control: decoding every utterance with an identity -mllr transform');
    const path = join(mkdtempSync(join(tmpdir(), 'stcts-bench-mllr-')), 'identity');
    const stream = ['13', ...Array.from({ length: 13 }, (_, i) => Array.from({ length: 13 }, (_, j) => (i === j ? '1.0' : '0.0')).join(' ')), Array(13).fill('0.0').join(' '), Array(13).fill('1.0').join(' ')];
    writeFileSync(path, ['1', '3', ...stream, ...stream, ...stream, ''].join('\n'));
    for (const [id, r] of await decodeWith({ '-mllr': path }, corpus, pcmOf)) cache.adapted[`${identityKey}|${id}`] = { hyp: r.hyp, speechSec: null, adaptMs: null };
    rmSync(dirname(path), { recursive: true });
    save();
  }
  const identityControl = {
    errors: corpus.reduce((a, u) => a + errorsOf(u.id, cache.adapted[`${identityKey}|${u.id}`]!.hyp).errors, 0),
    utterancesDifferingFromFirstPass: corpus.filter((u) => cache.adapted[`${identityKey}|${u.id}`]!.hyp !== first(u.id).hyp).length,
  };
  log(`control (identity transform): ${identityControl.errors} errors, ${identityControl.utterancesDifferingFromFirstPass} hypotheses differ from the first pass`);

  const variants: Array<{ name: string; options: Partial<MllrOptions>; perSpeaker: SpeakerRow[]; sum: (k: Total, ss?: string[]) => number; adaptMs: { median: number; max: number; n: number } | null }> = [];
  for (const v of VARIANTS) {
    const adapter = new MllrAdapter(v.options);
    try {
      const perSpeaker: SpeakerRow[] = [];
      for (const s of speakers) {
        const utts = uttsOf(s);
        const row: SpeakerRow = { speaker: s, sex: utts[0]!.sex, utterances: utts.length, refWords: 0, baselineErrors: 0, heldOutErrors: 0, selfIncludedErrors: 0, heldOutSpeechSec: [], selfIncludedSpeechSec: null, adaptMs: [], heldOutUnadapted: 0, heldOutBetter: 0, heldOutWorse: 0 };
        for (const mode of ['loo', 'all'] as const) {
          for (const u of utts) {
            const key = `${scope}|${JSON.stringify(v.options)}|${mode}|${u.id}`;
            if (!cache.adapted[key]) {
              const adaptOn = mode === 'loo' ? utts.filter((x) => x.id !== u.id) : utts;
              const t = adaptOn.length ? await adapter.transformFor(`${mode}|${adaptOn.map((x) => x.id).join(',')}`, adaptOn.map(adaptUtt)) : undefined;
              const hyp = t ? (await decodeWith({ '-mllr': t.path }, [u], pcmOf)).get(u.id)!.hyp : first(u.id).hyp;
              cache.adapted[key] = { hyp, speechSec: t?.speechSec ?? null, adaptMs: t?.durationMs ?? null };
              save();
              log(`${v.name} ${mode} ${u.id}: ${t ? `${t.speechSec.toFixed(1)} s, ${t.words} words, ${t.durationMs.toFixed(0)} ms` : 'no transform'}; errors ${errorsOf(u.id, first(u.id).hyp).errors} → ${errorsOf(u.id, hyp).errors}`);
            }
            const d = cache.adapted[key]!;
            const e = errorsOf(u.id, d.hyp).errors;
            if (mode === 'loo') {
              const b = errorsOf(u.id, first(u.id).hyp);
              row.refWords += b.refWords;
              row.baselineErrors += b.errors;
              row.heldOutErrors += e;
              if (e < b.errors) row.heldOutBetter++;
              if (e > b.errors) row.heldOutWorse++;
              if (d.speechSec === null) row.heldOutUnadapted++;
              else row.heldOutSpeechSec.push(d.speechSec);
            } else {
              row.selfIncludedErrors += e;
              row.selfIncludedSpeechSec = d.speechSec;
            }
            if (d.adaptMs !== null) row.adaptMs.push(d.adaptMs);
          }
        }
        perSpeaker.push(row);
      }
      const sum = (k: Total, ss = speakers) => perSpeaker.filter((r) => ss.includes(r.speaker)).reduce((a, r) => a + r[k], 0);
      const allMs = perSpeaker.flatMap((r) => r.adaptMs).sort((a, b) => a - b);
      variants.push({
        name: v.name,
        options: v.options,
        perSpeaker,
        adaptMs: allMs.length ? { median: allMs[Math.floor(allMs.length / 2)]!, max: allMs.at(-1)!, n: allMs.length } : null,
        sum,
      });
    } finally {
      await adapter.close();
    }
  }

  const halves = splitSpeakers(corpus);
  const folds = (['A', 'B'] as const).map((name, i) => {
    const [tune, test] = i === 0 ? [halves[0], halves[1]] : [halves[1], halves[0]];
    const best = variants.reduce((a, b) => (b.sum('heldOutErrors', tune) < a.sum('heldOutErrors', tune) ? b : a));
    return {
      fold: name, tuneSpeakers: tune, testSpeakers: test, chosen: best.name,
      tune: { baselineErrors: best.sum('baselineErrors', tune), heldOutErrors: best.sum('heldOutErrors', tune), refWords: best.sum('refWords', tune) },
      test: { baselineErrors: best.sum('baselineErrors', test), heldOutErrors: best.sum('heldOutErrors', test), refWords: best.sum('refWords', test), baselineWer: best.sum('baselineErrors', test) / best.sum('refWords', test), heldOutWer: best.sum('heldOutErrors', test) / best.sum('refWords', test) },
    };
  });
  const report = {
    corpus: dir,
    decoderFlags: base.decoderFlags,
    identityControl,
    firstPassConfidence: { n: confidences.length, p10: q(0.1), p25: q(0.25), median: q(0.5), p75: q(0.75) },
    variants: variants.map((v) => ({
      name: v.name,
      options: v.options,
      perSpeaker: v.perSpeaker.map((r) => ({ ...r, heldOutSpeechSec: r.heldOutSpeechSec.length ? r.heldOutSpeechSec.reduce((a, b) => a + b, 0) / r.heldOutSpeechSec.length : null, adaptMs: undefined })),
      total: {
        refWords: v.sum('refWords'), baselineErrors: v.sum('baselineErrors'), heldOutErrors: v.sum('heldOutErrors'), selfIncludedErrors: v.sum('selfIncludedErrors'),
        baselineWer: v.sum('baselineErrors') / v.sum('refWords'), heldOutWer: v.sum('heldOutErrors') / v.sum('refWords'), selfIncludedWer: v.sum('selfIncludedErrors') / v.sum('refWords'),
        heldOutUtterancesBetter: v.sum('heldOutBetter'), heldOutUtterancesWorse: v.sum('heldOutWorse'),
        signTestP: signTest(v.sum('heldOutBetter'), v.sum('heldOutWorse')),
      },
      /** Wall time of sphinx_fe + bw + mllr_solve per transform, for the transforms made in this run (a cached decode keeps no time). */
      adaptMs: v.adaptMs,
    })),
    folds,
    chosen: folds[0]!.chosen === folds[1]!.chosen && folds.every((f) => f.test.heldOutErrors < f.test.baselineErrors) ? folds[0]!.chosen : null,
  };
  if (json) console.log(JSON.stringify(report, null, 2));
  else {
    for (const v of report.variants) {
      console.log(`\n${v.name}: baseline ${v.total.baselineErrors}/${v.total.refWords} = ${v.total.baselineWer.toFixed(3)}, held-out ${v.total.heldOutErrors} = ${v.total.heldOutWer.toFixed(3)} (utterances better ${v.total.heldOutUtterancesBetter}, worse ${v.total.heldOutUtterancesWorse}, sign test p ${v.total.signTestP.toFixed(2)}), self-included ${v.total.selfIncludedErrors} = ${v.total.selfIncludedWer.toFixed(3)}; adaptation median ${v.adaptMs?.median.toFixed(0) ?? '-'} ms`);
      for (const r of v.perSpeaker) console.log(`  ${r.sex} ${r.speaker}: ${r.utterances} utts, ${r.refWords} words; errors baseline ${r.baselineErrors}, held-out ${r.heldOutErrors}, self-included ${r.selfIncludedErrors}; speech ${r.heldOutSpeechSec?.toFixed(1) ?? '-'} s (held-out), ${r.selfIncludedSpeechSec?.toFixed(1) ?? '-'} s (all)${r.heldOutUnadapted ? `; ${r.heldOutUnadapted} held-out utts unadapted` : ''}`);
    }
    for (const f of folds) console.log(`fold ${f.fold}: chose "${f.chosen}" on ${f.tuneSpeakers.join(' ')} (${f.tune.baselineErrors} → ${f.tune.heldOutErrors}); on ${f.testSpeakers.join(' ')}: ${f.test.baselineErrors} → ${f.test.heldOutErrors} errors of ${f.test.refWords} (${f.test.baselineWer.toFixed(3)} → ${f.test.heldOutWer.toFixed(3)})`);
  }
}

await main();
