import { DecodeError, EncodeError } from '../../core/errors.ts';
import { AdaptiveFrequencyModel, RangeDecoder, RangeEncoder } from '../range/index.ts';
import {
  CASE_MIXED, CASE_MODES, CASE_UPPER, PAT_OTHER, PATTERNS, applyPattern, foldAscii, letterFlags, segmentCaseMode, tokenPattern, upperAscii,
} from './case-model.ts';
import type { TextModel } from './model.ts';
import { decodeSpelling, encodeSpelling } from './spelling.ts';
import { MAX_SESSION_OOV_WORDS, RARE_WORD_FREQ, SPELL, WordCoder, newWordCache, touchCache, type WordCache } from './word-coder.ts';

/** Limits of one segment; the decoder enforces the same ones, so garbage cannot grow without bound. */
export interface TextCodingOptions {
  /** Maximum space-separated tokens per segment. Default 2048. */
  maxTokens: number;
  /** Maximum UTF-16 code units per segment. Default 32768. */
  maxChars: number;
  /** Maximum coded bytes accepted by {@link decodeTextSegment}. Default 65536. */
  maxCodedBytes: number;
}

export const DEFAULT_TEXT_CODING_OPTIONS: Readonly<TextCodingOptions> = Object.freeze({
  maxTokens: 2048,
  maxChars: 32_768,
  maxCodedBytes: 65_536,
});

const caseModeModel = (): AdaptiveFrequencyModel => new AdaptiveFrequencyModel(CASE_MODES, { increment: 32, limit: 1 << 12, initial: [6, 1, 1] });
const patternModel = (): AdaptiveFrequencyModel => new AdaptiveFrequencyModel(PATTERNS, { increment: 24, limit: 1 << 12, initial: [4, 3, 1, 1] });
const letterModel = (): AdaptiveFrequencyModel => new AdaptiveFrequencyModel(2, { increment: 16, limit: 1 << 10, initial: [3, 1] });

/**
 * One side (sender or receiver) of a session's text channel. Coding reads only committed state;
 * {@link commit} adds a delivered segment to the context. Both sides must commit the same texts in
 * the same order — {@link contextId} lets frames carry how many were committed.
 */
export class TextCodingSession {
  readonly options: Readonly<TextCodingOptions>;
  private committed = 0;
  private readonly cache: WordCache = newWordCache();
  private readonly caseModes = caseModeModel();
  private readonly patterns = patternModel();
  private readonly letters = letterModel();
  private readonly coder: WordCoder;

  constructor(readonly model: TextModel, options: Partial<TextCodingOptions> = {}) {
    this.options = Object.freeze({ ...DEFAULT_TEXT_CODING_OPTIONS, ...options });
    this.coder = new WordCoder(model);
  }

  /** Number of committed segments: identifies the context both sides must share. */
  get contextId(): number {
    return this.committed;
  }

  private tokens(text: string): string[] {
    if (text.length > this.options.maxChars) {
      throw new EncodeError('too_large', `text segment of ${text.length} characters exceeds ${this.options.maxChars}; split it`);
    }
    const tokens = text === '' ? [] : text.split(' ');
    if (tokens.length > this.options.maxTokens) {
      throw new EncodeError('too_large', `text segment of ${tokens.length} tokens exceeds ${this.options.maxTokens}; split it`);
    }
    return tokens;
  }

  private lookup(folded: string): number {
    const id = this.model.wordId(folded);
    if (id >= 0) return id;
    const k = this.cache.oovIds.get(folded);
    return k === undefined ? SPELL : this.model.vocabSize + k;
  }

  /** Codes one segment into `enc` (any string; lossless). Does not change the session state. */
  encode(text: string, enc: RangeEncoder): void {
    const tokens = this.tokens(text);
    const mode = segmentCaseMode(text);
    this.caseModes.clone().encode(enc, mode);
    const patterns = this.patterns.clone();
    const letters = this.letters.clone();
    const V = this.model.vocabSize;
    let h2 = -1;
    let h1 = this.model.data.startId;
    for (const token of tokens) {
      const folded = foldAscii(token);
      const id = this.lookup(folded);
      this.coder.encode(enc, h2, h1, id, this.cache);
      if (id === SPELL) encodeSpelling(enc, this.model, folded);
      if (mode === CASE_MIXED) {
        const p = tokenPattern(token);
        patterns.encode(enc, p);
        if (p === PAT_OTHER) for (const up of letterFlags(token)) letters.encode(enc, up ? 1 : 0);
      }
      [h2, h1] = id > 0 && id < V ? [h1, id] : [-1, -1];
    }
    this.coder.encode(enc, h2, h1, 0, this.cache);
  }

