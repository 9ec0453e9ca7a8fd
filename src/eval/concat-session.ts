import { sliceMs, type MonoAudio } from '../audio/index.ts';
import { FrameStreamWriter, type CodecMode } from '../codec/frame/index.ts';
import type { TextModel } from '../codec/text/index.ts';
import { UsageError } from '../core/errors.ts';
import type { AsrEngine, AsrResult } from '../engines/asr/types.ts';
import { transcribeAudio } from '../engines/asr/registry.ts';
import type { SpeakerEncoder } from '../engines/speaker/neural/types.ts';
import type { SenderAnalysisOptions } from '../pipeline/analysis.ts';
import { lmSenderPipeline } from '../pipeline/codecs.ts';
import { senderFrames } from '../pipeline/sender.ts';
import { corpusWer } from './wer.ts';

/**
 * The `concat` session (issue #17): a corpus as ONE session, utterances end to end in corpus order
 * with silence between them — several people taking turns on one microphone. It measures what
 * per-speaker sessions never show: whether the sender notices who is speaking.
 */

/** Where one utterance lies on the concatenated timeline, ms. */
export interface ConcatSpan {
  id: string;
  speaker: string;
  transcript: string;
  startMs: number;
  endMs: number;
}

/** Lays utterances (16 kHz mono) end to end with `gapMs` of silence between them (none after the last). */
export function concatSession(utts: ReadonlyArray<{ id: string; speaker: string; transcript: string; audio: MonoAudio }>, gapMs = 1000): { audio: MonoAudio; spans: ConcatSpan[] } {
  const sr = 16000;
  const gap = Math.round((gapMs / 1000) * sr);
  let total = 0;
  for (const [i, u] of utts.entries()) {
    if (u.audio.sampleRateHz !== sr) throw new UsageError(`concatSession needs 16 kHz audio; ${u.id} is ${u.audio.sampleRateHz} Hz`);
    total += u.audio.samples.length + (i > 0 ? gap : 0);
  }
  const samples = new Float32Array(total);
  const spans: ConcatSpan[] = [];
  let at = 0;
  for (const [i, u] of utts.entries()) {
    if (i > 0) at += gap;
    samples.set(u.audio.samples, at);
    spans.push({ id: u.id, speaker: u.speaker, transcript: u.transcript, startMs: (at * 1000) / sr, endMs: ((at + u.audio.samples.length) * 1000) / sr });
    at += u.audio.samples.length;
  }
  return { audio: { samples, sampleRateHz: sr }, spans };
}

/** The span a phrase overlaps most (its true speaker), or undefined when it overlaps none. */
export function spanOf(spans: readonly ConcatSpan[], startMs: number, endMs: number): ConcatSpan | undefined {
  let best: ConcatSpan | undefined;
  let bestMs = 0;
  for (const s of spans) {
    const ov = Math.min(endMs, s.endMs) - Math.max(startMs, s.startMs);
    if (ov > bestMs) [best, bestMs] = [s, ov];
  }
  return best;
}

/** Speaker-turn scores of one session (phrase granularity). */
export interface TurnScores {
  phrases: number;
  /** Phrases whose true speaker differs from the previous phrase's. */
  trueChanges: number;
  /** True changes answered by a change of the announced speaker at that phrase or within `delayPhrases` after it (before the next true change). */
  changesHit: number;
  /** Changes of the announced speaker that answer no true change. */
  falseChanges: number;
  /** Fraction of phrases whose announced speaker maps to their true speaker, under the best one-to-one speaker↔profile mapping (unlabelled phrases count as wrong). */
  labelAccuracy: number;
  /** Distinct announced speakers (profiles sent). */
  profiles: number;
}

/**
 * Scores announced speaker labels (`labels[i]`: the profile id phrase i was sent under, undefined
 * before the first announcement) against the true speakers. A change from "no label" to the first
 * label is not a change.
 */
export function scoreTurns(truth: readonly string[], labels: ReadonlyArray<number | undefined>, delayPhrases = 1): TurnScores {
  if (truth.length !== labels.length) throw new UsageError(`scoreTurns: ${truth.length} true speakers for ${labels.length} labels`);
  const n = truth.length;
  const trueAt: number[] = [];
  const detected = new Set<number>();
  for (let i = 1; i < n; i++) {
    if (truth[i] !== truth[i - 1]) trueAt.push(i);
    if (labels[i] !== undefined && labels[i - 1] !== undefined && labels[i] !== labels[i - 1]) detected.add(i);
  }
  let hit = 0;
  const used = new Set<number>();
  for (const [k, i] of trueAt.entries()) {
    const limit = Math.min(i + delayPhrases, (trueAt[k + 1] ?? n) - 1);
    for (let j = i; j <= limit; j++) {
      if (detected.has(j) && !used.has(j)) {
        used.add(j);
        hit++;
        break;
      }
    }
  }
  const profiles = new Set(labels.filter((l): l is number => l !== undefined));
  return { phrases: n, trueChanges: trueAt.length, changesHit: hit, falseChanges: detected.size - used.size, labelAccuracy: n ? bestMappingCount(truth, labels) / n : 1, profiles: profiles.size };
}

