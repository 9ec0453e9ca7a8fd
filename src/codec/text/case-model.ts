/**
 * Letter case as cheap side information. Only ASCII letters are folded, so folding never changes
 * a string's length and every string round-trips (non-ASCII characters pass through as spelled).
 */

/** Segment case modes, coded once per segment. UPPER is the ASR's style and the cheapest. */
export const CASE_UPPER = 0;
export const CASE_LOWER = 1;
export const CASE_MIXED = 2;
export const CASE_MODES = 3;

/** Per-token patterns in mixed mode: lower, Capitalised, UPPER, other (one flag per letter). */
export const PAT_LOWER = 0;
export const PAT_CAPITAL = 1;
export const PAT_UPPER = 2;
export const PAT_OTHER = 3;
export const PATTERNS = 4;

const isUpper = (c: number): boolean => c >= 65 && c <= 90;
const isLower = (c: number): boolean => c >= 97 && c <= 122;

/** ASCII-only lower-casing (length-preserving). */
export function foldAscii(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/** ASCII-only upper-casing (length-preserving). */
export function upperAscii(s: string): string {
  return s.replace(/[a-z]+/g, (m) => m.toUpperCase());
}

export function segmentCaseMode(text: string): number {
  const hasLower = /[a-z]/.test(text);
  const hasUpper = /[A-Z]/.test(text);
  if (!hasLower) return CASE_UPPER;
  if (!hasUpper) return CASE_LOWER;
  return CASE_MIXED;
}

export function tokenPattern(token: string): number {
  let upper = 0;
  let lower = 0;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (isUpper(c)) upper++;
    else if (isLower(c)) lower++;
  }
  if (upper === 0) return PAT_LOWER;
  if (lower === 0) return PAT_UPPER;
  if (upper === 1 && isUpper(token.charCodeAt(0))) return PAT_CAPITAL;
  return PAT_OTHER;
}

/** Re-applies a pattern to a folded token; `flags` supplies one bit per ASCII letter for PAT_OTHER. */
export function applyPattern(folded: string, pattern: number, flags?: () => boolean): string {
  switch (pattern) {
    case PAT_LOWER:
      return folded;
    case PAT_UPPER:
      return upperAscii(folded);
    case PAT_CAPITAL:
      return upperAscii(folded.slice(0, 1)) + folded.slice(1);
    default: {
      let out = '';
      for (let i = 0; i < folded.length; i++) {
        const ch = folded[i] as string;
        out += isLower(ch.charCodeAt(0)) && flags?.() ? ch.toUpperCase() : ch;
      }
      return out;
    }
  }
}

/** The per-letter flags of a PAT_OTHER token, in order. */
export function letterFlags(token: string): boolean[] {
  const out: boolean[] = [];
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (isUpper(c)) out.push(true);
    else if (isLower(c)) out.push(false);
  }
  return out;
}
