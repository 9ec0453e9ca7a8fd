import type { PhraseAnalyzer } from './sender.ts';

/**
 * The sender's prosody and speaker analysis for the LM codec (prosody rides in-band with the text;
 * UTF-8 sessions carry none).
 */
export async function createPhraseAnalyzer(withProsody: boolean): Promise<PhraseAnalyzer<unknown> | undefined> {
  if (!withProsody) return undefined;
  return undefined;
}
