import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { EngineUnavailableError, InvalidStateError } from '../../../core/errors.ts';
import type { TtsEngine, TtsRequest, TtsResult, TtsVoice } from '../types.ts';
import { applyTilt } from '../tilt.ts';
import { FestivalFrontEnd, type HtsLabel } from './festival.ts';

export const SLT_VOICE_PATH = '/usr/share/festival/voices/us/cmu_us_slt_arctic_hts/hts/cmu_us_slt_arctic_hts.htsvoice';
const ADDON_PATH = fileURLToPath(new URL('../../../../native/htsengine/build/Release/stcts_htsengine.node', import.meta.url));
/** The model's typical F0 spread (5–95 %), semitones: the reference for range scaling. */
const MODEL_RANGE_SEMITONES = 8;
/** Silence kept before the first word, and after the last, ms (the phrase start is the first word). */
const EDGE_PAUSE_MS = 30;

interface NativeVoice {
  synthesize(labels: string[], o: { alignment: boolean; speed?: number; alpha?: number; beta?: number; medianHz?: number; rangeScale?: number; f0?: Float32Array }): Promise<{ samples: Float32Array; f0: Float32Array; modelF0: Float32Array; sampleRateHz: number; framePeriod: number; frames: number }>;
  close(): void;
  readonly defaultAlpha: number;
}

const UNITS_PER_MS = 10_000; // labels are in 100 ns

/** Festival + hts_engine (Debian) with exact word durations, an F0 contour override and timbre controls. */
export class HtsTtsEngine implements TtsEngine {
  readonly id = 'hts';
  readonly voices: readonly TtsVoice[] = [{ id: 'slt', sex: 'F', medianF0Hz: 170 }];
  private voice: NativeVoice | undefined;
  private readonly frontEnd = new FestivalFrontEnd();
  private busy: Promise<unknown> = Promise.resolve();

  constructor(voicePath = SLT_VOICE_PATH) {
    if (!existsSync(voicePath)) throw new EngineUnavailableError('hts', `HTS voice not found at ${voicePath}`, 'apt-get install festvox-us-slt-hts');
    if (!existsSync('/usr/bin/festival')) throw new EngineUnavailableError('hts', 'festival is not installed', 'apt-get install festival');
    if (!existsSync(ADDON_PATH)) throw new EngineUnavailableError('hts', 'the hts_engine addon is not built', 'apt-get install libhtsengine-dev build-essential, then node scripts/build-native.mjs');
    const addon = createRequire(import.meta.url)(ADDON_PATH) as { Voice: new (path: string) => NativeVoice };
    this.voice = new addon.Voice(voicePath);
  }

  /** The voice's own all-pass constant (frequency warping). */
  get defaultAlpha(): number {
    return this.voice?.defaultAlpha ?? 0.42;
  }

  async synthesize(request: TtsRequest, signal?: AbortSignal): Promise<TtsResult> {
    const voice = this.voice;
    if (!voice) throw new InvalidStateError('HtsTtsEngine used after close()');
    signal?.throwIfAborted();
    const text = request.text.trim();
    if (!text) return { samples: new Float32Array(0), sampleRateHz: 32000, words: [] };
    const fe = await this.frontEnd.analyze(text);
    const timed = retime(fe.labels, fe.words.length, request);
    const run = this.busy.then(() => voice.synthesize(timed.lines, {
      alignment: true,
      alpha: request.timbre?.allpassAlpha,
      beta: request.timbre?.postfilterBeta,
      medianHz: request.f0MedianHz,
      rangeScale: request.f0RangeSemitones !== undefined ? request.f0RangeSemitones / MODEL_RANGE_SEMITONES : undefined,
      f0: request.f0Hz ? f0PerFrame(request, timed.totalMs) : undefined,
    }));
    this.busy = run.catch(() => {});
    const r = await run;
    let samples = r.samples;
    if (request.timbre?.tiltDbPerOctave) samples = applyTilt(samples, r.sampleRateHz, request.timbre.tiltDbPerOctave);
    const words = timed.words.map((w, i) => ({ word: fe.words[i] ?? '', ...w }));
    if (request.pausesAfterMs) samples = insertPauses(samples, r.sampleRateHz, words, request.pausesAfterMs);
    // Words Festival expanded ("12" → "twelve") keep Festival's spelling; times are exact.
    return { samples, sampleRateHz: r.sampleRateHz, words };
  }

  /** Idempotent. */
  async close(): Promise<void> {
    await this.busy;
    this.voice?.close();
    this.voice = undefined;
    await this.frontEnd.close();
  }
}

/**
 * Label times for the request: Festival's own durations scaled by `rate`, or each word stretched
 * to its requested duration (phones in proportion), pauses from `pausesAfterMs`; edge pauses short.
 */
