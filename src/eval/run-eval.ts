import type { MonoAudio } from '../audio/index.ts';
import { mfcc } from '../audio/spectrum/index.ts';
import type { CodecMode } from '../codec/frame/index.ts';
import { EngineUnavailableError } from '../core/errors.ts';
import { createAsrEngine } from '../engines/asr/registry.ts';
import { trackF0 } from '../engines/prosody/index.ts';
import { createTtsEngine } from '../engines/tts/registry.ts';
import type { SpeakerEncoder } from '../engines/speaker/neural/types.ts';
import type { AsrEngine, AsrResult } from '../engines/asr/types.ts';
import type { TtsEngine } from '../engines/tts/types.ts';
import { baselinesByName } from './baselines/index.ts';
import { loadUtteranceAudio, readCorpus, type CorpusUtterance } from './corpus.ts';
import { decodeSpeakerSession, encodeSpeakerSession, environment, recognize, type CodedUtterance, type DecodedUtterance } from './harness.ts';
import { JUDGE_DESCRIPTION, judgeLmPath } from './judge-lm.ts';
import { compareF0, pearson, warpAnchors, warpF0, wordDurationCorrelation } from './prosody-metrics.ts';
import type { EvalResult } from './result.ts';
import { timingAgreement, type TimedWord, type TimingAgreement } from './timing.ts';
import { featureStats, SpeakerIdentifier } from './speaker-id.ts';
import { corpusWer, wordErrorRate } from './wer.ts';

export interface EvalOptions {
  corpusDir: string;
  mode: CodecMode;
  baselines: string[];
  sweep: boolean;
  textOnly: boolean;
  /** TTS engine id of the registry, or 'auto'. */
  tts: string;
  /** Sender ASR engine id (default 'pocketsphinx'). */
  asr?: string;
  /**
   * ASR engine that judges the decoded audio (round-trip WER, measured timing). Default: the
   * independent pocketsphinx judge (src/eval/judge-lm.ts). The sender's own recognizer always gives
   * `werSameRecognizer` besides.
   */
  scoreAsr?: string;
  /** Options for the ASR engines (e.g. `modelDir`). */
  asrOptions?: Record<string, unknown>;
  /** Neural speaker encoder model id for the sender's speaker channel (issue #9); default none. */
  speakerEncoder?: string;
  /** Neural model cache folder for every engine (ASR, TTS voices, speaker encoder). */
  modelDir?: string;
  /** Use only the first N utterances (quick runs). */
  limit?: number;
  command: string;
  onProgress?: (fraction: number, label: string) => void;
}

interface Scored {
  roundTripWer: number;
  werSameRecognizer: number;
  werVsSender: number;
  meanUtteranceWer: number;
  f0Corr: number;
  f0Rmse: number;
  f0ShapeRmse: number;
  medianF0Error: number;
  /** Measured on the decoded audio (src/eval/timing.ts). */
  timing: TimingAgreement;
  /** The sender's word times against the TTS's report of its plan (not measured). */
  planWordDurationCorr: number;
  planPauseCorr: number;
  idAccuracy: number;
  perUtt: Array<{ text: string; wer: number; werSame: number; f0Corr: number; speaker: string; f0: Float32Array; warped: Float32Array }>;
}

/**
 * The judge (independent recognizer configuration, or --score-asr), the sender's own recognizer for
 * the same-recognizer figure, and the judge's word times on each original (corpus order).
 */
interface Judges {
  judge: AsrEngine;
  same: AsrEngine;
  original: TimedWord[][];
}

/** The judge's transcript and word times of a decoded recording, and the sender recognizer's transcript. */
async function judgeAudio(j: Judges, audio: MonoAudio): Promise<{ text: string; sameText: string; words: TimedWord[] }> {
  const judged = await recognize(j.judge, audio);
  const text = judged.map((r) => r.text).join(' ');
  const sameText = j.same === j.judge ? text : (await recognize(j.same, audio)).map((r) => r.text).join(' ');
  return { text, sameText, words: judged.flatMap((r) => r.words) };
}

