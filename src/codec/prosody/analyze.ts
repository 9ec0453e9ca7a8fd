import { EncodeError } from '../../core/errors.ts';
import { countSyllables, wordLengthWeight } from './syllables.ts';
import {
  CONTOUR_POINTS, DCT_COEFFS, DCT_STEP_ST, LEVEL_STEP_ST, MODE_STEP_FACTOR, WORD_DUR_STEPS_PER_OCTAVE, WORD_F0_STEP_ST, NOMINAL_SYLLABLE_MS, RATE_STEPS_PER_OCTAVE,
  type PhraseAnalysis, type PhraseProsody, type ProsodyCodingState, type ProsodyDetail, type ProsodyMode,
} from './types.ts';

/** Pause (ms) → class: < 60 none, < 200 short, < 450 medium, else long. */
export function pauseClass(pauseMs: number): number {
  return pauseMs < 60 ? 0 : pauseMs < 200 ? 1 : pauseMs < 450 ? 2 : 3;
}

/** Semitones re 100 Hz. */
export function hzToSt(f0Hz: number): number {
  return 12 * Math.log2(f0Hz / 100);
}

/** Contour value (semitones re 100 Hz) at normalized time u ∈ [0,1] from level + DCT amplitudes. */
export function contourAt(levelSt: number, dctSt: readonly number[], u: number): number {
  let v = levelSt;
  for (let k = 1; k <= dctSt.length; k++) v += dctSt[k - 1]! * Math.cos(Math.PI * k * u);
  return v;
}

/** Nominal speech time of the words (syllables × nominal syllable duration), ms. */
export function nominalSpeechMs(words: readonly string[]): number {
  let s = 0;
  for (const w of words) s += countSyllables(w);
  return Math.max(1, s) * NOMINAL_SYLLABLE_MS;
}

/** Speech time (span minus coded pauses) implied by a quantized rate, ms. */
export function speechMsFromRate(words: readonly string[], rateQ: number): number {
  return nominalSpeechMs(words) * 2 ** (rateQ / RATE_STEPS_PER_OCTAVE);
}

/**
 * Quantizes one analysed phrase: level and rate always, `DCT_COEFFS[mode]` contour coefficients,
 * pause classes (balanced/high) and, in high mode, word-level detail. Pure; `state` only supplies
 * the level used when the phrase has too few voiced frames.
 */
