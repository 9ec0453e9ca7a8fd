import { fromPcm16, resample, toPcm16k, type MonoAudio } from '../audio/index.ts';
import type { CodecMode } from '../codec/frame/index.ts';
import { createAsrEngine } from '../engines/asr/registry.ts';
import type { AsrEngine } from '../engines/asr/types.ts';
import { createTtsEngine } from '../engines/tts/registry.ts';
import type { TtsEngine } from '../engines/tts/types.ts';
import { senderPass, DEFAULT_LIVE_SIM_OPTIONS } from '../pipeline/live-sim.ts';
import type { HfChannelKind } from '../transport/hf/channel.ts';
import type { FreedvDataModeName, FreedvVoiceModeName } from '../transport/links/freedv/modes.ts';
import { runVoiceBerTrial, transmitSpeech } from '../transport/links/freedv/trial.ts';
import { loadUtteranceAudio, readCorpus, type CorpusUtterance } from './corpus.ts';
import { runHfCall, type HfCallResult } from './hf-call.ts';
import { decodeSpeakerSession, environment, recognize, type CodedUtterance } from './harness.ts';
import { JUDGE_DESCRIPTION, judgeLmPath } from './judge-lm.ts';
import { wordErrorRate } from './wer.ts';

/**
 * `stcts hf-sim` (issue #15): the corpus as one call (utterances 1 s apart) through the live sender
 * (real time, once), then for every SNR through ARQ → FreeDV modem → HF channel → modem → ARQ, acks
 * back over the same channel (stream time: faster than real time), receiver TTS of what arrived,
 * judged by the same independent pocketsphinx judge as `stcts eval`. Beside it the FreeDV voice
 * baselines: the call's speech through the real voice modem → the same channel → modem → judge.
 */

export interface HfSimOptions {
  /** Corpus folder, or `utterances` directly (tests). */
  corpusDir?: string;
  utterances?: Array<{ audio: MonoAudio; transcript: string }>;
  channel: HfChannelKind;
  snrDb: number[];
  /** One stcts row per entry and SNR: a mode, or an adaptive set of modes (e.g. FREEDV_AUTO_MODES). */
  modes: Array<FreedvDataModeName | readonly FreedvDataModeName[]>;
  baselines: FreedvVoiceModeName[];
  codecMode: CodecMode;
  seed: number;
  /** Frames per OFDM burst on both ends. Default 1. */
  framesPerBurst: number;
  limit?: number;
  tts: string;
  command: string;
  onProgress?: (label: string) => void;
}

export const DEFAULT_HF_SIM_OPTIONS: Readonly<Omit<HfSimOptions, 'channel' | 'snrDb'>> = Object.freeze({ modes: ['datac0'] as FreedvDataModeName[], baselines: [] as FreedvVoiceModeName[], codecMode: 'balanced', seed: 1, framesPerBurst: 1, tts: 'auto', command: 'hf-sim' });

export interface HfSimRow {
  /** `stcts` or the FreeDV voice baseline's name (`freedv-700d`). */
  system: string;
  channel: HfChannelKind;
  snrDb: number;
  /** Phrases delivered within 60 s after the call ends / phrases sent (baselines: null). */
  deliveredRatio: number | null;
  /** Phrase end at the sender → its text frame delivered at the receiver (stream time; receiver synthesis not included), ms. */
  latencyMsMedian: number | null;
  latencyMsP95: number | null;
  /** WER of the judge on the receiver's audio of the whole call against the transcripts (missing phrases count as deletions). */
  roundTripWer: number;
  modesUsed: string[];
  /** Adaptive rows: the candidate modes. */
  adaptive?: string[];
  /** Baselines: coded BER on libcodec2's test frames through the same channel; share of modem steps in sync. */
  codedBer?: number;
  syncRatio?: number;
  /** stcts rows: what the link did. */
  link?: Omit<HfCallResult, 'delivered' | 'modesUsed'>;
}

export interface HfSimResult {
  environment: ReturnType<typeof environment>;
  judge: string;
  phrases: number;
  callSeconds: number;
  codecBps: number;
  /** The judge's WER on the original call audio (its own floor). */
  originalWer: number;
  rows: HfSimRow[];
  wallSeconds: number;
}

const pct = (xs: number[], q: number) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};

/** The whole call's audio, utterances `gapMs` apart (as senderPass lays them out), 16 kHz. */
function callAudio(utts: Array<{ audio: MonoAudio }>, gapMs: number): MonoAudio {
  const parts = utts.map((u) => toPcm16k(u.audio));
  const gap = Math.round((gapMs * 16000) / 1000);
  const pcm = new Int16Array(parts.reduce((s, p) => s + p.length + gap, 0));
  let at = 0;
  for (const p of parts) {
    pcm.set(p, at);
    at += p.length + gap;
  }
  return fromPcm16(pcm, 16000);
}

async function judgeWer(judge: AsrEngine, audio: MonoAudio, reference: string): Promise<number> {
  const hyp = (await recognize(judge, audio)).map((r) => r.text).join(' ');
  return wordErrorRate(reference, hyp).wer;
}

