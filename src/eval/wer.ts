/**
 * Word error rate against a reference transcript.
 *
 * Normalization (applied to both sides before alignment):
 * - Unicode NFKC, lower case;
 * - curly apostrophes → ', hyphens and dashes → space;
 * - every character that is not a letter, digit, whitespace or an in-word apostrophe is removed
 *   ("don't" keeps its apostrophe, "'tis" and "dogs'" lose the edge ones);
 * - whitespace collapsed. Digits are kept as written (no number normalization).
 * Alignment: Levenshtein with unit costs; ties prefer substitution, then deletion, then insertion.
 */
export function normalizeForWer(text: string): string[] {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\u2018\u2019\u02bc`]/g, "'")
    .replace(/[-\u2010-\u2015]/g, ' ')
    .replace(/[^\p{L}\p{N}'\s]/gu, ' ')
    .split(/\s+/)
    .map((w) => w.replace(/^'+|'+$/g, ''))
    .filter((w) => w.length > 0);
}

export type AlignmentOp = { op: 'ok' | 'sub'; ref: string; hyp: string } | { op: 'del'; ref: string } | { op: 'ins'; hyp: string };

export interface WerResult {
  errors: number;
  substitutions: number;
  deletions: number;
  insertions: number;
  refWords: number;
  /** errors / refWords; with an empty reference: 0 if the hypothesis is empty too, else 1. */
  wer: number;
  alignment: AlignmentOp[];
}

export function wordErrorRate(reference: string, hypothesis: string): WerResult {
  const r = normalizeForWer(reference);
  const h = normalizeForWer(hypothesis);
  const n = r.length;
  const m = h.length;
  const d = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = 0; i <= n; i++) d[i]![0] = i;
  for (let j = 0; j <= m; j++) d[0]![j] = j;
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      const sub = d[i - 1]![j - 1]! + (r[i - 1] === h[j - 1] ? 0 : 1);
      d[i]![j] = Math.min(sub, d[i - 1]![j]! + 1, d[i]![j - 1]! + 1);
    }
  }
  const alignment: AlignmentOp[] = [];
  let i = n;
  let j = m;
  while (i > 0 || j > 0) {
    if (i > 0 && j > 0 && d[i]![j] === d[i - 1]![j - 1]! + (r[i - 1] === h[j - 1] ? 0 : 1)) {
      alignment.push({ op: r[i - 1] === h[j - 1] ? 'ok' : 'sub', ref: r[i - 1]!, hyp: h[j - 1]! });
      i--;
      j--;
    } else if (i > 0 && d[i]![j] === d[i - 1]![j]! + 1) {
      alignment.push({ op: 'del', ref: r[i - 1]! });
      i--;
    } else {
      alignment.push({ op: 'ins', hyp: h[j - 1]! });
      j--;
    }
  }
  alignment.reverse();
  const count = (op: string) => alignment.filter((a) => a.op === op).length;
  const substitutions = count('sub');
  const deletions = count('del');
  const insertions = count('ins');
  const errors = substitutions + deletions + insertions;
  return { errors, substitutions, deletions, insertions, refWords: n, wer: n === 0 ? (m === 0 ? 0 : 1) : errors / n, alignment };
}

/** Corpus-level WER (Σ errors / Σ reference words) and the mean of per-utterance WERs. */
export function corpusWer(pairs: ReadonlyArray<{ reference: string; hypothesis: string }>): { wer: number; meanUtteranceWer: number; errors: number; refWords: number } {
  let errors = 0;
  let refWords = 0;
  let sum = 0;
  for (const p of pairs) {
    const w = wordErrorRate(p.reference, p.hypothesis);
    errors += w.errors;
    refWords += w.refWords;
    sum += w.wer;
  }
  return { wer: refWords ? errors / refWords : 0, meanUtteranceWer: pairs.length ? sum / pairs.length : 0, errors, refWords };
}
