/** How much prosody a phrase carries. */
export type ProsodyMode = 'minimal' | 'balanced' | 'high';
export const PROSODY_MODES: readonly ProsodyMode[] = Object.freeze(['minimal', 'balanced', 'high']);

/** One ASR word with times relative to the phrase start, ms. */
export interface ProsodyWord { word: string; startMs: number; endMs: number }

/** What the sender analysed for one phrase. F0 frames are relative to the phrase start. */
export interface PhraseAnalysis {
  words: readonly ProsodyWord[];
  /** F0 per frame (0 = unvoiced), frame i at i·f0FrameMs from the phrase start. */
  f0Hz: Float32Array;
  f0FrameMs: number;
}

/**
 * Quantized phrase prosody (integers only): exactly what the in-band coder carries. The text
 * (hence the word count and syllable counts) is known to both sides and not repeated here.
 */
export interface PhraseProsody {
  mode: ProsodyMode;
  /** Mean log-F0 of the phrase, semitones re 100 Hz, step {@link LEVEL_STEP_ST} (minimal: moves from the reference in steps of MODE_STEP_FACTOR). */
  levelQ: number;
  /** Speaking rate: log2(speech time / nominal) in 1/{@link RATE_STEPS_PER_OCTAVE} octave units (negative = faster); minimal mode moves in steps of MODE_STEP_FACTOR units from the reference. */
  rateQ: number;
  /** DCT coefficients 1..K of the level-removed semitone contour over normalized time, step DCT_STEP_ST·MODE_STEP_FACTOR[mode]. */
  dctQ: number[];
  /** Pause class after each word but the last (balanced/high): 0 none, 1 short, 2 medium, 3 long. */
  pauseQ: number[];
}

/** Word-level detail (high mode), sent in its own ProsodyPhrase frame; may be lost. */
export interface ProsodyDetail {
  /** Per word: log2(duration / duration predicted from the phrase rate), step 1/{@link WORD_DUR_STEPS_PER_OCTAVE} octave. */
  wordDurQ: number[];
  /** Per word: mean semitone residual against the phrase contour, step {@link WORD_F0_STEP_ST}. */
  wordF0Q: number[];
}

/** Coding state shared by sender and receiver; changes only through commit. */
export interface ProsodyCodingState {
  /** Predicted level (last committed phrase's levelQ). */
  refLevelQ: number;
  /** Predicted rate (last committed phrase's rateQ). */
  refRateQ: number;
  /** Mode of the last committed phrase (predicts the next one's). */
  lastMode: ProsodyMode;
}

export const LEVEL_STEP_ST = 1;
export const WORD_DUR_STEPS_PER_OCTAVE = 2;
export const WORD_F0_STEP_ST = 2;
export const RATE_STEPS_PER_OCTAVE = 8;
export const DCT_STEP_ST = 0.75;
/** Minimal mode quantizes level, slope and rate three times as coarsely (level/rate move from the reference in steps of this many units). */
export const MODE_STEP_FACTOR: Readonly<Record<ProsodyMode, number>> = Object.freeze({ minimal: 3, balanced: 1, high: 1 });
/** Milliseconds each pause class renders to. */
export const PAUSE_CLASS_MS: readonly number[] = Object.freeze([0, 120, 300, 650]);
/** Nominal syllable duration behind the rate factor, ms. */
export const NOMINAL_SYLLABLE_MS = 200;
/** DCT coefficients per mode. */
export const DCT_COEFFS: Readonly<Record<ProsodyMode, number>> = Object.freeze({ minimal: 1, balanced: 6, high: 4 });
/** Points of the normalized-time contour the DCT is taken over. */
export const CONTOUR_POINTS = 32;

/**
 * Starting state of a session; both sides must use the same arguments. `initialF0Hz` (default
 * 150) predicts the first phrase's level, `mode` (default balanced) the first phrase's mode: pass
 * the session's configured mode, or the first phrase pays ~6 bits for the switch.
 */
export function initialProsodyState(initialF0Hz = 150, mode: ProsodyMode = 'balanced'): ProsodyCodingState {
  return { refLevelQ: Math.round((12 * Math.log2(initialF0Hz / 100)) / LEVEL_STEP_ST), refRateQ: 0, lastMode: mode };
}