export function quantizePhraseProsody(a: PhraseAnalysis, mode: ProsodyMode, state: ProsodyCodingState): { prosody: PhraseProsody; detail?: ProsodyDetail } {
  if (!(a.f0FrameMs > 0)) throw new EncodeError('invalid_value', `prosody: f0FrameMs ${a.f0FrameMs} must be > 0`);
  const words = a.words;
  const texts = words.map((w) => w.word);
  const spanStart = words.length ? words[0]!.startMs : 0;
  const spanEnd = words.length ? Math.max(spanStart + 1, words[words.length - 1]!.endMs) : a.f0Hz.length * a.f0FrameMs;
  const pausesMs: number[] = [];
  for (let i = 0; i + 1 < words.length; i++) pausesMs.push(Math.max(0, words[i + 1]!.startMs - words[i]!.endMs));
  const pauseQ = mode === 'minimal' ? [] : pausesMs.map(pauseClass);
  const pauseTotal = pausesMs.reduce((s, p) => s + p, 0);
  const speechMs = Math.max(1, spanEnd - spanStart - pauseTotal);
  const step = MODE_STEP_FACTOR[mode];
  const rawRate = Math.log2(speechMs / nominalSpeechMs(texts)) * RATE_STEPS_PER_OCTAVE;
  const rateQ = state.refRateQ + step * Math.round((rawRate - state.refRateQ) / step) + 0;

  const contour = resampledContour(a, spanStart, spanEnd);
  let levelQ = state.refLevelQ;
  const dctQ = new Array<number>(DCT_COEFFS[mode]).fill(0);
  if (contour) {
    const mean = contour.reduce((s, v) => s + v, 0) / contour.length;
    levelQ = state.refLevelQ + step * Math.round((mean / LEVEL_STEP_ST - state.refLevelQ) / step) + 0;
    const m = contour.length;
    for (let k = 1; k <= dctQ.length; k++) {
      let s = 0;
      for (let n = 0; n < m; n++) s += (contour[n]! - mean) * Math.cos((Math.PI * k * (n + 0.5)) / m);
      dctQ[k - 1] = Math.round((2 * s) / m / (DCT_STEP_ST * step)) + 0; // + 0 turns −0 into 0
    }
  }
  const prosody: PhraseProsody = { mode, levelQ, rateQ, dctQ, pauseQ };
  if (mode !== 'high') return { prosody };

  // Word detail is predicted from the decoded (quantized) phrase values, exactly as the receiver will.
  const speechQ = speechMsFromRate(texts, rateQ);
  const weightTotal = texts.reduce((s, w) => s + wordLengthWeight(w), 0);
  const dctSt = dctQ.map((q) => q * DCT_STEP_ST);
  const wordDurQ: number[] = [];
  const wordF0Q: number[] = [];
  for (const w of words) {
    const predicted = (speechQ * wordLengthWeight(w.word)) / weightTotal;
    wordDurQ.push(Math.round(WORD_DUR_STEPS_PER_OCTAVE * Math.log2(Math.max(20, w.endMs - w.startMs) / predicted)) + 0);
    let sum = 0, n = 0;
    const f0 = Math.max(0, Math.floor(w.startMs / a.f0FrameMs));
    const f1 = Math.min(a.f0Hz.length, Math.ceil(w.endMs / a.f0FrameMs));
    for (let f = f0; f < f1; f++) {
      const hz = a.f0Hz[f]!;
      if (!(hz > 0)) continue;
      const u = (f * a.f0FrameMs - spanStart) / (spanEnd - spanStart);
      sum += hzToSt(hz) - contourAt(levelQ * LEVEL_STEP_ST, dctSt, Math.max(0, Math.min(1, u)));
      n++;
    }
    wordF0Q.push(n >= 3 ? Math.round(sum / n / WORD_F0_STEP_ST) + 0 : 0);
  }
  return { prosody, detail: { wordDurQ, wordF0Q } };
}

/**
 * The phrase's semitone contour on CONTOUR_POINTS points over [spanStart, spanEnd]: voiced frames,
 * linear interpolation across unvoiced gaps, ends held. Undefined when < 5 voiced frames.
 */
export function resampledContour(a: PhraseAnalysis, spanStartMs: number, spanEndMs: number): number[] | undefined {
  const f0 = Math.max(0, Math.floor(spanStartMs / a.f0FrameMs));
  const f1 = Math.min(a.f0Hz.length, Math.ceil(spanEndMs / a.f0FrameMs));
  const times: number[] = [];
  const vals: number[] = [];
  for (let f = f0; f < f1; f++) {
    const hz = a.f0Hz[f]!;
    if (hz > 0) { times.push(f * a.f0FrameMs); vals.push(hzToSt(hz)); }
  }
  if (vals.length < 5) return undefined;
  const out: number[] = [];
  let j = 0;
  for (let n = 0; n < CONTOUR_POINTS; n++) {
    const t = spanStartMs + ((n + 0.5) / CONTOUR_POINTS) * (spanEndMs - spanStartMs);
    while (j + 1 < times.length && times[j + 1]! <= t) j++;
    if (t <= times[0]!) out.push(vals[0]!);
    else if (j + 1 >= times.length) out.push(vals[vals.length - 1]!);
    else {
      const w = (t - times[j]!) / (times[j + 1]! - times[j]!);
      out.push(vals[j]! + w * (vals[j + 1]! - vals[j]!));
    }
  }
  return out;
}
