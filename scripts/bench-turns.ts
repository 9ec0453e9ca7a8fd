/**
 * Speaker-turn benchmark (issue #17): the corpus as ONE session (transcripts.tsv order, 1 s gaps),
 * encoded as `stcts encode` would encode the concatenated WAV, scored for speaker turns.
 *   npx tsx scripts/bench-turns.ts [--corpus /work/shared/corpus/dev] [--mode balanced] [--json]
 *       [--asr-cache /tmp/stcts-turns-asr.json] [--phrases] [--analysis '{"turnBicPenalty":1}']
 * --asr-cache keeps the recognizer's phrases of the concatenated audio in a file (they do not depend
 * on the speaker analysis), so a second run only re-runs the sender (~10 s instead of ~50 s).
 * Reports turns.{trueChanges, changesHit (≤ 1 phrase late), falseChanges, labelAccuracy}, profiles
 * and SpeakerRefs sent, call bitrate (every bit of the stream ÷ duration) and sender WER.
 *
 *   npx tsx scripts/bench-turns.ts --synthetic [ABCADEBC] [--analysis '{…}'] [--json]
 * A synthesized multi-voice session instead (no corpus, no recognizer): five voices (A HTS slt,
 * B flite rms, C flite awb, D flite kal16, E HTS with a longer vocal tract at 100 Hz), three
 * sentences per turn with the pitch moved by 0, +4 and −3 semitones, through the sender's speaker
 * analysis; reports the same turn scores (each phrase is one utterance).
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
const analysis0 = opt('--analysis') ? JSON.parse(opt('--analysis')!) : {};
const analysis = analysis0;

if (args.includes('--synthetic')) {
  const next = args[args.indexOf('--synthetic') + 1];
  await synthetic(next && /^[A-E]+$/.test(next) ? next : 'ABCADEBC');
  process.exit(0);
}

async function synthetic(turns: string): Promise<void> {
  const { resample } = await import('../src/audio/index.ts');
  const { createTtsEngine } = await import('../src/engines/tts/registry.ts');
  const { initialProsodyState, PhraseProsodyCoder } = await import('../src/codec/prosody/index.ts');
  const { SessionEncoder, Utf8PhraseCodec } = await import('../src/codec/session/index.ts');
  const { SenderAnalysis } = await import('../src/pipeline/analysis.ts');
  const { scoreTurns } = await import('../src/eval/concat-session.ts');
  const hts = await createTtsEngine('hts');
  const flite = await createTtsEngine('flite');
  try {
    const voices: Record<string, { tts: typeof hts; req: Record<string, unknown>; f0Hz: number }> = {
      A: { tts: hts, req: { timbre: { allpassAlpha: 0.42 } }, f0Hz: 210 },
      B: { tts: flite, req: { voice: 'rms' }, f0Hz: 110 },
      C: { tts: flite, req: { voice: 'awb' }, f0Hz: 120 },
      D: { tts: flite, req: { voice: 'kal16' }, f0Hz: 105 },
      E: { tts: hts, req: { timbre: { allpassAlpha: 0.2 } }, f0Hz: 100 },
    };
    const texts = ['the boat left the harbour early in the morning', 'we could see the lights of the town across the water', 'nobody on board had slept much during the night', 'the wind turned cold as we reached the open sea', 'my brother told me to hold the rope and wait', 'there was nothing to do but watch the waves', 'a gull followed us for an hour and then gave up', 'by noon the coast had vanished behind us', 'the captain said we would reach the island by dark', 'I had never seen water so clear and so deep', 'we ate bread and cheese sitting on the deck', 'somebody started singing an old song about home'];
    const truth: string[] = [];
    const analysis = new SenderAnalysis(new PhraseProsodyCoder(initialProsodyState(150, mode), true, () => undefined), undefined, { profileLayout: 'compact', ...analysis0 });
    const enc = new SessionEncoder(new Utf8PhraseCodec(), { sessionId: 1, mode });
    enc.start();
    const labels: Array<number | undefined> = [];
    const scores: string[] = [];
    let current: number | undefined;
    let refs = 0;
    let atMs = 0;
    let t = 0;
    for (const s of turns) {
      for (const shiftSt of [0, 4, -3]) {
        const v = voices[s]!;
        const audio = resample(await v.tts.synthesize({ text: texts[t++ % texts.length]!, ...v.req, f0MedianHz: v.f0Hz * 2 ** (shiftSt / 12) }), 16000);
        await analysis.updateSpeaker(audio, atMs);
        const turn = analysis.lastTurn;
        scores.push(turn ? `${turn.kind}${'score' in turn ? ` ${turn.score.toFixed(2)}` : ''}` : 'first');
        const profile = analysis.speakerProfile();
        const f = profile && enc.speaker(profile.bytes, profile.hash, atMs);
        if (f?.frame.payload.type === 'speakerProfile' || f?.frame.payload.type === 'speakerRef') {
          current = f.frame.payload.id;
          if (f.frame.payload.type === 'speakerRef') refs++;
        }
        truth.push(s);
        labels.push(current);
        atMs += (audio.samples.length / 16000) * 1000 + 1000;
      }
    }
    const out = { session: 'synthetic', turns: scoreTurns(truth, labels), speakerRefs: refs, truth: truth.join(''), labels: labels.join(','), decisions: scores, analysis: analysis0 };
    console.log(args.includes('--json') ? JSON.stringify(out, null, 2) : `synthetic ${turns}: ${out.turns.changesHit}/${out.turns.trueChanges} changes hit, ${out.turns.falseChanges} false, label accuracy ${out.turns.labelAccuracy.toFixed(3)}, ${out.turns.profiles} profiles, ${refs} refs\n  ${scores.join(' | ')}`);
  } finally {
    await hts.close();
    await flite.close();
  }
}

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
