import { DecodeError } from '../../core/errors.ts';
import { AdaptiveFrequencyModel, RangeDecoder, RangeEncoder } from '../range/index.ts';
import { TextCodingSession, type TextModel } from '../text/index.ts';
import type { PhraseCodec } from './phrase-codec.ts';
import { decodePhraseGap, encodePhraseGap } from './phrase-time.ts';

/**
 * Phrase prosody coded in-band, right after the text in the same range-coded bytes (one coder
 * termination for both). Implementations keep their predictive state internally; both sides call
 * encode/decode for the same phrases in the same order.
 */
export interface InbandProsodyCoder<P> {
  encode(prosody: P, enc: RangeEncoder, text: string): void;
  decode(dec: RangeDecoder, text: string): P;
  /** The current speaker changed to `profile` (same stream point on both sides). */
  speakerChanged?(profile: Uint8Array): void;
  /** Spoken duration the phrase's prosody implies (or a text-only estimate without prosody), ms. */
  durationMs?(prosody: P | undefined, text: string): number;
}

/** Text-only duration estimate when no prosody coder is present: 300 ms per word. */
const MS_PER_WORD = 300;

/**
 * Text by the language-model coder, then (when present) the phrase prosody, then the phrase's start
 * (gap to its predicted start, ./phrase-time.ts), in one range-coded string.
 */
export class LmPhraseCodec<P> implements PhraseCodec<P> {
  readonly coding = 'lm' as const;
  readonly inbandTime = true;
  readonly textModelId: string;
  readonly textModelHash: number;
  private readonly text: TextCodingSession;
  // Whether a phrase carries prosody: adaptive, so a session that always does pays ~0.05 bit/phrase.
  private readonly hasProsody = new AdaptiveFrequencyModel(2, { increment: 24, limit: 1 << 10 });

  constructor(
    model: TextModel,
    private readonly prosody: InbandProsodyCoder<P> | undefined,
  ) {
    this.textModelId = model.id;
    this.textModelHash = model.hash;
    this.text = new TextCodingSession(model);
  }

  get committedSegments(): number {
    return this.text.contextId;
  }

  encode(text: string, prosody: P | undefined, gapUnits = 0): { coded: Uint8Array; bitsByChannel: Record<string, number> } {
    const enc = new RangeEncoder();
    enc.channel = 'text';
    this.text.encode(text, enc);
    if (this.prosody) {
      enc.channel = 'prosody';
      this.hasProsody.encode(enc, prosody === undefined ? 0 : 1);
      if (prosody !== undefined) this.prosody.encode(prosody, enc, text);
    }
    enc.channel = 'time';
    encodePhraseGap(enc, gapUnits);
    const coded = enc.finish();
    return { coded, bitsByChannel: Object.fromEntries(enc.infoBits) };
  }

  decode(coded: Uint8Array): { text: string; prosody: P | undefined; gapUnits: number; bitsByChannel: Record<string, number> } {
    const dec = new RangeDecoder(coded);
    dec.channel = 'text';
    const text = this.text.decode(dec);
    let prosody: P | undefined;
    if (this.prosody) {
      dec.channel = 'prosody';
      if (this.hasProsody.decode(dec) === 1) prosody = this.prosody.decode(dec, text);
    }
    dec.channel = 'time';
    const gapUnits = decodePhraseGap(dec);
    dec.finish();
    return { text, prosody, gapUnits, bitsByChannel: Object.fromEntries(dec.infoBits) };
  }

  expectedDurationMs(text: string, prosody: P | undefined): number {
    return this.prosody?.durationMs?.(prosody, text) ?? MS_PER_WORD * text.split(/\s+/).filter(Boolean).length;
  }

  commit(text: string): void {
    this.text.commit(text);
  }

  speakerChanged(profile: Uint8Array): void {
    this.prosody?.speakerChanged?.(profile);
  }
}

/** Refuses a session whose text model differs from ours (garbage would follow otherwise). */
export function checkTextModel(model: TextModel, id: string, hash: number): void {
  if (model.id !== id || model.hash !== hash) {
    throw new DecodeError(
      'model_mismatch',
      `the stream was coded with text model ${id} (hash ${hash.toString(16).padStart(8, '0')}), this receiver has ${model.id} (${model.hash.toString(16).padStart(8, '0')}); install the same stcts version on both ends`,
      { streamModel: id, streamHash: hash, localModel: model.id, localHash: model.hash },
    );
  }
}
