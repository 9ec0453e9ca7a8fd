import { readFileSync } from 'node:fs';
import { ModelError } from '../../../core/errors.ts';

/** Whisper's timestamp resolution, seconds per timestamp token. */
export const WHISPER_TIMESTAMP_STEP_S = 0.02;
/** Timestamp tokens <|0.00|> … <|30.00|>. */
export const WHISPER_TIMESTAMP_COUNT = 1501;

/** Ids of Whisper's special tokens, found by name in the tokenizer files. */
export interface WhisperSpecialTokens {
  endOfText: number;
  startOfTranscript: number;
  noTimestamps: number;
  /** Id of <|0.00|>; <|t|> is `timestampBegin + t / 0.02`. */
  timestampBegin: number;
  transcribe?: number;
  translate?: number;
  startOfPrev?: number;
  startOfLm?: number;
  noSpeech?: number;
  /** Language code (`en`, `de`, …) → token id. */
  languages: ReadonlyMap<string, number>;
}

/** The parts of a Hugging Face tokenizer the decoder needs. */
export interface WhisperTokenizerSource {
  /** Token string → id (vocab.json, or tokenizer.json `model.vocab`). */
  vocab: Record<string, number>;
  /** Added tokens (tokenizer.json `added_tokens`, or added_tokens.json as content → id). */
  addedTokens: Array<{ id: number; content: string; special?: boolean }>;
}

/** GPT-2's reversible byte ↔ printable-unicode table: char code → byte. */
function byteDecoderTable(): Map<number, number> {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  return new Map(cs.map((c, i) => [c, bs[i]!]));
}

const NAMED_SPECIALS = new Set(['endoftext', 'startoftranscript', 'translate', 'transcribe', 'startoflm', 'startofprev', 'nocaptions', 'nospeech', 'notimestamps']);
const TIMESTAMP_RE = /^<\|(\d+\.\d\d)\|>$/;
const LANGUAGE_RE = /^<\|([a-z]{2,3})\|>$/;

/**
 * Byte-level BPE decoding for Whisper (ids → text). Special tokens are located by name
 * (`<|endoftext|>`, `<|startoftranscript|>`, `<|notimestamps|>`, `<|0.00|>` …), never by fixed id,
 * because English-only and multilingual vocabularies differ. Where the files do not list the
 * timestamp tokens (older exports), they follow `<|notimestamps|>` as in openai/whisper.
 */
export class WhisperTokenizer {
  readonly special: Readonly<WhisperSpecialTokens>;
  /** Largest id known + 1 (the decoder's logits may be longer: unused padding ids). */
  readonly size: number;
  private readonly tokens = new Map<number, string>();
  private readonly ids = new Map<string, number>();
  private readonly specialIds = new Set<number>();
  private readonly byteDecoder = byteDecoderTable();
  private readonly utf8 = new TextDecoder('utf-8', { fatal: false });

  constructor(source: WhisperTokenizerSource) {
    for (const [tok, id] of Object.entries(source.vocab)) this.addToken(tok, id);
    for (const t of source.addedTokens) {
      this.addToken(t.content, t.id);
      if (t.special !== false) this.specialIds.add(t.id);
    }
    const find = (name: string): number | undefined => this.ids.get(`<|${name}|>`);
    const need = (name: string): number => {
      const id = find(name);
      if (id === undefined) throw new ModelError('bad_model', `the Whisper tokenizer has no <|${name}|> token; is this a Whisper tokenizer.json / vocab.json?`, { token: name });
      return id;
    };
    const noTimestamps = need('notimestamps');
    const ts0 = find('0.00');
    const timestampBegin = ts0 ?? noTimestamps + 1;
    if (ts0 !== undefined && find('30.00') !== undefined && find('30.00') !== ts0 + WHISPER_TIMESTAMP_COUNT - 1) {
      throw new ModelError('bad_model', 'the Whisper tokenizer timestamp tokens <|0.00|> … <|30.00|> are not consecutive', {});
    }
    for (let i = 0; i < WHISPER_TIMESTAMP_COUNT; i++) this.specialIds.add(timestampBegin + i);
    const languages = new Map<string, number>();
    for (const t of source.addedTokens) {
      const m = LANGUAGE_RE.exec(t.content);
      if (m && !NAMED_SPECIALS.has(m[1]!)) languages.set(m[1]!, t.id);
    }
    const opt = (name: string) => find(name);
    const special: WhisperSpecialTokens = {
      endOfText: need('endoftext'),
      startOfTranscript: need('startoftranscript'),
      noTimestamps,
      timestampBegin,
      languages,
    };
    const optional: Array<[keyof WhisperSpecialTokens, string]> = [['transcribe', 'transcribe'], ['translate', 'translate'], ['startOfPrev', 'startofprev'], ['startOfLm', 'startoflm'], ['noSpeech', 'nospeech'], ['noSpeech', 'nocaptions']];
    for (const [key, name] of optional) {
      const id = opt(name);
      if (id !== undefined && (special as unknown as Record<string, unknown>)[key] === undefined) (special as unknown as Record<string, number>)[key] = id;
    }
    this.special = Object.freeze(special);
    this.size = Math.max(timestampBegin + WHISPER_TIMESTAMP_COUNT - 1, ...this.tokens.keys()) + 1;
  }

