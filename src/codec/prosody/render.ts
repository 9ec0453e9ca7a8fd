import { contourAt, speechMsFromRate } from './analyze.ts';
import { wordLengthWeight } from './syllables.ts';
import { DCT_STEP_ST, LEVEL_STEP_ST, MODE_STEP_FACTOR, PAUSE_CLASS_MS, WORD_DUR_STEPS_PER_OCTAVE, WORD_F0_STEP_ST, type PhraseProsody, type ProsodyDetail } from './types.ts';

/** What the TTS gets for one phrase (see TtsRequest in src/engines/tts/types.ts). */
export interface RenderedProsody {
  /** Speaking-rate factor for the TTS (1 = nominal, 1.2 = 20 % faster). */
  rate: number;
  /** First word start to last word end, ms (pauses included). */
  spanMs: number;
  /** Per-word durations (balanced/high), ms. */
  wordDurationsMs?: number[];
  /** Silence after each word (balanced/high), ms; last is 0. */
  pausesAfterMs?: number[];
  /** Smooth, everywhere-voiced target contour over the phrase, Hz. */
  f0Hz: Float32Array;
  f0FrameMs: number;
  f0TimeBase: 'normalized';
}

/** Options of {@link renderProsody}. */
export interface RenderProsodyOptions {
  /** Word-level detail when its ProsodyPhrase frame arrived. */
  detail?: ProsodyDetail;
  /** Contour frame period, ms. Default 10. */
  f0FrameMs: number;
}

const SMOOTH_FRAMES = 7;

/**
 * Turns decoded phrase prosody into TTS targets. `words` is the decoded text's word list (or just
 * a count, then every word counts as one syllable). Without detail the word timing is spread by
 * letter counts ({@link wordLengthWeight}) and the contour is the level + DCT curve; with detail, word durations and per-word F0
 * offsets (smoothed over ±35 ms so the contour stays continuous) are added.
 */
export function renderProsody(p: PhraseProsody, words: readonly string[] | number, options: Partial<RenderProsodyOptions> = {}): RenderedProsody {
  const frameMs = options.f0FrameMs ?? 10;
  const list = typeof words === 'number' ? new Array<string>(words).fill('a') : words;
  const speechMs = speechMsFromRate(list, p.rateQ);
  const pausesAfterMs = list.map((_, i) => (i < p.pauseQ.length ? PAUSE_CLASS_MS[p.pauseQ[i]!] ?? 0 : 0));
  const weights = list.map(wordLengthWeight);
  const weightTotal = weights.reduce((s, v) => s + v, 0);
  let wordDurationsMs = weights.map((w) => (speechMs * w) / weightTotal);
  const detail = options.detail && options.detail.wordDurQ.length === list.length ? options.detail : undefined;
  if (detail) wordDurationsMs = wordDurationsMs.map((d, i) => d * 2 ** (detail.wordDurQ[i]! / WORD_DUR_STEPS_PER_OCTAVE));
  const spanMs = wordDurationsMs.reduce((s, v) => s + v, 0) + pausesAfterMs.reduce((s, v) => s + v, 0);
  const n = Math.max(1, Math.round(spanMs / frameMs));
  const level = p.levelQ * LEVEL_STEP_ST;
  const dct = p.dctQ.map((q) => q * DCT_STEP_ST * MODE_STEP_FACTOR[p.mode]);
  const st = new Float64Array(n);
  for (let i = 0; i < n; i++) st[i] = contourAt(level, dct, (i + 0.5) / n);
  if (detail) {
    const offs = new Float64Array(n);
    let t = 0;
    list.forEach((_, w) => {
      const a = Math.floor(t / frameMs);
      t += wordDurationsMs[w]!;
      const b = Math.min(n, Math.ceil(t / frameMs));
      for (let i = Math.max(0, a); i < b; i++) offs[i] = detail.wordF0Q[w]! * WORD_F0_STEP_ST;
      t += pausesAfterMs[w]!;
    });
    for (let i = 0; i < n; i++) {
      let s = 0, c = 0;
      for (let k = -(SMOOTH_FRAMES >> 1); k <= SMOOTH_FRAMES >> 1; k++) if (i + k >= 0 && i + k < n) { s += offs[i + k]!; c++; }
      st[i] += s / c;
    }
  }
  const f0Hz = new Float32Array(n);
  for (let i = 0; i < n; i++) f0Hz[i] = Math.min(1000, Math.max(40, 100 * 2 ** (st[i]! / 12)));
  const out: RenderedProsody = { rate: 2 ** (-p.rateQ / 8), spanMs, f0Hz, f0FrameMs: frameMs, f0TimeBase: 'normalized' };
  if (p.mode !== 'minimal') {
    out.wordDurationsMs = wordDurationsMs;
    out.pausesAfterMs = pausesAfterMs;
  }
  return out;
}
