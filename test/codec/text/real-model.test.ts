import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_TEXT_MODEL_PATH, TextCodingSession, decodeTextSegment, encodeTextSegment, loadTextModel, type TextModel } from '../../../src/codec/text/index.ts';
import { DecodeError } from '../../../src/core/errors.ts';
import { tinyModel } from './tiny-model.ts';
import { describeWith, POCKETSPHINX_MODEL } from '../../fixtures/components.ts';

const DEBIAN_LM = '/usr/share/pocketsphinx/model/en-us/en-us.lm.bin';
const SENTENCES = readFileSync(fileURLToPath(new URL('./fixtures/unseen-sentences.txt', import.meta.url)), 'utf8').trim().split('\n');

// The model is built here from the Debian LM when models/text-lm.bin is missing.
const SOURCE = { ...POCKETSPHINX_MODEL, available: existsSync(DEFAULT_TEXT_MODEL_PATH) || existsSync(DEBIAN_LM) };

describeWith('text coder with the pocketsphinx en-us model', [SOURCE], () => {
  let model: TextModel;
  beforeAll(async () => {
    if (!existsSync(DEFAULT_TEXT_MODEL_PATH)) {
      execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../../../scripts/models/text-lm.ts', import.meta.url))], { stdio: 'inherit' });
    }
    model = await loadTextModel();
  }, 120_000);

  it('identifies itself by id and the SHA-256 of the file', () => {
    const digest = createHash('sha256').update(readFileSync(DEFAULT_TEXT_MODEL_PATH)).digest();
    expect(model.hash).toBe(digest.readUInt32BE(0));
    expect(model.id).toBe('en-us-3g-v1');
    const tiny = tinyModel();
    expect(() => model.checkIdentity(tiny.id, tiny.hash)).toThrow(DecodeError);
    expect(() => model.checkIdentity(tiny.id, tiny.hash)).toThrow(expect.objectContaining({ code: 'model_mismatch' }));
  });

  it('round-trips unseen sentences in ASR style and mixed case; independent sessions agree byte for byte', () => {
    const segs = SENTENCES.slice(0, 40).flatMap((s, i) => [s.toUpperCase(), i % 5 === 0 ? s[0]?.toUpperCase() + s.slice(1) + '.' : s.toUpperCase()]);
    const run = (): Uint8Array[] => {
      const tx = new TextCodingSession(model);
      const rx = new TextCodingSession(model);
      return segs.map((s) => {
        const b = encodeTextSegment(tx, s);
        const back = decodeTextSegment(rx, b);
        expect(back).toBe(s);
        tx.commit(s);
        rx.commit(back);
        return b;
      });
    };
    expect(run()).toEqual(run());
  });

  it('spends about 7 bits per word on plain unseen English (≤ 11 including end and flush)', () => {
    const tx = new TextCodingSession(model);
    let bits = 0;
    let words = 0;
    for (const s of SENTENCES) {
      const u = s.toUpperCase();
      bits += encodeTextSegment(tx, u).length * 8;
      words += u.split(' ').length;
      tx.commit(u);
    }
    expect(bits / words).toBeLessThan(11);
    expect(bits / words).toBeGreaterThan(3);
  });

  it('makes the ASR upper-case style no dearer than lower case, and repeated rare names cheaper', () => {
    const tx = new TextCodingSession(model);
    for (const s of SENTENCES.slice(0, 5)) tx.commit(s.toUpperCase());
    const s = SENTENCES[10] as string;
    expect(encodeTextSegment(tx, s.toUpperCase()).length).toBeLessThanOrEqual(encodeTextSegment(tx, s).length);
    const name = 'THE LETTER FROM MISTER PEMBERTONSHIRE ARRIVED';
    const first = encodeTextSegment(tx, name).length;
    tx.commit(name);
    expect(encodeTextSegment(tx, name).length).toBeLessThan(first - 2);
  });

  it('round-trips arbitrary strings', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.fullUnicodeString({ maxLength: 30 }), fc.string16bits({ maxLength: 20 }), fc.constantFrom('HELLO WORLD', 'The end.', '')), { maxLength: 4 }), (segs) => {
        const tx = new TextCodingSession(model);
        const rx = new TextCodingSession(model);
        for (const s of segs) {
          const back = decodeTextSegment(rx, encodeTextSegment(tx, s));
          expect(back).toBe(s);
          tx.commit(s);
          rx.commit(back);
        }
      }),
      { seed: 42, numRuns: 60 },
    );
  });

  it('rejects random bytes with DecodeError', () => {
    let errors = 0;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 40 }), (bytes) => {
        try {
          decodeTextSegment(new TextCodingSession(model, { maxTokens: 300 }), bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(DecodeError);
          errors++;
        }
      }),
      { seed: 11, numRuns: 200 },
    );
    // A range coder has no redundancy besides the strict end-of-stream check; very short inputs can be valid.
    expect(errors).toBeGreaterThan(160);
  });
});
