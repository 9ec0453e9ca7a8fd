/**
 * Speaker-turn benchmark (issue #17): the corpus as ONE session (transcripts.tsv order, 1 s gaps),
 * encoded as `stcts encode` would encode the concatenated WAV, scored for speaker turns.
 *   npx tsx scripts/bench-turns.ts [--corpus /work/shared/corpus/dev] [--mode balanced] [--json]
 *       [--asr-cache /tmp/stcts-turns-asr.json] [--phrases] [--analysis '{"turnBicPenalty":1}']
 * --asr-cache keeps the recognizer's phrases of the concatenated audio in a file (they do not depend
 * on the speaker analysis), so a second run only re-runs the sender (~10 s instead of ~50 s).
 * Reports turns.{trueChanges, changesHit (≤ 1 phrase late), falseChanges, labelAccuracy}, profiles
 * and SpeakerRefs sent, call bitrate (every bit of the stream ÷ duration) and sender WER.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import type { CodecMode } from '../src/codec/frame/index.ts';
import type { AsrResult } from '../src/engines/asr/types.ts';
import { evaluateConcatSession } from '../src/eval/concat-session.ts';
import { loadUtteranceAudio, readCorpus } from '../src/eval/corpus.ts';
import { loadDefaultTextModel } from '../src/pipeline/codecs.ts';

const args = process.argv.slice(2);
const opt = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const corpus = opt('--corpus') ?? '/work/shared/corpus/dev';
const mode = (opt('--mode') ?? 'balanced') as CodecMode;
const cachePath = opt('--asr-cache');
const analysis = opt('--analysis') ? JSON.parse(opt('--analysis')!) : {};

const utts = await readCorpus(corpus);
const loaded = await Promise.all(utts.map(async (u) => ({ id: u.id, speaker: u.speaker, transcript: u.transcript, audio: await loadUtteranceAudio(u) })));
const key = `${corpus}|${utts.map((u) => u.id).join(',')}`;
let asrResults: AsrResult[] | undefined;
if (cachePath && existsSync(cachePath)) {
  const cached = JSON.parse(await readFile(cachePath, 'utf8')) as { key: string; results: AsrResult[] };
  if (cached.key === key) asrResults = cached.results;
}
const model = await loadDefaultTextModel();
let asr;
if (!asrResults) {
  const { createAsrEngine } = await import('../src/engines/asr/registry.ts');
  asr = await createAsrEngine('pocketsphinx');
}
const t0 = performance.now();
try {
  const r = await evaluateConcatSession(loaded, asr, model, { mode, analysis, ...(asrResults ? { asrResults } : {}) });
  if (cachePath && !asrResults) await writeFile(cachePath, JSON.stringify({ key, results: r.asrResults }));
  const out = {
    corpus,
    mode,
    utterances: utts.length,
    speakers: new Set(utts.map((u) => u.speaker)).size,
    durationSec: Number(r.durationSec.toFixed(1)),
    turns: { ...r.turns, labelAccuracy: Number(r.turns.labelAccuracy.toFixed(3)) },
    speakerFrames: r.speakerFrames,
    bitsPerSecond: Number(r.bitsPerSecond.toFixed(2)),
    bytes: r.bytes,
    bits: r.bits,
    senderWer: Number(r.senderWer.toFixed(3)),
    analysis,
    runSec: Number(((performance.now() - t0) / 1000).toFixed(1)),
    ...(args.includes('--phrases') ? { phrases: r.phrases.map((p) => ({ startMs: Math.round(p.startMs), speaker: p.speaker, label: p.label })) } : {}),
  };
  if (args.includes('--json')) console.log(JSON.stringify(out, null, 2));
  else {
    console.log(`concat session: ${out.utterances} utterances, ${out.speakers} speakers, ${out.durationSec} s (${mode})`);
    console.log(`turns: ${r.turns.changesHit}/${r.turns.trueChanges} changes hit, ${r.turns.falseChanges} false, label accuracy ${out.turns.labelAccuracy} over ${r.turns.phrases} phrases`);
    console.log(`speaker frames: ${r.speakerFrames.profiles} profiles, ${r.speakerFrames.refs} refs; call bitrate ${out.bitsPerSecond} bit/s (${r.bytes} bytes); sender WER ${out.senderWer}`);
    if (args.includes('--phrases')) for (const p of r.phrases) console.log(`  ${(p.startMs / 1000).toFixed(1).padStart(6)} s  ${p.speaker.padEnd(6)} → ${p.label ?? '-'}`);
  }
} finally {
  await asr?.close();
}
