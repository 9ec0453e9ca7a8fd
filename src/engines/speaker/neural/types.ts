/**
 * A neural speaker encoder: 16 kHz speech in, a fixed-length L2-normalized embedding out
 * (compare two with the dot product = cosine). See ../shared/STYLE.md "Engines".
 */
export interface SpeakerEncoder {
  /** Manifest model id, e.g. `wespeaker-resnet34`. */
  readonly id: string;
  /** Number of values in an embedding (e.g. 256). */
  readonly dimension: number;
  /**
   * Embeds 16 kHz mono speech: Int16Array samples, or Float32Array in [-1, 1].
   * Throws AudioError `empty` when the input is shorter than the encoder's minimum.
   */
  embed(pcm: Int16Array | Float32Array, signal?: AbortSignal): Promise<Float32Array>;
  /** Idempotent; embed() afterwards throws InvalidStateError. */
  close(): Promise<void>;
}