export async function runHfSim(options: Partial<HfSimOptions> & Pick<HfSimOptions, 'channel' | 'snrDb'>): Promise<HfSimResult> {
  const o: HfSimOptions = { ...DEFAULT_HF_SIM_OPTIONS, ...options };
  const t0 = performance.now();
  const progress = o.onProgress ?? (() => {});
  let utts = o.utterances;
  if (!utts) {
    let corpus: CorpusUtterance[] = await readCorpus(o.corpusDir ?? '.');
    if (o.limit) corpus = corpus.slice(0, o.limit);
    utts = [];
    for (const u of corpus) utts.push({ audio: await loadUtteranceAudio(u), transcript: u.transcript });
  }
  const reference = utts.map((u) => u.transcript).join(' ');
  const gapMs = DEFAULT_LIVE_SIM_OPTIONS.gapMs;
  const call = callAudio(utts, gapMs);
  let asr: AsrEngine | undefined, judge: AsrEngine | undefined, tts: TtsEngine | undefined;
  try {
    asr = await createAsrEngine('pocketsphinx');
    judge = await createAsrEngine('pocketsphinx', { lm: judgeLmPath(), decoderFlags: {} });
    tts = await createTtsEngine(o.tts);
    progress('playing the call into the live sender (real time)');
    const pass = await senderPass(utts, asr, { ...DEFAULT_LIVE_SIM_OPTIONS, mode: o.codecMode, realtime: true });
    const originalWer = await judgeWer(judge, call, reference);
    const rows: HfSimRow[] = [];
    const callEndMs = pass.audioMs;
    for (const snrDb of o.snrDb) {
      for (const entry of o.modes) {
        const set = typeof entry === 'string' ? [entry] : [...entry];
        const mode = set[0]!;
        progress(`stcts ${set.join('+')} ${o.channel} ${snrDb} dB`);
        const r = await runHfCall(pass.inputs, { mode, ...(set.length > 1 ? { modes: set } : {}), channel: o.channel, snrDb, seed: o.seed, link: { framesPerBurst: o.framesPerBurst }, ...(process.env.STCTS_HF_TRACE ? { trace: (l: string) => process.stderr.write(`${l}\n`) } : {}) });
        const inTime = r.delivered.filter((d) => d.atMs <= callEndMs + 60_000);
        const latencies: number[] = [];
        for (const d of inTime) {
          const phrase = d.frame.payload.type === 'text' ? pass.phrases.get(d.frame.seq) : undefined;
          if (phrase) latencies.push(d.atMs - phrase.endMs);
        }
        const coded: CodedUtterance = {
          utt: { id: 'call', speaker: 'call', transcript: reference, audioPath: '', durationSec: call.samples.length / 16000 },
          original: call,
          asr: [],
          frames: inTime.map((d) => d.frame),
          wireBits: 0,
          channelBits: {},
          setupBits: 0,
          encodeMs: 0,
          offsetMs: 0,
        };
        const [decoded] = await decodeSpeakerSession([coded], tts, { useProsody: true, useSpeaker: true });
        const { delivered: _d, modesUsed: _m, ...link } = r;
        rows.push({
          system: 'stcts',
          channel: o.channel,
          snrDb,
          deliveredRatio: pass.phrases.size ? latencies.length / pass.phrases.size : 1,
          latencyMsMedian: pct(latencies, 0.5),
          latencyMsP95: pct(latencies, 0.95),
          roundTripWer: await judgeWer(judge, decoded!.audio, reference),
          modesUsed: r.modesUsed,
          ...(set.length > 1 ? { adaptive: set } : {}),
          link,
        });
      }
      for (const b of o.baselines) {
        progress(`freedv-${b} ${o.channel} ${snrDb} dB`);
        // The voice modems take 8 kHz speech (toPcm16k would resample it back to 16 kHz).
        const speech8k = Int16Array.from(resample(call, 8000).samples, (v) => Math.max(-32768, Math.min(32767, Math.round(v * 32768))));
        const v = await transmitSpeech(speech8k, { mode: b, channel: o.channel, snrDb, seed: o.seed });
        const ber = await runVoiceBerTrial({ mode: b, channel: o.channel, snrDb, seed: o.seed, durationS: 20 });
        rows.push({
          system: `freedv-${b}`,
          channel: o.channel,
          snrDb,
          deliveredRatio: null,
          latencyMsMedian: null,
          latencyMsP95: null,
          roundTripWer: await judgeWer(judge, resample(fromPcm16(v.speech, 8000), 16000), reference),
          modesUsed: [b],
          codedBer: ber.codedBer,
          syncRatio: v.syncRatio,
        });
      }
    }
    return {
      environment: environment(o.command),
      judge: JUDGE_DESCRIPTION,
      phrases: pass.phrases.size,
      callSeconds: pass.audioMs / 1000,
      codecBps: pass.wireBits / (pass.audioMs / 1000),
      originalWer,
      rows,
      wallSeconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await asr?.close();
    await judge?.close();
    await tts?.close();
  }
}
