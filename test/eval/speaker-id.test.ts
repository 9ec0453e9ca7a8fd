import { describe, expect, it } from 'vitest';
import { featureStats, SpeakerIdentifier } from '../../src/eval/speaker-id.ts';

/** Deterministic pseudo-random frames around a speaker-specific mean. */
function frames(center: number[], seed: number, n = 60): Float32Array[] {
  let s = seed;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5;
  return Array.from({ length: n }, (_, i) => Float32Array.from([i % 2 ? 10 : 1, ...center.map((c) => c + rnd())]));
}

describe('speaker identification', () => {
  it('picks the enrolled speaker whose feature statistics are nearest', () => {
    const A = [1, 0, -1, 2];
    const B = [-1, 1, 0, 0];
    const id = new SpeakerIdentifier([
      { speaker: 'A', vector: featureStats(frames(A, 1)) },
      { speaker: 'A', vector: featureStats(frames(A, 2)) },
      { speaker: 'B', vector: featureStats(frames(B, 3)) },
      { speaker: 'B', vector: featureStats(frames(B, 4)) },
    ]);
    expect(id.identify(featureStats(frames(A, 9)))).toBe('A');
    expect(id.identify(featureStats(frames(B, 10)))).toBe('B');
  });

  it('uses only the louder half of frames', () => {
    const f = [Float32Array.from([0, 100]), Float32Array.from([10, 1]), Float32Array.from([9, 3])];
    const v = featureStats(f);
    expect(v[0]).toBeCloseTo(2);
  });
});
