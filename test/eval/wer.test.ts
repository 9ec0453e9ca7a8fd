import { describe, expect, it } from 'vitest';
import { corpusWer, normalizeForWer, wordErrorRate } from '../../src/eval/wer.ts';

describe('WER', () => {
  it('normalizes case, punctuation, apostrophes and hyphens', () => {
    expect(normalizeForWer("Don’t STOP—the well-known 'dogs' said: \"Hi!\" 42")).toEqual(["don't", 'stop', 'the', 'well', 'known', 'dogs', 'said', 'hi', '42']);
  });

  it('counts hand-computed substitutions, deletions and insertions', () => {
    // ref: the cat sat on the mat ; hyp: the bat sat on mat today → sub cat/bat, del the, ins today
    const w = wordErrorRate('the cat sat on the mat', 'the bat sat on mat today');
    expect([w.substitutions, w.deletions, w.insertions, w.refWords]).toEqual([1, 1, 1, 6]);
    expect(w.wer).toBeCloseTo(3 / 6);
    expect(w.alignment.map((a) => a.op)).toEqual(['ok', 'sub', 'ok', 'ok', 'del', 'ok', 'ins']);
  });

  it('handles empty sides', () => {
    expect(wordErrorRate('', '').wer).toBe(0);
    expect(wordErrorRate('', 'hello').wer).toBe(1);
    expect(wordErrorRate('a b c', '').wer).toBe(1);
    expect(wordErrorRate('a b', 'a b c d').wer).toBe(1);
  });

  it('aggregates at corpus level and per utterance', () => {
    const c = corpusWer([
      { reference: 'a b c d', hypothesis: 'a b c d' },
      { reference: 'e f', hypothesis: 'e' },
    ]);
    expect(c.wer).toBeCloseTo(1 / 6);
    expect(c.meanUtteranceWer).toBeCloseTo(0.25);
  });
});