  /** Decodes one segment written by {@link encode} on a session with the same context. */
  decode(dec: RangeDecoder): string {
    const caseModes = this.caseModes.clone();
    const mode = caseModes.decode(dec);
    const patterns = this.patterns.clone();
    const letters = this.letters.clone();
    const V = this.model.vocabSize;
    const { maxTokens, maxChars } = this.options;
    const out: string[] = [];
    let chars = -1;
    let h2 = -1;
    let h1 = this.model.data.startId;
    for (;;) {
      const id = this.coder.decode(dec, h2, h1, this.cache);
      if (id === 0) break;
      if (out.length >= maxTokens) throw new DecodeError('too_large', `text segment has more than ${maxTokens} tokens`);
      let folded: string;
      if (id === SPELL) {
        folded = decodeSpelling(dec, this.model, Math.max(0, maxChars - chars - 1));
        this.checkSpelled(folded);
      } else if (id >= V) {
        folded = this.cache.oovWords[id - V] as string;
      } else {
        folded = this.model.data.vocab[id] as string;
      }
      let token: string;
      if (mode === CASE_MIXED) {
        const p = patterns.decode(dec);
        token = applyPattern(folded, p, () => letters.decode(dec) === 1);
      } else {
        token = mode === CASE_UPPER ? upperAscii(folded) : folded;
      }
      chars += token.length + 1;
      if (chars > maxChars) throw new DecodeError('too_large', `text segment longer than ${maxChars} characters`);
      out.push(token);
      [h2, h1] = id > 0 && id < V ? [h1, id] : [-1, -1];
    }
    return out.join(' ');
  }

  /** An encoder spells only words it cannot code otherwise, and only with the escape where needed. */
  private checkSpelled(folded: string): void {
    if (this.lookup(folded) !== SPELL) throw new DecodeError('malformed', 'text: spelled word that the model codes directly (corrupt data)');
    for (let i = 0; i < folded.length; i++) {
      const c = folded.charCodeAt(i);
      if (c === 32 || (c >= 65 && c <= 90)) throw new DecodeError('malformed', 'text: impossible character in spelled word (corrupt data)');
    }
  }

  /** Adds a delivered segment to the shared context (call on both sides, in the same order). */
  commit(text: string): void {
    const tokens = this.tokens(text);
    const mode = segmentCaseMode(text);
    this.caseModes.update(mode);
    const V = this.model.vocabSize;
    for (const token of tokens) {
      const folded = foldAscii(token);
      if (mode === CASE_MIXED) {
        const p = tokenPattern(token);
        this.patterns.update(p);
        if (p === PAT_OTHER) for (const up of letterFlags(token)) this.letters.update(up ? 1 : 0);
      }
      const id = this.lookup(folded);
      if (id >= V) touchCache(this.cache, id);
      else if (id > 0) {
        if ((this.model.data.uniFreq[id] as number) < RARE_WORD_FREQ) touchCache(this.cache, id);
      } else if (this.cache.oovWords.length < MAX_SESSION_OOV_WORDS) {
        this.cache.oovIds.set(folded, this.cache.oovWords.length);
        this.cache.oovWords.push(folded);
        touchCache(this.cache, V + this.cache.oovWords.length - 1);
      }
    }
    this.committed++;
  }
}

/** Codes one segment on its own byte string (channel 'text'). Does not commit. */
export function encodeTextSegment(session: TextCodingSession, text: string): Uint8Array {
  const enc = new RangeEncoder();
  enc.channel = 'text';
  session.encode(text, enc);
  return enc.finish();
}

/** Decodes a byte string made by {@link encodeTextSegment}; checks the stream ends exactly. Does not commit. */
export function decodeTextSegment(session: TextCodingSession, bytes: Uint8Array): string {
  if (bytes.length > session.options.maxCodedBytes) throw new DecodeError('too_large', `coded text of ${bytes.length} bytes exceeds ${session.options.maxCodedBytes}`);
  const dec = new RangeDecoder(bytes);
  const text = session.decode(dec);
  dec.finish();
  return text;
}
