import type { WhisperTokenizer } from './tokenizer.ts';

/** Options of {@link greedyDecode}. */
export interface WhisperDecodeOptions {
  /** Most tokens sampled per 30 s window (Whisper's sample_len = n_text_ctx / 2). Default 224. */
  maxTokens: number;
  /** Latest first timestamp, seconds (Whisper's max_initial_timestamp). Default 1.0. */
  maxInitialTimestampS: number;
}

export const DEFAULT_WHISPER_DECODE_OPTIONS: Readonly<WhisperDecodeOptions> = Object.freeze({ maxTokens: 224, maxInitialTimestampS: 1.0 });

/** A sampled token with its probability under the (rule-filtered) distribution. */
export interface DecodedToken {
  id: number;
  prob: number;
}

/** Logits of the last position for a token prefix (prompt + tokens so far). */
export type NextTokenLogits = (ids: readonly number[]) => Promise<Float32Array>;

/**
 * Whisper's logit filters for timestamped greedy decoding (openai/whisper decoding.py:
 * SuppressBlank, SuppressTokens, ApplyTimestampRules), in place.
 * - all control tokens except <|endoftext|> (sot, languages, tasks, <|notimestamps|>, ids past the
 *   timestamps) are suppressed, a superset of Whisper's default special-token suppression;
 * - at the first step: no blank (`Ġ`) and no end, only a timestamp ≤ `maxInitialTimestampS`;
 * - timestamps come in pairs: after a lone timestamp that closes text, only a timestamp or the end;
 *   after a pair, only text or the end;
 * - timestamps never decrease, and a segment has non-zero length;
 * - when the timestamps together are likelier than any single text token, a timestamp is forced.
 */
export function applyWhisperRules(logits: Float32Array, sampled: readonly number[], tok: WhisperTokenizer, o: WhisperDecodeOptions): void {
  const s = tok.special;
  const tsBegin = s.timestampBegin;
  const tsEnd = Math.min(logits.length, tsBegin + 1501);
  const ban = (from: number, to: number) => logits.fill(-Infinity, Math.max(0, from), Math.min(logits.length, to));
  ban(s.endOfText + 1, tsBegin);
  ban(tsEnd, logits.length);
  if (sampled.length === 0) {
    const blank = tok.idOf('Ġ');
    if (blank !== undefined) logits[blank] = -Infinity;
    logits[s.endOfText] = -Infinity;
    ban(0, tsBegin);
    ban(tsBegin + Math.round(o.maxInitialTimestampS / 0.02) + 1, tsEnd);
  } else {
    const lastTs = tok.isTimestamp(sampled.at(-1)!);
    const penultimateTs = sampled.length < 2 || tok.isTimestamp(sampled.at(-2)!);
    if (lastTs) {
      if (penultimateTs) ban(tsBegin, tsEnd);
      else ban(0, s.endOfText);
    }
    let lastTimestamp = -1;
    for (const id of sampled) if (tok.isTimestamp(id)) lastTimestamp = id;
    if (lastTimestamp >= 0) ban(tsBegin, lastTs && !penultimateTs ? lastTimestamp : lastTimestamp + 1);
  }
  // Probability mass of all timestamps against the best text token (log-sum-exp, stable).
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  if (max === -Infinity) return;
  let tsMass = 0;
  for (let i = tsBegin; i < tsEnd; i++) tsMass += Math.exp(logits[i]! - max);
  let bestText = -Infinity;
  for (let i = 0; i < tsBegin; i++) if (logits[i]! > bestText) bestText = logits[i]!;
  if (tsMass > 0 && Math.log(tsMass) + max > bestText) ban(0, tsBegin);
}

/**
 * Greedy (argmax) decoding with timestamps. Returns the sampled tokens after the prompt, without
 * <|endoftext|>; stops at <|endoftext|> or after `maxTokens`. Probabilities are softmax values of
 * the filtered logits (as Whisper's sum_logprobs).
 */
export async function greedyDecode(next: NextTokenLogits, tok: WhisperTokenizer, prompt: readonly number[], options: Partial<WhisperDecodeOptions> = {}, signal?: AbortSignal): Promise<DecodedToken[]> {
  const o = { ...DEFAULT_WHISPER_DECODE_OPTIONS, ...options };
  const ids = [...prompt];
  const out: DecodedToken[] = [];
  while (out.length < o.maxTokens) {
    signal?.throwIfAborted();
    const logits = Float32Array.from(await next(ids));
    applyWhisperRules(logits, ids.slice(prompt.length), tok, o);
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
    let sum = 0;
    for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - logits[best]!);
    if (best === tok.special.endOfText || logits[best] === -Infinity) break;
    out.push({ id: best, prob: 1 / sum });
    ids.push(best);
  }
  return out;
}

