import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.ts';
import { concatSession, scoreTurns, spanOf } from '../../src/eval/concat-session.ts';

describe('concat session scoring (issue #17)', () => {
  it('lays utterances end to end with gaps and finds each phrase’s speaker', () => {
    const u = (id: string, speaker: string, seconds: number) => ({ id, speaker, transcript: id, audio: { samples: new Float32Array(seconds * 16000).fill(0.1), sampleRateHz: 16000 } });
    const { audio, spans } = concatSession([u('a1', 'A', 2), u('b1', 'B', 1), u('a2', 'A', 3)], 1000);
    expect(audio.samples.length).toBe((2 + 1 + 1 + 1 + 3) * 16000);
    expect(spans.map((s) => [s.startMs, s.endMs])).toEqual([[0, 2000], [3000, 4000], [5000, 8000]]);
    expect(audio.samples[2.5 * 16000]).toBe(0);
    expect(spanOf(spans, 2800, 4100)?.id).toBe('b1');
    expect(spanOf(spans, 8100, 9000)).toBeUndefined();
    expect(() => concatSession([{ ...u('x', 'X', 1), audio: { samples: new Float32Array(8000), sampleRateHz: 8000 } }])).toThrow(UsageError);
  });

  it('counts hits within one phrase of delay, false changes and the best-mapping label accuracy', () => {
    const truth = ['A', 'A', 'B', 'B', 'B', 'C', 'C', 'A', 'A'];
    // Change to B one phrase late (hit), a spurious split inside B (false), C missed, return to A on time (hit).
    const labels = [1, 1, 1, 2, 3, 3, 3, 1, 1];
    const s = scoreTurns(truth, labels);
    expect(s.trueChanges).toBe(3);
    expect(s.changesHit).toBe(2);
    expect(s.falseChanges).toBe(1);
    // Best mapping: 1→A (4 phrases), 3→B or C (2 each), 2→the other (1 for B): 7 of 9.
    expect(s.labelAccuracy).toBeCloseTo(7 / 9, 9);
    expect(s.profiles).toBe(3);
    // Unlabelled phrases are wrong and the first announcement is no change.
    const u = scoreTurns(['A', 'A', 'B'], [undefined, 1, 2]);
    expect([u.changesHit, u.falseChanges, u.labelAccuracy]).toEqual([1, 0, 2 / 3]);
    // A change two phrases late is a miss plus a false change.
    const late = scoreTurns(['A', 'B', 'B', 'B'], [1, 1, 1, 2]);
    expect([late.changesHit, late.falseChanges]).toEqual([0, 1]);
    expect(() => scoreTurns(['A'], [])).toThrow(UsageError);
  });
});
