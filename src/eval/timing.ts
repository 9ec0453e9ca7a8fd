/**
 * Timing fidelity measured on audio (issue #19): word durations and pauses of the decoded speech,
 * from a recognizer's word times on the decoded audio, against the same recognizer's word times on the
 * original — the same instrument on both sides, for us and for every baseline. Not the TTS's report
 * of its own plan (that figure is kept separately as `plan…` and labelled so).
 */
import { pearson } from './prosody-metrics.ts';

export interface TimedWord {
  word: string;
  startMs: number;
  endMs: number;
}

/**
 * Index pairs [original, decoded] of the words both sequences share, in order: a longest common
 * subsequence of equal words (upper-cased), so substitutions, insertions and deletions drop out.
 */
export function matchWords(ref: readonly TimedWord[], dec: readonly TimedWord[]): Array<[number, number]> {
  const n = ref.length, m = dec.length;
  const a = ref.map((w) => w.word.toUpperCase());
  const b = dec.map((w) => w.word.toUpperCase());
  // lcs[i][j] = LCS length of a[i..] and b[j..], row-major in one array.
  const lcs = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * (m + 1) + j] = a[i] === b[j] ? lcs[(i + 1) * (m + 1) + j + 1]! + 1 : Math.max(lcs[(i + 1) * (m + 1) + j]!, lcs[i * (m + 1) + j + 1]!);
    }
  }
  const out: Array<[number, number]> = [];
  let i = 0, j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push([i, j]);
      i++;
      j++;
    } else if (lcs[(i + 1) * (m + 1) + j]! >= lcs[i * (m + 1) + j + 1]!) i++;
    else j++;
  }
  return out;
}

export interface TimingAgreement {
  /** Pearson correlation of matched words' durations (original vs decoded), pooled over utterances; NaN below 3 words. */
  wordDurationCorr: number;
  /** Pearson correlation of the gaps between consecutive matched words (adjacent on both sides), pooled; NaN below 3 gaps. */
  pauseCorr: number;
  /** Words matched, and all words the recognizer found in the originals. */
  matchedWords: number;
  originalWords: number;
  /** Gaps compared. */
  pauses: number;
}

/** Timing agreement over a corpus: one `{ original, decoded }` pair of word timings per utterance. */
export function timingAgreement(utterances: ReadonlyArray<{ original: readonly TimedWord[]; decoded: readonly TimedWord[] }>): TimingAgreement {
  const refDur: number[] = [], decDur: number[] = [], refGap: number[] = [], decGap: number[] = [];
  let originalWords = 0;
  for (const { original, decoded } of utterances) {
    originalWords += original.length;
    const pairs = matchWords(original, decoded);
    for (const [i, j] of pairs) {
      refDur.push(original[i]!.endMs - original[i]!.startMs);
      decDur.push(decoded[j]!.endMs - decoded[j]!.startMs);
    }
    for (let k = 1; k < pairs.length; k++) {
      const [i0, j0] = pairs[k - 1]!;
      const [i1, j1] = pairs[k]!;
      if (i1 !== i0 + 1 || j1 !== j0 + 1) continue;
      refGap.push(Math.max(0, original[i1]!.startMs - original[i0]!.endMs));
      decGap.push(Math.max(0, decoded[j1]!.startMs - decoded[j0]!.endMs));
    }
  }
  return { wordDurationCorr: pearson(refDur, decDur), pauseCorr: pearson(refGap, decGap), matchedWords: refDur.length, originalWords, pauses: refGap.length };
}