/** A timed stretch of text inside one window, seconds from the window start. */
export interface WhisperSegment {
  startS: number;
  endS: number;
  /** Text tokens of the segment (no timestamps). */
  tokens: DecodedToken[];
}

/**
 * Splits timestamped tokens into segments (`<|a|> text <|b|>`). `resumeS` is where the next window
 * should start: the end of the last complete segment when the output stopped inside a segment,
 * else `undefined` (the whole window was used), as openai/whisper's seek logic. A trailing segment
 * without its closing timestamp is dropped when a complete one precedes it (the next window
 * decodes it again), and otherwise ends at `windowS`. Times are clamped to `windowS` (the audio in
 * the window, seconds) and empty segments dropped.
 */
export function splitSegments(tokens: readonly DecodedToken[], tok: WhisperTokenizer, windowS: number): { segments: WhisperSegment[]; resumeS: number | undefined } {
  const segments: WhisperSegment[] = [];
  let start: number | undefined;
  let text: DecodedToken[] = [];
  for (const t of tokens) {
    if (tok.isTimestamp(t.id)) {
      const s = tok.timestampSeconds(t.id);
      if (start !== undefined && text.length > 0) {
        segments.push({ startS: start, endS: Math.max(start, s), tokens: text });
        start = undefined;
        text = [];
      } else start = s;
    } else {
      text.push(t);
      start ??= segments.at(-1)?.endS ?? 0;
    }
  }
  const clamp = (x: number) => Math.min(Math.max(0, x), windowS);
  // Segments past the audio in this window (hallucinated on padding) are dropped.
  const clamped = (list: WhisperSegment[]) => list.map((g) => ({ ...g, startS: clamp(g.startS), endS: clamp(g.endS) })).filter((g) => g.endS > g.startS);
  if (text.length === 0) return { segments: clamped(segments), resumeS: undefined };
  if (segments.length > 0) return { segments: clamped(segments), resumeS: segments.at(-1)!.endS > 0 ? clamp(segments.at(-1)!.endS) : undefined };
  return { segments: clamped([{ startS: start ?? 0, endS: windowS, tokens: text }]), resumeS: undefined };
}

/** A word of a segment, seconds from the window start. */
export interface TimedWord {
  word: string;
  startS: number;
  endS: number;
  /** Mean probability of the tokens that spell the word. */
  confidence: number;
}

/** Upper-case words without punctuation, as the pocketsphinx engine writes them ("don't" → "DON'T"). */
export function normalizeWords(text: string): string[] {
  return text
    .normalize('NFKC')
    .replace(/[’‘]/g, "'")
    .toUpperCase()
    .split(/[^\p{L}\p{N}']+/u)
    .map((w) => w.replace(/^'+|'+$/g, ''))
    .filter((w) => w.length > 0);
}

/**
 * Words of a segment with times shared out by character count: the segment's duration is split in
 * proportion to each normalized word's length. This is an approximation; Whisper's word timestamps
 * (cross-attention + DTW) are out of scope here.
 */
export function segmentWords(segment: WhisperSegment, tok: WhisperTokenizer): TimedWord[] {
  // A token whose text starts with a space begins a new word (byte-level BPE keeps the space).
  const groups: DecodedToken[][] = [];
  for (const t of segment.tokens) {
    const bytes = tok.bytesOf([t.id]);
    if (groups.length === 0 || bytes[0] === 0x20) groups.push([t]);
    else groups.at(-1)!.push(t);
  }
  const words: Array<{ word: string; confidence: number }> = [];
  for (const g of groups) {
    const confidence = g.reduce((a, t) => a + t.prob, 0) / g.length;
    for (const word of normalizeWords(tok.decode(g.map((t) => t.id)))) words.push({ word, confidence });
  }
  const chars = words.reduce((a, w) => a + w.word.length, 0);
  const dur = segment.endS - segment.startS;
  let done = 0;
  return words.map((w) => {
    const startS = segment.startS + (dur * done) / chars;
    done += w.word.length;
    return { word: w.word, startS, endS: segment.startS + (dur * done) / chars, confidence: Math.min(1, Math.max(0, w.confidence)) };
  });
}
