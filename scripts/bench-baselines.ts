/**
 * Baseline intelligibility: original audio, Opus 6 kbps, Codec2 700C and 1200 over a corpus, each
 * decoded signal scored with the project's pocketsphinx ASR engine.
 * Usage: npx tsx scripts/bench-baselines.ts [corpusDir] [--limit N]
 */
import { createAsrEngine, transcribeAudio } from '../src/engines/asr/registry.ts';
import { progressReporter } from '../src/core/progress.ts';
import { codec2Baseline, corpusWer, loadUtteranceAudio, opusBaseline, readCorpus, type Baseline } from '../src/eval/index.ts';
import type { MonoAudio } from '../src/audio/pcm.ts';

const args = process.argv.slice(2);
const li = args.indexOf('--limit');
const limit = li >= 0 ? Number(args[li + 1]) : Infinity;
const dir = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--limit') ?? '/work/shared/corpus/dev';

const utts = (await readCorpus(dir)).slice(0, limit);
const audios: MonoAudio[] = [];
for (const u of utts) audios.push(await loadUtteranceAudio(u));
const seconds = utts.reduce((s, u) => s + u.durationSec, 0);
const asr = await createAsrEngine('pocketsphinx');

async function score(audio: MonoAudio): Promise<string> {
  return (await transcribeAudio(asr, audio)).map((r) => r.text).join(' ');
}

const systems: Array<{ name: string; baseline?: Baseline }> = [
  { name: 'original' },
  { name: 'opus-6k', baseline: opusBaseline(6000) },
  { name: 'codec2-700C', baseline: codec2Baseline('700C') },
  { name: 'codec2-1200', baseline: codec2Baseline('1200') },
];
console.log(`corpus ${dir}: ${utts.length} utterances, ${seconds.toFixed(1)} s`);
console.log('system\tbps\twer\tmeanUttWer\tencodeRtf\tdecodeRtf');
for (const s of systems) {
  const pairs: Array<{ reference: string; hypothesis: string }> = [];
  let bits = 0, encMs = 0, decMs = 0;
  const progress = progressReporter(false);
  try {
    for (let i = 0; i < utts.length; i++) {
      let audio = audios[i];
      if (s.baseline) {
        const r = await s.baseline.run(audio);
        audio = r.decoded; bits += r.bits; encMs += r.encodeMs; decMs += r.decodeMs;
      }
      pairs.push({ reference: utts[i].transcript, hypothesis: await score(audio) });
      progress.update((i + 1) / utts.length, `${s.name} ${utts[i].id}`);
    }
  } catch (e) {
    progress.done();
    console.log(`${s.name}\tskipped: ${(e as Error).message}`);
    continue;
  }
  progress.done();
  const w = corpusWer(pairs);
  const bps = s.baseline ? bits / seconds : NaN;
  console.log(`${s.name}\t${s.baseline ? bps.toFixed(0) : '-'}\t${w.wer.toFixed(3)}\t${w.meanUtteranceWer.toFixed(3)}\t${s.baseline ? (encMs / 1000 / seconds).toFixed(4) : '-'}\t${s.baseline ? (decMs / 1000 / seconds).toFixed(4) : '-'}`);
}
await (asr as { close?: () => Promise<void> | void }).close?.();
