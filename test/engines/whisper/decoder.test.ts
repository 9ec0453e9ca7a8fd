import { describe, expect, it } from 'vitest';
import { greedyDecode, normalizeWords, segmentWords, splitSegments, type DecodedToken } from '../../../src/engines/asr/whisper/decoder.ts';
import { WhisperTokenizer } from '../../../src/engines/asr/whisper/tokenizer.ts';
import { makeFixtureTokenizer } from './fixture-tokenizer.ts';

const fx = makeFixtureTokenizer();
const tok = new WhisperTokenizer({ vocab: fx.json.model.vocab, addedTokens: fx.json.added_tokens });
const SOT = fx.id('<|startoftranscript|>');
const EOT = fx.id('<|endoftext|>');

/** Logits whose argmax is script[step] (margin 20), step = tokens generated so far. */
function scripted(script: number[], runnerUp?: number[]) {
  return async (ids: readonly number[]) => {
    const step = ids.length - 1;
    const l = new Float32Array(fx.vocabSize);
    l[script[step] ?? EOT] = 20;
    if (runnerUp?.[step] !== undefined) l[runnerUp[step]!] = 10;
    return l;
  };
}

const ids = (ts: DecodedToken[]) => ts.map((t) => t.id);
const w = (s: string) => fx.id(s);

describe('Whisper greedy decoding with timestamp rules', () => {
  it('follows a well-formed script and stops at <|endoftext|>', async () => {
    const script = [fx.ts(0), w('ĠHello'), w(','), w('Ġworld'), fx.ts(1.2), fx.ts(1.2), w('Ġthe'), w('Ġship'), fx.ts(2), EOT];
    const out = await greedyDecode(scripted(script), tok, [SOT]);
    expect(ids(out)).toEqual(script.slice(0, -1));
    for (const t of out) {
      expect(t.prob).toBeGreaterThan(0.99);
      expect(t.prob).toBeLessThanOrEqual(1);
    }
  });

  it('forces a first timestamp ≤ 1 s, no blank or end at the start', async () => {
    const out = await greedyDecode(scripted([w('Ġ'), w('Ġthe'), fx.ts(0.5), EOT], [EOT]), tok, [SOT]);
    // Step 0: blank, end and text are banned, so the best remaining is a timestamp ≤ 1.00 s.
    expect(tok.isTimestamp(out[0]!.id)).toBe(true);
    expect(tok.timestampSeconds(out[0]!.id)).toBeLessThanOrEqual(1);
    const late = await greedyDecode(scripted([fx.ts(5), w('Ġthe'), fx.ts(6)]), tok, [SOT]);
    expect(tok.timestampSeconds(late[0]!.id)).toBeLessThanOrEqual(1);
  });

  it('after text and a timestamp only a timestamp or the end may follow; timestamps never go back', async () => {
    // The script wants text right after the closing timestamp; the runner-up is a valid start <|1.00|>.
    const out = await greedyDecode(scripted([fx.ts(0), w('Ġthe'), fx.ts(1), w('Ġship'), fx.ts(0.5), EOT], [undefined!, undefined!, undefined!, fx.ts(1)] as number[]), tok, [SOT]);
    expect(ids(out).slice(0, 4)).toEqual([fx.ts(0), w('Ġthe'), fx.ts(1), fx.ts(1)]);
    // A pair may not be followed by a third timestamp: text (the script's next choice) wins.
    const pair = await greedyDecode(scripted([fx.ts(0), w('Ġthe'), fx.ts(1), fx.ts(1), fx.ts(1.4), w('Ġboat'), fx.ts(2)], [undefined!, undefined!, undefined!, undefined!, w('Ġboat')] as number[]), tok, [SOT]);
    expect(ids(pair).slice(0, 5)).toEqual([fx.ts(0), w('Ġthe'), fx.ts(1), fx.ts(1), w('Ġboat')]);
    // Likewise right after the first timestamp: text must come first.
    const first = await greedyDecode(scripted([fx.ts(0), fx.ts(0.4), w('Ġboat')], [undefined!, w('Ġboat')] as number[]), tok, [SOT]);
    expect(ids(first).slice(0, 2)).toEqual([fx.ts(0), w('Ġboat')]);
    // A decreasing timestamp is banned.
    const back = await greedyDecode(scripted([fx.ts(0.5), w('Ġthe'), fx.ts(0.2), EOT]), tok, [SOT]);
    const tsSeen = ids(back).filter((i) => tok.isTimestamp(i)).map((i) => tok.timestampSeconds(i));
    for (let i = 1; i < tsSeen.length; i++) expect(tsSeen[i]).toBeGreaterThan(tsSeen[i - 1]!);
  });

  it('samples a timestamp when all timestamps together outweigh the best text token', async () => {
    const next = async (p: readonly number[]) => {
      const l = new Float32Array(fx.vocabSize);
      if (p.length === 1) l[fx.ts(0)] = 20;
      else if (p.length === 2) l[w('Ġthe')] = 20;
      else {
        l[w('Ġship')] = 5; // best single token, but 1000 timestamps at 0 sum to e^6.9
        for (let t = fx.ts(2); t < fx.ts(22); t++) l[t] = 0;
      }
      if (p.length > 4) l[EOT] = 50;
      return l;
    };
    const out = await greedyDecode(next, tok, [SOT]);
    expect(tok.isTimestamp(out[2]!.id)).toBe(true);
  });

  it('stops after maxTokens, and on abort', async () => {
    const loop = async () => {
      const l = new Float32Array(fx.vocabSize);
      l[w('Ġthe')] = 20;
      l[fx.ts(0)] = 19;
      return l;
    };
    expect(await greedyDecode(loop, tok, [SOT], { maxTokens: 7 })).toHaveLength(7);
    const ac = new AbortController();
    ac.abort();
    await expect(greedyDecode(loop, tok, [SOT], {}, ac.signal)).rejects.toThrow();
  });
});