/** Phrases correctly labelled under the best one-to-one mapping (exact assignment by DP over the smaller side's subsets). */
function bestMappingCount(truth: readonly string[], labels: ReadonlyArray<number | undefined>): number {
  const speakers = [...new Set(truth)];
  const profiles = [...new Set(labels.filter((l): l is number => l !== undefined))];
  const count = speakers.map(() => profiles.map(() => 0));
  truth.forEach((s, i) => {
    const l = labels[i];
    if (l !== undefined) count[speakers.indexOf(s)]![profiles.indexOf(l)]!++;
  });
  // Rows iterate, columns form the subset mask: put the smaller side in the mask.
  const m = speakers.length <= profiles.length ? count[0]!.map((_, p) => count.map((row) => row[p]!)) : count;
  const cols = m[0]?.length ?? 0;
  if (cols > 20) throw new UsageError(`scoreTurns: too many speakers and profiles to map exactly (${speakers.length} × ${profiles.length})`);
  let best = new Map<number, number>([[0, 0]]);
  for (const row of m) {
    const next = new Map(best);
    for (const [mask, v] of best) {
      for (let c = 0; c < cols; c++) {
        if (mask & (1 << c)) continue;
        const key = mask | (1 << c);
        const s = v + row[c]!;
        if ((next.get(key) ?? -1) < s) next.set(key, s);
      }
    }
    best = next;
  }
  return Math.max(0, ...best.values());
}

/** Options of {@link evaluateConcatSession}. */
export interface ConcatSessionOptions {
  mode: CodecMode;
  /** Silence between utterances, ms. Default 1000. */
  gapMs: number;
  /** Sender speaker-analysis settings. */
  analysis: Partial<SenderAnalysisOptions>;
  /** Recognizer results over the concatenated audio from an earlier run (the recognizer is then not used). */
  asrResults?: AsrResult[];
  speakerEncoder?: SpeakerEncoder;
  /** Fixed session id (the stream bytes depend on it only through the header). Default 1. */
  sessionId: number;
}

export const DEFAULT_CONCAT_SESSION_OPTIONS: Readonly<ConcatSessionOptions> = Object.freeze({ mode: 'balanced', gapMs: 1000, analysis: {}, sessionId: 1 });

/** One phrase of the concat session as the sender sent it. */
export interface ConcatPhrase {
  startMs: number;
  endMs: number;
  text: string;
  /** True speaker (most-overlapped utterance's). */
  speaker: string;
  /** Speaker id the phrase was sent under (SpeakerProfile/SpeakerRef id), undefined before the first. */
  label: number | undefined;
}

export interface ConcatSessionResult {
  durationSec: number;
  turns: TurnScores;
  /** SpeakerProfile frames sent and SpeakerRef frames sent. */
  speakerFrames: { profiles: number; refs: number };
  /** Every bit of the encoded stream (the `stcts encode` file) ÷ duration. */
  bitsPerSecond: number;
  bytes: number;
  /** Payload bits by channel; the rest of the stream is framing. */
  bits: { text: number; prosody: number; speaker: number; overhead: number };
  /** Sender WER of the session (recognizer output against the concatenated transcripts). */
  senderWer: number;
  phrases: ConcatPhrase[];
  asrResults: AsrResult[];
}

/**
 * Encodes the concatenated utterances as one LM session, exactly as `stcts encode` would encode
 * the concatenated WAV (the recognizer runs over the whole recording), and scores the speaker turns.
 */
