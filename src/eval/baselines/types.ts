import type { MonoAudio } from '../../audio/pcm.ts';

/** A conventional codec run on the same audio as ours, for comparison. */
export interface BaselineResult {
  decoded: MonoAudio;
  /** Every bit the codec produced (payload only; no container). */
  bits: number;
  encodeMs: number;
  decodeMs: number;
}

export interface Baseline {
  readonly name: string;
  /** Throws EngineUnavailableError when the codec is not installed. */
  run(audio: MonoAudio): Promise<BaselineResult>;
}
