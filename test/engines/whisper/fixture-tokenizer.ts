/**
 * A tiny Whisper-layout tokenizer.json made at test time: a handful of byte-level BPE tokens, then
 * the special tokens in Whisper's order (<|endoftext|>, <|startoftranscript|>, languages, tasks,
 * <|notimestamps|>, <|0.00|> … <|30.00|>), so the special ids differ from the real models'.
 */
export const FIXTURE_TEXT_TOKENS: readonly string[] = Object.freeze([
  '!', ',', '.', 'Ġ', 'Ġthe', 'Ġweather', 'Ġis', 'Ġfine', 'Ġtoday', 'Ġand', 'Ġship', 'Ġready',
  'ĠHello', 'Ġworld', 'Ġcaf', 'Ã©', 'Ã', '©', 'Ġdon', "'t", 'Ġwell', '-', 'known', 'Ġ2', '0', 'Ġboat',
]);

export interface FixtureTokenizer {
  json: { model: { type: 'BPE'; vocab: Record<string, number>; merges: string[] }; added_tokens: Array<{ id: number; content: string; special: boolean }> };
  /** Token string → id, for scripting decoder outputs. */
  id(token: string): number;
  /** Id of <|t|>, t in seconds (multiple of 0.02). */
  ts(seconds: number): number;
  vocabSize: number;
}

export function makeFixtureTokenizer(options: { withTimestampTokens?: boolean; languages?: string[] } = {}): FixtureTokenizer {
  const vocab: Record<string, number> = {};
  FIXTURE_TEXT_TOKENS.forEach((t, i) => (vocab[t] = i));
  let next = FIXTURE_TEXT_TOKENS.length;
  const added: Array<{ id: number; content: string; special: boolean }> = [];
  const add = (content: string) => added.push({ id: next++, content, special: true });
  add('<|endoftext|>');
  add('<|startoftranscript|>');
  for (const l of options.languages ?? ['en', 'de', 'fr']) add(`<|${l}|>`);
  for (const s of ['translate', 'transcribe', 'startoflm', 'startofprev', 'nocaptions', 'notimestamps']) add(`<|${s}|>`);
  const tsBegin = next;
  if (options.withTimestampTokens ?? true) for (let i = 0; i <= 1500; i++) add(`<|${(i * 0.02).toFixed(2)}|>`);
  const all = new Map<string, number>([...Object.entries(vocab), ...added.map((a) => [a.content, a.id] as [string, number])]);
  return {
    json: { model: { type: 'BPE', vocab, merges: [] }, added_tokens: added },
    id(token) {
      const id = all.get(token);
      if (id === undefined) throw new Error(`fixture tokenizer has no '${token}'`);
      return id;
    },
    ts: (seconds) => tsBegin + Math.round(seconds / 0.02),
    vocabSize: tsBegin + 1501,
  };
}
