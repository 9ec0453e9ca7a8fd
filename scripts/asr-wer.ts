// Sender ASR word error rate over a corpus (default ../shared/corpus/dev):
//   node --import tsx scripts/asr-wer.ts [CORPUS_DIR] [--json]
import { createAsrEngine, transcribeAudio } from '../src/engines/asr/index.ts';
import { loadUtteranceAudio, readCorpus } from '../src/eval/corpus.ts';
import { corpusWer, wordErrorRate } from '../src/eval/wer.ts';

const args = process.argv.slice(2);
const dir = args.find((a) => !a.startsWith('--')) ?? new URL('../../shared/corpus/dev', import.meta.url).pathname;
const corpus = await readCorpus(dir);
const engine = await createAsrEngine('pocketsphinx');
const pairs: Array<{ reference: string; hypothesis: string }> = [];
let audioSec = 0;
let procMs = 0;
for (const u of corpus) {
  const audio = await loadUtteranceAudio(u);
  const t0 = performance.now();
  const hyp = (await transcribeAudio(engine, audio)).map((r) => r.text).join(' ');
  procMs += performance.now() - t0;
  audioSec += audio.samples.length / 16000;
  pairs.push({ reference: u.transcript, hypothesis: hyp });
  if (!args.includes('--json')) console.log(`${u.id}\t${wordErrorRate(u.transcript, hyp).wer.toFixed(3)}\t${hyp}`);
}
await engine.close();
const w = corpusWer(pairs);
const summary = { utterances: corpus.length, corpusWer: w.wer, meanUtteranceWer: w.meanUtteranceWer, errors: w.errors, refWords: w.refWords, rtf: procMs / 1000 / audioSec };
console.log(args.includes('--json') ? JSON.stringify(summary, null, 2) : `corpus WER ${w.wer.toFixed(3)} (${w.errors}/${w.refWords}), mean per utterance ${w.meanUtteranceWer.toFixed(3)}, RTF ${summary.rtf.toFixed(3)}`);
