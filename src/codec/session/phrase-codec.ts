import { DecodeError } from '../../core/errors.ts';

/**
 * How one phrase's text (and the phrase prosody that rides in the same coded bytes) becomes the
 * `coded` bytes of a TextSegment. Implementations: {@link Utf8PhraseCodec} (plain text, no model)
 * and the language-model codec in ./lm-phrase-codec.ts.
 */
export interface PhraseCodec<P = unknown> {
  readonly coding: 'lm' | 'utf8';
  readonly textModelId: string;
  /** uint32 hash of the model; 0 for UTF-8. */
  readonly textModelHash: number;
  /** Number of segments committed as context so far. */
  readonly committedSegments: number;
  /**
   * True when the phrase start travels inside the coded bytes (then encode() needs `gapUnits`, decode()
   * returns it, and the TextSegment's envelope time stays implied). See ./phrase-time.ts.
   */
  readonly inbandTime?: boolean;
  encode(text: string, prosody: P | undefined, gapUnits?: number): { coded: Uint8Array; bitsByChannel: Record<string, number> };
  /** Decodes a TextSegment's bytes; `bitsByChannel` is the information content per channel (for reports). */
  decode(coded: Uint8Array): { text: string; prosody: P | undefined; gapUnits?: number; bitsByChannel?: Record<string, number> };
  /** How long the phrase is expected to last when spoken, ms (predicts the next phrase's start). */
  expectedDurationMs?(text: string, prosody: P | undefined): number;
  /** Adds a delivered segment to the shared context (both sides, same order). */
  commit(text: string): void;
  /**
   * The session's current speaker is now `profile` (a SpeakerProfile or a SpeakerRef, called at the
   * same point of the stream by encoder and decoder): lets predictive coders re-anchor.
   */
  speakerChanged?(profile: Uint8Array): void;
}

const MAX_UTF8_BYTES = 8192;

/** Plain UTF-8 text, no prosody: readable on the wire, no model needed, ~4× the LM bitrate. */
export class Utf8PhraseCodec implements PhraseCodec<never> {
  readonly coding = 'utf8' as const;
  readonly textModelId = 'utf8';
  readonly textModelHash = 0;
  committedSegments = 0;

  encode(text: string): { coded: Uint8Array; bitsByChannel: Record<string, number> } {
    const coded = new TextEncoder().encode(text);
    return { coded, bitsByChannel: { text: coded.length * 8 } };
  }

  decode(coded: Uint8Array): { text: string; prosody: undefined; bitsByChannel: Record<string, number> } {
    if (coded.length > MAX_UTF8_BYTES) throw new DecodeError('too_large', `UTF-8 segment of ${coded.length} bytes (max ${MAX_UTF8_BYTES})`);
    return { text: new TextDecoder('utf-8', { fatal: false }).decode(coded), prosody: undefined, bitsByChannel: { text: coded.length * 8 } };
  }

  commit(): void {
    this.committedSegments++;
  }
}
