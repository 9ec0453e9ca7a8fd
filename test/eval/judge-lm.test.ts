import { describe, expect, it } from 'vitest';
import { EngineUnavailableError } from '../../src/core/errors.ts';
import { createAsrEngine, transcribeAudio } from '../../src/engines/asr/registry.ts';
import { DEFAULT_JUDGE_LM_PATH, judgeLmPath, unigramArpa } from '../../src/eval/judge-lm.ts';
import { festivalSpeech } from '../engines/asr.conformance.ts';
import { describeWith, FESTIVAL, file, POCKETSPHINX_ADDON, POCKETSPHINX_MODEL } from '../fixtures/components.ts';

describe('eval judge language model (issue #19)', () => {
  it('writes a unigram ARPA model, header lines before \\data\\', () => {
    const text = unigramArpa(['<s>', '</s>', 'CAT'], [-99, -1, -0.30103], ['built for a test']);
    expect(text.split('\n')).toEqual(['# built for a test', '\\data\\', 'ngram 1=3', '', '\\1-grams:', '-99.0000 <s> 0.0000', '-1.0000 </s> 0.0000', '-0.3010 CAT 0.0000', '', '\\end\\', '']);
    expect(() => unigramArpa(['A'], [])).toThrow(RangeError);
  });

  it('a missing judge model is EngineUnavailableError naming the build step', () => {
    let err: unknown;
    try {
      judgeLmPath('/nonexistent/judge.lm');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EngineUnavailableError);
    expect((err as EngineUnavailableError).remedy).toMatch(/^node scripts\/build-models\.mjs/);
  });
});

const JUDGE_LM = file('the eval judge LM models/judge-unigram.lm', DEFAULT_JUDGE_LM_PATH, 'node scripts/build-models.mjs');

describeWith('the judge configuration in pocketsphinx', [JUDGE_LM, POCKETSPHINX_MODEL, POCKETSPHINX_ADDON, FESTIVAL], () => {
  it('loads the unigram model and recognizes clear speech', async () => {
    const asr = await createAsrEngine('pocketsphinx', { lm: judgeLmPath(), decoderFlags: {} });
    try {
      const words = (await transcribeAudio(asr, festivalSpeech('the weather is good and the ship will arrive tomorrow morning'))).flatMap((r) => r.words.map((w) => w.word));
      const expected = ['WEATHER', 'GOOD', 'SHIP', 'ARRIVE', 'TOMORROW', 'MORNING'];
      expect(expected.filter((w) => words.includes(w)).length).toBeGreaterThanOrEqual(4);
    } finally {
      await asr.close();
    }
  });
});
