import { describe, expect, it } from 'vitest';
import { matchWords, timingAgreement, type TimedWord } from '../../src/eval/timing.ts';

/** Words laid end to end from [word, durationMs, gapAfterMs] triples. */
function timed(spec: Array<[string, number, number]>): TimedWord[] {
  let t = 100;
  return spec.map(([word, d, gap]) => {
    const w = { word, startMs: t, endMs: t + d };
    t += d + gap;
    return w;
  });
}

describe('timing measured on audio (issue #19)', () => {
  it('matches the words both recognitions share, in order, ignoring substitutions and insertions', () => {
    const ref = timed([['THE', 100, 0], ['CAT', 300, 50], ['SAT', 250, 0], ['DOWN', 400, 0]]);
    const dec = timed([['A', 80, 0], ['CAT', 310, 0], ['SAD', 240, 0], ['DOWN', 390, 0], ['NOW', 100, 0]]);
    expect(matchWords(ref, dec)).toEqual([[1, 1], [3, 3]]);
    expect(matchWords(ref, [])).toEqual([]);
    expect(matchWords(timed([['a', 1, 0]]), timed([['A', 1, 0]]))).toEqual([[0, 0]]);
  });

  it('correlates durations and the gaps between adjacent matched words', () => {
    const spec: Array<[string, number, number]> = [['ONE', 200, 0], ['TWO', 350, 120], ['THREE', 500, 0], ['FOUR', 260, 300], ['FIVE', 420, 40]];
    // Decoded: every duration and gap ×1.2 — perfectly correlated.
    const dec = timed(spec.map(([w, d, g]) => [w, d * 1.2, g * 1.2]));
    const same = timingAgreement([{ original: timed(spec), decoded: dec }]);
    expect(same.wordDurationCorr).toBeCloseTo(1, 9);
    expect(same.pauseCorr).toBeCloseTo(1, 9);
    expect([same.matchedWords, same.originalWords, same.pauses]).toEqual([5, 5, 4]);
    // Decoded with long words short and short pauses long: the correlations say so.
    const inverted = timed(spec.map(([w, d, g]) => [w, 800 - d, 400 - g]));
    const bad = timingAgreement([{ original: timed(spec), decoded: inverted }]);
    expect(bad.wordDurationCorr).toBeCloseTo(-1, 9);
    expect(bad.pauseCorr).toBeCloseTo(-1, 9);
  });

  it('skips gaps across an unmatched word and is NaN with too few words', () => {
    const ref = timed([['A', 100, 100], ['B', 100, 200], ['C', 100, 0]]);
    const dec = timed([['A', 100, 100], ['X', 100, 0], ['C', 100, 0]]);
    const r = timingAgreement([{ original: ref, decoded: dec }]);
    expect(r.matchedWords).toBe(2);
    expect(r.pauses).toBe(0);
    expect(r.wordDurationCorr).toBeNaN();
    expect(r.pauseCorr).toBeNaN();
  });
});
