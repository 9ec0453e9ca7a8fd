import { describe, expect, it } from 'vitest';
import { corpusWer, normalizeForWer, wordErrorRate } from '../../src/eval/wer.ts';

describe('WER', () => {
  it('normalizes case, punctuation, apostrophes and hyphens', () => {
    expect(normalizeForWer("Don’t STOP—the well-known 'dogs' said: \"Hi!\" 42")).toEqual(["don't", 'stop', 'the', 'well', 'known', 'dogs', 'said', 'hi', '42']);
  });

  it('counts hand-computed substitutions, deletions and insertions', () => {
    // ref: the cat sat on the big mat ; hyp: the bat sat on mat mat today
    // the=the, cat→bat (sub), sat, on, the (del), big→mat (sub), mat, today (ins): 4 errors / 7.
    const w = wordErrorRate('the cat sat on the big mat', 'the bat sat on mat mat today');
    expect(w.errors).toBe(4);
    expect(w.refWords).toBe(7);
    expect(w.wer).toBeCloseTo(4 / 7);
    const u = wordErrorRate('a b c d e', 'a c d e f');
    expect([u.substitutions, u.deletions, u.insertions]).toEqual([0, 1, 1]);
    expect(u.alignment.map((a) => a.op)).toEqual(['ok', 'del', 'ok', 'ok', 'ok', 'ins']);
    // Equal-cost alternatives resolve to substitutions (documented tie rule).
    const t = wordErrorRate('x y', 'y z');
    expect([t.substitutions, t.deletions, t.insertions]).toEqual([2, 0, 0]);
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