const mean = (xs: number[]) => {
  const v = xs.filter((x) => Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
};

/** Pauses between consecutive words, ms. */
function pauses(words: ReadonlyArray<{ startMs: number; endMs: number }>): number[] {
  return words.slice(1).map((w, i) => Math.max(0, w.startMs - words[i]!.endMs));
}

async function score(coded: CodedUtterance[], decoded: DecodedUtterance[], judges: Judges, id: SpeakerIdentifier, origF0: Float32Array[]): Promise<Scored> {
  const perUtt: Scored['perUtt'] = [];
  const werPairs: Array<{ reference: string; hypothesis: string }> = [];
  const samePairs: Array<{ reference: string; hypothesis: string }> = [];
  const timed: Array<{ original: TimedWord[]; decoded: TimedWord[] }> = [];
  const vsSender: Array<{ reference: string; hypothesis: string }> = [];
  const cmp: ReturnType<typeof compareF0>[] = [];
  const durCorr: number[] = [];
  const refPauses: number[] = [];
  const decPauses: number[] = [];
  let correct = 0;
  for (let i = 0; i < coded.length; i++) {
    const c = coded[i]!;
    const d = decoded[i]!;
    const { text: hyp, sameText, words } = await judgeAudio(judges, d.audio);
    const senderText = c.asr.map((r) => r.text).join(' ');
    werPairs.push({ reference: c.utt.transcript, hypothesis: hyp });
    samePairs.push({ reference: c.utt.transcript, hypothesis: sameText });
    timed.push({ original: judges.original[i]!, decoded: words });
    vsSender.push({ reference: senderText, hypothesis: hyp });
    const refWords = c.asr.flatMap((r) => r.words);
    const f0 = trackF0(d.audio).f0Hz;
    const anchors = warpAnchors(refWords, d.words, (c.original.samples.length / 16) , (d.audio.samples.length / 16));
    const warped = warpF0(f0, 10, anchors, origF0[i]!.length);
    const comparison = compareF0(origF0[i]!, warped);
    cmp.push(comparison);
    durCorr.push(wordDurationCorrelation(refWords, d.words));
    refPauses.push(...pauses(refWords));
    decPauses.push(...pauses(d.words).slice(0, Math.max(0, refWords.length - 1)));
    const who = id.identify(featureStats(mfcc(d.audio)));
    if (who === c.utt.speaker) correct++;
    perUtt.push({ text: hyp, wer: wordErrorRate(c.utt.transcript, hyp).wer, werSame: wordErrorRate(c.utt.transcript, sameText).wer, f0Corr: comparison.corr, speaker: who, f0: origF0[i]!, warped });
  }
  const w = corpusWer(werPairs);
  return {
    roundTripWer: w.wer,
    werSameRecognizer: corpusWer(samePairs).wer,
    meanUtteranceWer: w.meanUtteranceWer,
    werVsSender: corpusWer(vsSender).wer,
    f0Corr: mean(cmp.map((c) => c.corr)),
    f0Rmse: mean(cmp.map((c) => c.rmseSemitones)),
    f0ShapeRmse: mean(cmp.map((c) => c.rmseShapeSemitones)),
    medianF0Error: mean(cmp.map((c) => Math.abs(c.medianErrorSemitones))),
    timing: timingAgreement(timed),
    planWordDurationCorr: mean(durCorr),
    planPauseCorr: pearson(refPauses.slice(0, decPauses.length), decPauses),
    idAccuracy: correct / coded.length,
    perUtt,
  };
}

/** `stcts eval`: our codec and the baselines on one corpus, measured the same way. */
export async function runEval(o: EvalOptions): Promise<EvalResult> {
  const progress = o.onProgress ?? (() => {});
  let corpus: CorpusUtterance[] = await readCorpus(o.corpusDir);
  if (o.limit) corpus = corpus.slice(0, o.limit);
  const audio = new Map<string, MonoAudio>();
  for (const u of corpus) audio.set(u.id, await loadUtteranceAudio(u));
  const audioSeconds = corpus.reduce((s, u) => s + audio.get(u.id)!.samples.length / 16000, 0);
  const asrId = o.asr ?? 'pocketsphinx';
  const modelDirOpt = o.modelDir ? { modelDir: o.modelDir } : {};
  // Speaker encoder first: missing weights fail before anything slow happens.
  let speakerEncoder: SpeakerEncoder | undefined;
  if (o.speakerEncoder) {
    const { createSpeakerEncoder } = await import('../engines/speaker/neural/index.ts');
    speakerEncoder = await createSpeakerEncoder(o.speakerEncoder, modelDirOpt);
  }
  let asr: AsrEngine | undefined, scorer: AsrEngine | undefined, tts: TtsEngine;
  let judgeName: string;
  try {
    asr = await createAsrEngine(asrId, { ...modelDirOpt, ...o.asrOptions });
    if (o.scoreAsr) {
      scorer = o.scoreAsr !== asrId ? await createAsrEngine(o.scoreAsr, { ...modelDirOpt, ...o.asrOptions }) : asr;
      judgeName = o.scoreAsr === asrId ? `${o.scoreAsr} (the sender's own recognizer: not independent)` : o.scoreAsr;
    } else {
      // Same acoustic model and dictionary, another LM and search setup (what is shared: judge-lm.ts).
      scorer = await createAsrEngine('pocketsphinx', { lm: judgeLmPath(), decoderFlags: {} });
      judgeName = JUDGE_DESCRIPTION;
    }
    tts = await createTtsEngine(o.tts, modelDirOpt);
  } catch (err) {
    await asr?.close();
    if (scorer !== asr) await scorer?.close();
    await speakerEncoder?.close();
    throw err;
  }
  let peakRss = process.memoryUsage().rss;
  const sample = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));
  try {
    // Speaker-ID enrolment and F0 tracks of the originals.
    const id = new SpeakerIdentifier(corpus.map((u) => ({ speaker: u.speaker, vector: featureStats(mfcc(audio.get(u.id)!)) })));
    const origF0 = corpus.map((u) => trackF0(audio.get(u.id)!).f0Hz);
    // The judge on the originals: its own WER floor, and the word times timing is measured against.
    const judgedOriginals: AsrResult[][] = [];
    for (const u of corpus) judgedOriginals.push(await recognize(scorer, audio.get(u.id)!));
    const judges: Judges = { judge: scorer, same: asr, original: judgedOriginals.map((rs) => rs.flatMap((r) => r.words)) };
    const judgeOriginalWer = corpusWer(corpus.map((u, i) => ({ reference: u.transcript, hypothesis: judgedOriginals[i]!.map((r) => r.text).join(' ') }))).wer;
    sample();

    const speakers = [...new Set(corpus.map((u) => u.speaker))];
    const runMode = async (mode: CodecMode, render: { useProsody: boolean; useSpeaker: boolean }, label: string, share: [number, number]) => {
      const coded: CodedUtterance[] = [];
      const decoded: DecodedUtterance[] = [];
      let done = 0;
      for (const spk of speakers) {
        const utts = corpus.filter((u) => u.speaker === spk).map((u) => ({ utt: u, audio: audio.get(u.id)! }));
        const c = await encodeSpeakerSession(utts, asr, mode, speakerEncoder);
        sample();
        const d = await decodeSpeakerSession(c, tts, render);
        sample();
        coded.push(...c);
        decoded.push(...d);
        done += utts.length;
        progress(share[0] + ((share[1] - share[0]) * done) / corpus.length, `${label}: speaker ${spk}`);
      }
      const order = new Map(corpus.map((u, i) => [u.id, i]));
      const idx = coded.map((c, i) => i).sort((a, b) => order.get(coded[a]!.utt.id)! - order.get(coded[b]!.utt.id)!);
      const cs = idx.map((i) => coded[i]!);
      const ds = idx.map((i) => decoded[i]!);
      return { coded: cs, decoded: ds, scored: await score(cs, ds, judges, id, origF0) };
    };

    const main = await runMode(o.mode, { useProsody: true, useSpeaker: true }, `stcts ${o.mode}`, [0, 0.5]);
    const bits = (k: string) => main.coded.reduce((s, c) => s + (c.channelBits[k] ?? 0), 0);
    const totalBits = main.coded.reduce((s, c) => s + c.wireBits, 0);
    const setupBits = main.coded.reduce((s, c) => s + c.setupBits, 0);
    const senderW = corpusWer(main.coded.map((c) => ({ reference: c.utt.transcript, hypothesis: c.asr.map((r) => r.text).join(' ') })));
    const profileFrame = main.coded.flatMap((c) => c.frames).find((f) => f.payload.type === 'speakerProfile');
    const result: EvalResult = {
      utterances: corpus.length,
      audioSeconds,
      mode: o.mode,
      bitrate: {
        totalBps: totalBits / audioSeconds,
        textBps: bits('text') / audioSeconds,
        prosodyBps: bits('prosody') / audioSeconds,
        speakerBps: bits('speaker') / audioSeconds,
        overheadBps: (totalBits - bits('text') - bits('prosody') - bits('speaker')) / audioSeconds,
        sustainedBps: (totalBits - setupBits) / audioSeconds,
      },
      asr: { senderWer: senderW.wer, senderMeanUtteranceWer: senderW.meanUtteranceWer, judgeWerOnOriginal: judgeOriginalWer },
      roundTrip: { wer: main.scored.roundTripWer, werSameRecognizer: main.scored.werSameRecognizer, werVsSender: main.scored.werVsSender, meanUtteranceWer: main.scored.meanUtteranceWer, judge: judgeName },
      prosody: {
        f0Corr: main.scored.f0Corr,
        f0RmseSemitones: main.scored.f0Rmse,
        f0ShapeRmseSemitones: main.scored.f0ShapeRmse,
        wordDurationCorr: main.scored.timing.wordDurationCorr,
        pauseCorr: main.scored.timing.pauseCorr,
        timingMatchedWords: main.scored.timing.matchedWords,
        timingOriginalWords: main.scored.timing.originalWords,
        planWordDurationCorr: main.scored.planWordDurationCorr,
        planPauseCorr: main.scored.planPauseCorr,
      },
      speaker: { idAccuracy: main.scored.idAccuracy, medianF0ErrorSemitones: main.scored.medianF0Error, profileBytes: profileFrame?.payload.type === 'speakerProfile' ? profileFrame.payload.profile.length + (profileFrame.payload.embedding?.coded.length ?? 0) : 0 },
      speed: {
        encodeRtf: main.coded.reduce((s, c) => s + c.encodeMs, 0) / 1000 / audioSeconds,
        decodeRtf: main.decoded.reduce((s, d) => s + d.decodeMs, 0) / 1000 / audioSeconds,
        peakRssMb: peakRss / 1e6,
      },
      baselines: [],
      perUtterance: main.coded.map((c, i) => ({
        id: c.utt.id,
        speaker: c.utt.speaker,
        seconds: c.original.samples.length / 16000,
        bits: c.wireBits,
        reference: c.utt.transcript,
        senderText: c.asr.map((r) => r.text).join(' '),
        decodedText: main.scored.perUtt[i]!.text,
        senderWer: wordErrorRate(c.utt.transcript, c.asr.map((r) => r.text).join(' ')).wer,
        roundTripWer: main.scored.perUtt[i]!.wer,
        roundTripWerSameRecognizer: main.scored.perUtt[i]!.werSame,
        f0Corr: main.scored.perUtt[i]!.f0Corr,
        identifiedSpeaker: main.scored.perUtt[i]!.speaker,
      })),
      environment: environment(o.command),
    };
    const ex = main.scored.perUtt.map((p, i) => ({ p, i })).sort((a, b) => (b.p.f0Corr || -2) - (a.p.f0Corr || -2))[Math.floor(main.scored.perUtt.length / 2)];
    if (ex) result.f0Example = { id: corpus[ex.i]!.id, originalHz: Array.from(ex.p.f0), decodedHz: Array.from(ex.p.warped) };

    if (o.textOnly) {
      const t = await runMode(o.mode, { useProsody: false, useSpeaker: false }, 'text-only', [0.5, 0.65]);
      result.textOnly = { f0Corr: t.scored.f0Corr, idAccuracy: t.scored.idAccuracy, medianF0ErrorSemitones: t.scored.medianF0Error, roundTripWer: t.scored.roundTripWer, roundTripWerSameRecognizer: t.scored.werSameRecognizer, wordDurationCorr: t.scored.timing.wordDurationCorr, pauseCorr: t.scored.timing.pauseCorr };
    }
    if (o.sweep) {
      result.sweep = [];
      const modes: CodecMode[] = ['minimal', 'balanced', 'high'];
      for (const [k, m] of modes.entries()) {
        const s = m === o.mode ? main : await runMode(m, { useProsody: true, useSpeaker: true }, `sweep ${m}`, [0.65 + k * 0.05, 0.7 + k * 0.05]);
        const tb = s.coded.reduce((a, c) => a + c.wireBits, 0);
        const pb = s.coded.reduce((a, c) => a + (c.channelBits.prosody ?? 0), 0);
        const setup = s.coded.reduce((a, c) => a + c.setupBits, 0);
        result.sweep.push({ mode: m, totalBps: tb / audioSeconds, sustainedBps: (tb - setup) / audioSeconds, prosodyBps: pb / audioSeconds, f0Corr: s.scored.f0Corr, f0RmseSemitones: s.scored.f0Rmse, roundTripWer: s.scored.roundTripWer });
      }
    }
    const baselines = baselinesByName(o.baselines);
    for (const [k, b] of baselines.entries()) {
      const pairs: Array<{ reference: string; hypothesis: string }> = [];
      const samePairs: Array<{ reference: string; hypothesis: string }> = [];
      const timed: Array<{ original: TimedWord[]; decoded: TimedWord[] }> = [];
      let bitsSum = 0, encMs = 0, decMs = 0, correct = 0;
      try {
        for (const [i, u] of corpus.entries()) {
          const r = await b.run(audio.get(u.id)!);
          bitsSum += r.bits;
          encMs += r.encodeMs;
          decMs += r.decodeMs;
          const j = await judgeAudio(judges, r.decoded);
          pairs.push({ reference: u.transcript, hypothesis: j.text });
          samePairs.push({ reference: u.transcript, hypothesis: j.sameText });
          timed.push({ original: judges.original[i]!, decoded: j.words });
          if (id.identify(featureStats(mfcc(r.decoded))) === u.speaker) correct++;
        }
        const timing = timingAgreement(timed);
        result.baselines.push({
          name: b.name,
          bps: bitsSum / audioSeconds,
          wer: corpusWer(pairs).wer,
          werSameRecognizer: corpusWer(samePairs).wer,
          wordDurationCorr: timing.wordDurationCorr,
          pauseCorr: timing.pauseCorr,
          encodeRtf: encMs / 1000 / audioSeconds,
          decodeRtf: decMs / 1000 / audioSeconds,
          speakerIdAccuracy: correct / corpus.length,
        });
      } catch (err) {
        if (!(err instanceof EngineUnavailableError)) throw err;
        result.baselines.push({ name: b.name, bps: NaN, wer: NaN, encodeRtf: NaN, decodeRtf: NaN, skipped: err.message });
      }
      progress(0.8 + (0.2 * (k + 1)) / baselines.length, `baseline ${b.name}`);
    }
    sample();
    result.speed.peakRssMb = peakRss / 1e6;
    return result;
  } finally {
    await asr.close();
    if (scorer !== asr) await scorer.close();
    await tts.close();
    await speakerEncoder?.close();
  }
}