const T = (id: number, prob = 1): DecodedToken => ({ id, prob });

describe('segments and words', () => {
  it('splits pairs into segments; single timestamp ending consumes the whole window', () => {
    const r = splitSegments([T(fx.ts(0)), T(w('ĠHello')), T(fx.ts(1)), T(fx.ts(1)), T(w('Ġworld')), T(fx.ts(2.5))], tok, 30);
    expect(r.segments.map((s) => [s.startS, s.endS])).toEqual([[0, 1], [1, 2.5]]);
    expect(r.resumeS).toBeUndefined();
  });

  it('an unfinished last segment is dropped and the next window resumes at the last complete end', () => {
    const r = splitSegments([T(fx.ts(0)), T(w('ĠHello')), T(fx.ts(1)), T(fx.ts(1.5)), T(w('Ġworld'))], tok, 30);
    expect(r.segments).toHaveLength(1);
    expect(r.resumeS).toBe(1);
    const only = splitSegments([T(fx.ts(0.4)), T(w('ĠHello')), T(w('Ġworld'))], tok, 12);
    expect(only.segments.map((s) => [s.startS, s.endS])).toEqual([[0.4, 12]]);
    expect(only.resumeS).toBeUndefined();
  });

  it('times are clamped to the audio in the window; segments beyond it vanish', () => {
    const r = splitSegments([T(fx.ts(0)), T(w('Ġthe')), T(fx.ts(3)), T(fx.ts(4)), T(w('Ġship')), T(fx.ts(5))], tok, 2);
    expect(r.segments.map((s) => [s.startS, s.endS])).toEqual([[0, 2]]);
  });

  it('words share the segment time by character count and carry their tokens\' mean probability', () => {
    const seg = { startS: 1, endS: 3, tokens: [T(w('ĠHello'), 0.9), T(w(','), 0.5), T(w('Ġdon'), 0.8), T(w("'t"), 0.6), T(w('Ġcaf'), 1), T(w('Ã©'), 0.8), T(w('!'), 0.6)] };
    const words = segmentWords(seg, tok);
    expect(words.map((x) => x.word)).toEqual(['HELLO', "DON'T", 'CAFÉ']);
    // 5 + 5 + 4 = 14 characters over 2 s.
    expect(words[0]!.startS).toBeCloseTo(1, 10);
    expect(words[0]!.endS).toBeCloseTo(1 + (2 * 5) / 14, 10);
    expect(words[1]!.endS).toBeCloseTo(1 + (2 * 10) / 14, 10);
    expect(words[2]!.endS).toBeCloseTo(3, 10);
    expect(words[0]!.confidence).toBeCloseTo(0.7, 10);
    expect(words[1]!.confidence).toBeCloseTo(0.7, 10);
    expect(words[2]!.confidence).toBeCloseTo(0.8, 10);
  });

  it('normalizes like the pocketsphinx output: upper case, no punctuation, inner apostrophes kept', () => {
    expect(normalizeWords(" Hello, world! It's a well-known 'boat'.")).toEqual(['HELLO', 'WORLD', "IT'S", 'A', 'WELL', 'KNOWN', 'BOAT']);
    expect(normalizeWords(' ... ')).toEqual([]);
    expect(normalizeWords('Don’t')).toEqual(["DON'T"]);
  });
});
