import type { MonoAudio } from '../../audio/pcm.ts';

/** Timbre controls derived from a speaker profile. All optional; absent = voice default. */
export interface TimbreControls {
  /** All-pass (frequency-warping) constant; the voice's own value when absent. */
  allpassAlpha?: number;
  /** Postfilter coefficient (HTS beta). */
  postfilterBeta?: number;
  /** Spectral tilt correction in dB per octave applied after synthesis. */
  tiltDbPerOctave?: number;
}

/** What to say and how. Times are milliseconds; F0 in Hz. */
export interface TtsRequest {
  text: string;
  /** Voice id of the engine (engine default when absent). */
  voice?: string;
  /** Speaking-rate factor: 1 = voice default, 1.2 = 20% faster. Ignored when word durations are given. */
  rate?: number;
  /** Total duration of the words (pauses excluded), ms: the voice's own relative timing, scaled. Ignored when word durations are given. */
  speechDurationMs?: number;
  /** Target duration of each word of `text` (split on whitespace), ms. Pauses go in `pausesAfterMs`. */
  wordDurationsMs?: number[];
  /** Silence after each word, ms (same length as the word list; 0 = none). */
  pausesAfterMs?: number[];
  /**
   * Target F0 contour, one value per `f0FrameMs` (0 = no target for that frame).
   * With `f0TimeBase` `normalized` the contour spans the whole utterance whatever its realized
   * length; with `absolute` frame i is at i*f0FrameMs from the start of the output.
   */
  f0Hz?: Float32Array;
  f0FrameMs?: number;
  f0TimeBase?: 'absolute' | 'normalized';
  /** Global F0 mapping when no contour is given: target median and range (semitones, 5th–95th pct). */
  f0MedianHz?: number;
  f0RangeSemitones?: number;
  timbre?: TimbreControls;
}

/** Synthesized audio plus the realized timing of each word. */
export interface TtsResult extends MonoAudio {
  words: Array<{ word: string; startMs: number; endMs: number }>;
}

export interface TtsVoice {
  id: string;
  sex: 'F' | 'M';
  /** Typical median F0 of the voice, Hz. */
  medianF0Hz: number;
}

/** Speech synthesizer with explicit prosody control. See ../shared/STYLE.md "Engines". */
export interface TtsEngine {
  readonly id: string;
  readonly voices: readonly TtsVoice[];
  synthesize(request: TtsRequest, signal?: AbortSignal): Promise<TtsResult>;
  close(): Promise<void>;
}
