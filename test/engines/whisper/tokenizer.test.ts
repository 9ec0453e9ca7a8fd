import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelError } from '../../../src/core/errors.ts';
import { WhisperTokenizer } from '../../../src/engines/asr/whisper/tokenizer.ts';
import { FIXTURE_TEXT_TOKENS, makeFixtureTokenizer } from './fixture-tokenizer.ts';

function load(options: Parameters<typeof makeFixtureTokenizer>[0] = {}) {
  const fx = makeFixtureTokenizer(options);
  const dir = mkdtempSync(join(tmpdir(), 'stcts-tok-'));
  const path = join(dir, 'tokenizer.json');
  writeFileSync(path, JSON.stringify(fx.json));
  return { fx, tok: WhisperTokenizer.fromFiles({ tokenizerJson: path }), dir };
}

describe('Whisper tokenizer', () => {
  it('finds the special tokens by name, not by the real models\' ids', () => {
    const { fx, tok } = load();
    const n = FIXTURE_TEXT_TOKENS.length;
    expect(tok.special.endOfText).toBe(n);
    expect(tok.special.startOfTranscript).toBe(n + 1);
    expect(tok.special.languages.get('en')).toBe(n + 2);
    expect(tok.special.transcribe).toBe(fx.id('<|transcribe|>'));
    expect(tok.special.noSpeech).toBe(fx.id('<|nocaptions|>'));
    expect(tok.special.noTimestamps).toBe(fx.id('<|notimestamps|>'));
    expect(tok.special.timestampBegin).toBe(fx.id('<|0.00|>'));
    expect(tok.isTimestamp(fx.id('<|30.00|>'))).toBe(true);
    expect(tok.isTimestamp(fx.id('<|notimestamps|>'))).toBe(false);
    expect(tok.timestampSeconds(fx.id('<|1.24|>'))).toBeCloseTo(1.24, 10);
    expect(tok.size).toBe(fx.vocabSize);
    expect(tok.promptIds(false)).toEqual([fx.id('<|startoftranscript|>')]);
    expect(tok.promptIds(true, 'de')).toEqual([fx.id('<|startoftranscript|>'), fx.id('<|de|>'), fx.id('<|transcribe|>')]);
    expect(() => tok.promptIds(true, 'xx')).toThrow(ModelError);
  });

  it('decodes byte-level BPE: Ġ is a space, multi-byte UTF-8 across tokens, specials skipped', () => {
    const { fx, tok } = load();
    const ids = [fx.id('<|startoftranscript|>'), fx.ts(0), fx.id('ĠHello'), fx.id(','), fx.id('Ġworld'), fx.id('!'), fx.id('Ġcaf'), fx.id('Ã©'), fx.ts(1.5), fx.id('<|endoftext|>')];
    expect(tok.decode(ids)).toBe(' Hello, world! café');
    // é split over two tokens still decodes once the bytes are joined.
    expect(tok.decode([fx.id('Ġcaf'), fx.id('Ã'), fx.id('©')])).toBe(' café');
    expect(tok.decode([fx.id('Ġcaf'), fx.id('Ã')])).toBe(' caf\uFFFD');
    expect(tok.decode([fx.id('Ġdon'), fx.id("'t"), fx.id('Ġwell'), fx.id('-'), fx.id('known')])).toBe(" don't well-known");
  });

  it('reads vocab.json + added_tokens.json too, and falls back to timestamps after <|notimestamps|>', () => {
    const fx = makeFixtureTokenizer({ withTimestampTokens: false });
    const dir = mkdtempSync(join(tmpdir(), 'stcts-tok-'));
    writeFileSync(join(dir, 'vocab.json'), JSON.stringify(fx.json.model.vocab));
    writeFileSync(join(dir, 'added_tokens.json'), JSON.stringify(Object.fromEntries(fx.json.added_tokens.map((a) => [a.content, a.id]))));
    const tok = WhisperTokenizer.fromFiles({ vocabJson: join(dir, 'vocab.json'), addedTokensJson: join(dir, 'added_tokens.json') });
    expect(tok.special.timestampBegin).toBe(fx.id('<|notimestamps|>') + 1);
    expect(tok.size).toBe(fx.id('<|notimestamps|>') + 1 + 1501);
    expect(tok.decode([fx.id('Ġthe'), fx.id('Ġship')])).toBe(' the ship');
  });

  it('a file without Whisper special tokens is a ModelError bad_model', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stcts-tok-'));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ model: { vocab: { a: 0 } }, added_tokens: [] }));
    let err: unknown;
    try {
      WhisperTokenizer.fromFiles({ tokenizerJson: join(dir, 'tokenizer.json') });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelError);
    expect((err as ModelError).code).toBe('bad_model');
    writeFileSync(join(dir, 'broken.json'), '{');
    expect(() => WhisperTokenizer.fromFiles({ tokenizerJson: join(dir, 'broken.json') })).toThrow(ModelError);
  });
});
