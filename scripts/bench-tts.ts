// Receiver TTS benchmark (issue: receiver): intelligibility of speech synthesized from reference
// transcripts (pocketsphinx WER vs the transcript), F0 following, and synthesis real-time factor.
//   node --import tsx scripts/bench-tts.ts [CORPUS_DIR] [--json] [--engine hts|flite] [--voice slt|rms|awb|kal16]
import { resample } from '../src/audio/index.ts';
import { createAsrEngine, transcribeAudio } from '../src/engines/asr/index.ts';
import { trackF0 } from '../src/engines/prosody/index.ts';
import { createTtsEngine } from '../src/engines/tts/index.ts';
import { readCorpus } from '../src/eval/corpus.ts';
import { corpusWer } from '../src/eval/wer.ts';

const args = process.argv.slice(2);
const flag = (n: string) => { const i = args.indexOf(n); return i >= 0 ? args.splice(i, 2)[1] : undefined; };
const engineId = flag('--engine') ?? 'hts';
const voice = flag('--voice');
const dir = args.find((a) => !a.startsWith('--')) ?? new URL('../../shared/corpus/dev', import.meta.url).pathname;
const corpus = await readCorpus(dir);
const tts = await createTtsEngine(engineId);
const asr = await createAsrEngine('pocketsphinx');
await tts.synthesize({ text: 'warm up', voice });
const pairs: Array<{ reference: string; hypothesis: string }> = [];
let synthMs = 0;
let audioSec = 0;
for (const u of corpus) {
  const t0 = performance.now();
  const r = await tts.synthesize({ text: u.transcript, voice });
  synthMs += performance.now() - t0;
  audioSec += r.samples.length / r.sampleRateHz;
  const hyp = (await transcribeAudio(asr, resample(r, 16000))).map((x) => x.text).join(' ');
  pairs.push({ reference: u.transcript, hypothesis: hyp });
}
// F0 following: ±4 semitone sine targets on each transcript.
const errs: number[] = [];
for (const u of engineId === 'hts' ? corpus : []) {
  const target = Float32Array.from({ length: 1000 }, (_, i) => 170 * 2 ** ((4 * Math.sin((2 * Math.PI * i) / 120)) / 12));
  const r = await tts.synthesize({ text: u.transcript, f0Hz: target, f0FrameMs: 10, f0TimeBase: 'absolute' });
  const got = trackF0(resample(r, 16000)).f0Hz;
  for (let i = 0; i < Math.min(got.length, target.length); i++) if (got[i]! > 0) errs.push(Math.abs(12 * Math.log2(got[i]! / target[i]!)));
}
errs.sort((a, b) => a - b);
await tts.close();
await asr.close();
const w = corpusWer(pairs);
const result = {
  engine: engineId,
  voice: voice ?? 'default',
  utterances: corpus.length,
  wer: w.wer,
  meanUtteranceWer: w.meanUtteranceWer,
  f0MedianAbsErrorSemitones: errs[errs.length >> 1],
  synthesisRtf: synthMs / 1000 / audioSec,
};
console.log(args.includes('--json') ? JSON.stringify(result, null, 2) : result);
