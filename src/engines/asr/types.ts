import type { Pcm16k } from '../../audio/pcm.ts';
import type { SpeechSegment } from '../../audio/vad.ts';

/** One recognized word with times relative to the start of the audio stream. */
export interface AsrWord {
  word: string;
  startMs: number;
  endMs: number;
  /** Posterior probability in [0, 1]. */
  confidence: number;
}

/** A final hypothesis for one utterance (speech between pauses). */
export interface AsrResult {
  text: string;
  startMs: number;
  endMs: number;
  words: AsrWord[];
  /** Alternative transcripts, best first (may be empty). */
  nbest?: string[];
}

/** Optional notifications from {@link AsrEngine.transcribe}. */
export interface AsrHooks {
  /**
   * The engine started recognizing a phrase its VAD has not confirmed yet (stream times). If no
   * speech follows, a result for exactly this phrase comes next: a caller can start its own
   * per-phrase work on that audio now, overlapping the recognition (latency, issue #7).
   */
  onTentative?(seg: SpeechSegment): void;
}

/** Speech recognizer. See ../shared/STYLE.md "Engines". */
export interface AsrEngine {
  readonly id: string;
  /** Consumes 16 kHz PCM chunks; yields one result per utterance the engine finds. */
  transcribe(pcm: AsyncIterable<Pcm16k>, signal?: AbortSignal, hooks?: AsrHooks): AsyncIterable<AsrResult>;
  close(): Promise<void>;
}
