/**
 * The independent judge's language model (issue #19). `stcts eval` scores round-trip WER with a
 * recognizer whose language model differs from the sender's: a context-free unigram model over the
 * sender LM's vocabulary. The sender's 3-gram contexts — which decide most of its substitutions — are
 * absent, so the judge does not re-prefer the word sequences the sender chose.
 *
 * Shared with the sender (stated in the report): the en-us acoustic model, the CMU dictionary, the
 * vocabulary and unigram probabilities of Debian's en-us LM, and the Silero VAD phrase cutting.
 * Not shared: every bigram and trigram, and the search setup (the judge has no `-maxhmmpf` cap).
 * Built by scripts/models/judge-lm.ts into models/judge-unigram.lm (ARPA text, ~1.7 MB).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EngineUnavailableError } from '../core/errors.ts';

export const DEFAULT_JUDGE_LM_PATH = fileURLToPath(new URL('../../models/judge-unigram.lm', import.meta.url));

/** One line for reports: what the judge shares with the sender and what it does not. */
export const JUDGE_DESCRIPTION =
  'pocketsphinx with a unigram LM (models/judge-unigram.lm) and no -maxhmmpf cap; shares the en-us acoustic model, the CMU dictionary, the vocabulary and unigram probabilities of the sender LM, and the VAD; not its bigrams or trigrams';

/**
 * ARPA text of a unigram model (backoff 0). `log10Prob[i]` is word i's log10 probability; `header`
 * lines go before `\data\` (sphinxbase skips them), e.g. the source's hash for idempotent builds.
 */
export function unigramArpa(words: readonly string[], log10Prob: ArrayLike<number>, header: readonly string[] = []): string {
  if (words.length !== log10Prob.length) throw new RangeError(`unigramArpa: ${words.length} words but ${log10Prob.length} probabilities`);
  const lines = words.map((w, i) => `${(log10Prob[i] as number).toFixed(4)} ${w} 0.0000`);
  return [...header.map((h) => `# ${h}`), '\\data\\', `ngram 1=${words.length}`, '', '\\1-grams:', ...lines, '', '\\end\\', ''].join('\n');
}

/** The judge LM's path; throws EngineUnavailableError naming the build step when it is missing. */
export function judgeLmPath(path = DEFAULT_JUDGE_LM_PATH): string {
  if (!existsSync(path)) throw new EngineUnavailableError('eval-judge', `the eval judge's language model ${path} is missing`, 'node scripts/build-models.mjs (needs Debian pocketsphinx-en-us)');
  return path;
}