export async function evaluateConcatSession(
  utts: ReadonlyArray<{ id: string; speaker: string; transcript: string; audio: MonoAudio }>,
  asr: AsrEngine | undefined,
  model: TextModel,
  options: Partial<ConcatSessionOptions> = {},
): Promise<ConcatSessionResult> {
  const o = { ...DEFAULT_CONCAT_SESSION_OPTIONS, ...options };
  const { audio, spans } = concatSession(utts, o.gapMs);
  let asrResults = o.asrResults;
  if (!asrResults) {
    if (!asr) throw new UsageError('evaluateConcatSession needs a recognizer or cached asrResults');
    asrResults = await transcribeAudio(asr, audio);
  }
  const { codec, analyzer } = lmSenderPipeline(model, o.mode, { analysis: o.analysis, ...(o.speakerEncoder ? { speakerEncoder: o.speakerEncoder } : {}) });
  const sent = asrResults.filter((r) => r.text.trim() !== '');
  async function* phrases() {
    for (const result of sent) yield { result, audio: sliceMs(audio, result.startMs, result.endMs) };
  }
  const durationMs = (audio.samples.length * 1000) / audio.sampleRateHz;
  const writer = new FrameStreamWriter();
  const bits = { text: 0, prosody: 0, speaker: 0, overhead: 0 };
  const labels: Array<number | undefined> = [];
  const speakerFrames = { profiles: 0, refs: 0 };
  let current: number | undefined;
  let bytes = 0;
  for await (const f of senderFrames(phrases(), codec, analyzer, { sessionId: o.sessionId, mode: o.mode, endMs: () => durationMs })) {
    bytes += writer.write(f.frame).length;
    for (const [k, v] of Object.entries(f.channelBits)) if (k === 'text' || k === 'prosody' || k === 'speaker') bits[k] += v;
    const p = f.frame.payload;
    if (p.type === 'speakerProfile') [current, speakerFrames.profiles] = [p.id, speakerFrames.profiles + 1];
    if (p.type === 'speakerRef') [current, speakerFrames.refs] = [p.id, speakerFrames.refs + 1];
    if (p.type === 'text') labels.push(current);
  }
  bits.overhead = bytes * 8 - bits.text - bits.prosody - bits.speaker;
  const phraseList: ConcatPhrase[] = sent.map((r, i) => ({ startMs: r.startMs, endMs: r.endMs, text: r.text, speaker: spanOf(spans, r.startMs, r.endMs)?.speaker ?? '?', label: labels[i] }));
  const wer = corpusWer([{ reference: spans.map((s) => s.transcript).join(' '), hypothesis: sent.map((r) => r.text).join(' ') }]).wer;
  return {
    durationSec: durationMs / 1000,
    turns: scoreTurns(phraseList.map((p) => p.speaker), phraseList.map((p) => p.label)),
    speakerFrames,
    bitsPerSecond: (bytes * 8) / (durationMs / 1000),
    bytes,
    bits,
    senderWer: wer,
    phrases: phraseList,
    asrResults,
  };
}

/** JSON summary of {@link evaluateConcatSession} (what `stcts eval --session concat` reports). */
export interface ConcatSessionReport {
  session: 'concat';
  utterances: number;
  speakers: number;
  durationSec: number;
  turns: TurnScores;
  speakerFrames: { profiles: number; refs: number };
  bitsPerSecond: number;
  bytes: number;
  bits: ConcatSessionResult['bits'];
  senderWer: number;
  /** Per phrase: start (s), true speaker, speaker id sent. */
  phrases: Array<{ startSec: number; speaker: string; label: number | null }>;
}

/**
 * Loads a corpus (transcripts.tsv order; LibriSpeech layout: sorted ids), the recognizer and the
 * text model, and runs {@link evaluateConcatSession}; closes what it opened.
 */
export async function runConcatSession(corpusDir: string, options: Partial<ConcatSessionOptions> & { asr?: string; asrOptions?: Record<string, unknown>; limit?: number } = {}): Promise<ConcatSessionReport> {
  const { readCorpus, loadUtteranceAudio } = await import('./corpus.ts');
  const { createAsrEngine } = await import('../engines/asr/registry.ts');
  const { loadDefaultTextModel } = await import('../pipeline/codecs.ts');
  const all = await readCorpus(corpusDir);
  const utts = options.limit ? all.slice(0, options.limit) : all;
  const loaded = await Promise.all(utts.map(async (u) => ({ id: u.id, speaker: u.speaker, transcript: u.transcript, audio: await loadUtteranceAudio(u) })));
  const model = await loadDefaultTextModel();
  const asr = options.asrResults ? undefined : await createAsrEngine(options.asr ?? 'pocketsphinx', options.asrOptions ?? {});
  try {
    const r = await evaluateConcatSession(loaded, asr, model, options);
    return {
      session: 'concat',
      utterances: utts.length,
      speakers: new Set(utts.map((u) => u.speaker)).size,
      durationSec: r.durationSec,
      turns: r.turns,
      speakerFrames: r.speakerFrames,
      bitsPerSecond: r.bitsPerSecond,
      bytes: r.bytes,
      bits: r.bits,
      senderWer: r.senderWer,
      phrases: r.phrases.map((p) => ({ startSec: Math.round(p.startMs / 100) / 10, speaker: p.speaker, label: p.label ?? null })),
    };
  } finally {
    await asr?.close();
  }
}

/** Human-readable lines of a {@link ConcatSessionReport} (CLI output). */
export function formatConcatSession(r: ConcatSessionReport): string {
  const t = r.turns;
  return [
    `concat session: ${r.utterances} utterances, ${r.speakers} speakers, ${r.durationSec.toFixed(1)} s as one session`,
    `  turns: ${t.changesHit}/${t.trueChanges} changes hit (≤ 1 phrase late), ${t.falseChanges} false, label accuracy ${t.labelAccuracy.toFixed(3)} over ${t.phrases} phrases`,
    `  speaker frames: ${r.speakerFrames.profiles} profiles, ${r.speakerFrames.refs} SpeakerRefs; call ${r.bitsPerSecond.toFixed(1)} bit/s (${r.bytes} bytes); sender WER ${r.senderWer.toFixed(3)}`,
  ].join('\n');
}