  /** Reads `tokenizer.json`, or `vocab.json` (+ optional `added_tokens.json`). */
  static fromFiles(files: { tokenizerJson?: string; vocabJson?: string; addedTokensJson?: string }): WhisperTokenizer {
    const read = (path: string): unknown => {
      try {
        return JSON.parse(readFileSync(path, 'utf8'));
      } catch (err) {
        throw new ModelError('bad_model', `cannot read the Whisper tokenizer file ${path}: ${(err as Error).message}`, { path }, { cause: err });
      }
    };
    if (files.tokenizerJson) {
      const j = read(files.tokenizerJson) as { model?: { vocab?: Record<string, number> }; added_tokens?: Array<{ id: number; content: string; special?: boolean }> };
      if (!j.model?.vocab || typeof j.model.vocab !== 'object') throw new ModelError('bad_model', `${files.tokenizerJson} has no model.vocab`, { path: files.tokenizerJson });
      return new WhisperTokenizer({ vocab: j.model.vocab, addedTokens: j.added_tokens ?? [] });
    }
    if (!files.vocabJson) throw new ModelError('bad_model', 'a Whisper model needs tokenizer.json or vocab.json', {});
    const vocab = read(files.vocabJson) as Record<string, number>;
    const added = files.addedTokensJson ? (read(files.addedTokensJson) as Record<string, number>) : {};
    return new WhisperTokenizer({ vocab, addedTokens: Object.entries(added).map(([content, id]) => ({ id, content, special: content.startsWith('<|') })) });
  }

  private addToken(tok: string, id: number): void {
    if (!Number.isInteger(id) || id < 0) throw new ModelError('bad_model', `the Whisper tokenizer has a bad id ${id} for '${tok}'`, { token: tok });
    this.tokens.set(id, tok);
    this.ids.set(tok, id);
  }

  /** The id of a token string (`'Ġhello'`, `'<|en|>'`), if any. */
  idOf(token: string): number | undefined {
    return this.ids.get(token);
  }

  /** True for <|0.00|> … <|30.00|>. */
  isTimestamp(id: number): boolean {
    return id >= this.special.timestampBegin && id < this.special.timestampBegin + WHISPER_TIMESTAMP_COUNT;
  }

  /** Seconds of a timestamp token. */
  timestampSeconds(id: number): number {
    return (id - this.special.timestampBegin) * WHISPER_TIMESTAMP_STEP_S;
  }

  /** True for special tokens (control, language, timestamp tokens). */
  isSpecial(id: number): boolean {
    return this.specialIds.has(id) || id >= this.special.endOfText;
  }

  /** The prompt: [<|startoftranscript|>] for English-only models, + language and task for multilingual ones. */
  promptIds(multilingual: boolean, language = 'en'): number[] {
    const s = this.special;
    if (!multilingual) return [s.startOfTranscript];
    const lang = s.languages.get(language);
    if (lang === undefined) throw new ModelError('bad_model', `the Whisper tokenizer has no <|${language}|> token`, { token: language });
    if (s.transcribe === undefined) throw new ModelError('bad_model', 'the Whisper tokenizer has no <|transcribe|> token', { token: 'transcribe' });
    return [s.startOfTranscript, lang, s.transcribe];
  }

  /** UTF-8 bytes of text tokens (special tokens skipped). */
  bytesOf(ids: Iterable<number>): Uint8Array {
    const bytes: number[] = [];
    for (const id of ids) {
      if (this.isSpecial(id)) continue;
      const tok = this.tokens.get(id);
      if (tok === undefined) continue;
      for (const ch of tok) {
        const b = this.byteDecoder.get(ch.codePointAt(0)!);
        if (b !== undefined) bytes.push(b);
        else bytes.push(...new TextEncoder().encode(ch));
      }
    }
    return Uint8Array.from(bytes);
  }

  /** Text of the ids, special tokens skipped; invalid UTF-8 (a character split at the end) becomes U+FFFD. */
  decode(ids: Iterable<number>): string {
    return this.utf8.decode(this.bytesOf(ids));
  }
}