export function retime(labels: HtsLabel[], wordCount: number, req: TtsRequest): { lines: string[]; totalMs: number; words: Array<{ startMs: number; endMs: number }> } {
  const rate = req.rate && req.rate > 0 ? req.rate : 1;
  const dur = labels.map((l) => (l.end - l.start) / UNITS_PER_MS / rate);
  const wantWords = req.wordDurationsMs && req.wordDurationsMs.length === wordCount ? req.wordDurationsMs : undefined;
  if (!wantWords && req.speechDurationMs && req.speechDurationMs > 0) {
    const inWords = labels.map((l, i) => (l.wordIndex !== undefined ? i : -1)).filter((i) => i >= 0);
    const have = inWords.reduce((s, i) => s + dur[i]!, 0);
    if (have > 0) for (const i of inWords) dur[i] = (dur[i]! * req.speechDurationMs) / have;
  }
  if (wantWords) {
    for (let w = 0; w < wordCount; w++) {
      const idx = labels.map((l, i) => (l.wordIndex === w ? i : -1)).filter((i) => i >= 0);
      const have = idx.reduce((s, i) => s + dur[i]!, 0);
      const want = Math.max(idx.length * 10, wantWords[w]!);
      if (have > 0) for (const i of idx) dur[i] = (dur[i]! * want) / have;
    }
  }
  // Pauses: a pause label belongs after the last word before it.
  let lastWord = -1;
  labels.forEach((l, i) => {
    if (l.wordIndex !== undefined) {
      lastWord = l.wordIndex;
      return;
    }
    const edge = i === 0 || i === labels.length - 1;
    const asked = lastWord >= 0 ? req.pausesAfterMs?.[lastWord] : undefined;
    dur[i] = edge ? EDGE_PAUSE_MS : asked !== undefined ? Math.max(10, asked) : dur[i]!;
  });
  // HTS works in 5 ms frames: round each boundary, never below one frame per state group.
  const lines: string[] = [];
  const words: Array<{ startMs: number; endMs: number }> = Array.from({ length: wordCount }, () => ({ startMs: Infinity, endMs: 0 }));
  let t = 0;
  labels.forEach((l, i) => {
    const d = Math.max(25, Math.round(dur[i]! / 5) * 5);
    lines.push(`${t * UNITS_PER_MS} ${(t + d) * UNITS_PER_MS} ${l.context}`);
    if (l.wordIndex !== undefined) {
      const w = words[l.wordIndex]!;
      w.startMs = Math.min(w.startMs, t);
      w.endMs = Math.max(w.endMs, t + d);
    }
    t += d;
  });
  return { lines, totalMs: t, words: words.map((w) => (w.startMs === Infinity ? { startMs: 0, endMs: 0 } : w)) };
}

/**
 * Silence where a pause was asked for but Festival put no pause label (it only pauses at phrase
 * breaks): the waveform is split at the word's end and zeros inserted; later word times shift.
 */
function insertPauses(samples: Float32Array, rateHz: number, words: Array<{ startMs: number; endMs: number }>, pausesMs: readonly number[]): Float32Array {
  const cuts: Array<{ at: number; n: number }> = [];
  for (let i = 0; i < words.length - 1; i++) {
    const gap = words[i + 1]!.startMs - words[i]!.endMs;
    const want = pausesMs[i] ?? 0;
    if (want > gap + 5) cuts.push({ at: Math.round((words[i]!.endMs / 1000) * rateHz), n: Math.round(((want - gap) / 1000) * rateHz) });
  }
  if (cuts.length === 0) return samples;
  const out = new Float32Array(samples.length + cuts.reduce((s, c) => s + c.n, 0));
  let src = 0;
  let dst = 0;
  for (const c of cuts) {
    out.set(samples.subarray(src, c.at), dst);
    dst += c.at - src + c.n;
    src = c.at;
  }
  out.set(samples.subarray(src), dst);
  let shift = 0;
  let k = 0;
  for (let i = 0; i < words.length; i++) {
    words[i]!.startMs += shift;
    words[i]!.endMs += shift;
    while (k < cuts.length && Math.round(((words[i]!.endMs - shift) / 1000) * rateHz) === cuts[k]!.at) {
      shift += (cuts[k]!.n / rateHz) * 1000;
      k++;
    }
  }
  return out;
}

/** The request's F0 contour resampled onto HTS's 5 ms frames (0 = keep the model's value). */
function f0PerFrame(req: TtsRequest, totalMs: number): Float32Array {
  const src = req.f0Hz!;
  const frameMs = req.f0FrameMs ?? 10;
  const frames = Math.ceil(totalMs / 5) + 1;
  const out = new Float32Array(frames);
  const normalized = req.f0TimeBase === 'normalized';
  for (let t = 0; t < frames; t++) {
    const pos = normalized ? ((t * 5) / totalMs) * (src.length - 1) : (t * 5) / frameMs;
    const i = Math.floor(pos);
    const a = src[i] ?? 0;
    const b = src[i + 1] ?? a;
    out[t] = a > 0 && b > 0 ? Math.exp(Math.log(a) + (pos - i) * (Math.log(b) - Math.log(a))) : a;
  }
  return out;
}
