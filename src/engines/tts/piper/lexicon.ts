import { existsSync, readFileSync } from 'node:fs';
import { EngineUnavailableError } from '../../../core/errors.ts';

/** CMUdict as shipped by Debian's pocketsphinx-en-us (lower case, no stress digits, BSD-style licence). */
export const DEFAULT_CMUDICT_PATH = '/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict';

/** ARPAbet vowels (stress digits stripped). */
export const ARPABET_VOWELS: ReadonlySet<string> = new Set(['AA', 'AE', 'AH', 'AO', 'AW', 'AY', 'EH', 'ER', 'EY', 'IH', 'IY', 'OW', 'OY', 'UH', 'UW']);

/**
 * Word → ARPAbet pronunciation (first variant), from a CMUdict-format file: `word PH PH …` per line,
 * alternates as `word(2)`, optional stress digits (`AH0`, `EY1`) kept as given. Both the
 * pocketsphinx spelling (lower case, no digits) and cmudict-0.7b (upper case, digits, `;;;` comments)
 * load.
 */
export class CmuLexicon {
  private readonly entries: Map<string, readonly string[]>;

  private constructor(entries: Map<string, readonly string[]>) {
    this.entries = entries;
  }

  /** Reads a dictionary file. Missing file → EngineUnavailableError naming the Debian package. */
  static load(path: string = DEFAULT_CMUDICT_PATH): CmuLexicon {
    if (!existsSync(path)) throw new EngineUnavailableError('piper', `pronouncing dictionary not found at ${path}`, 'apt-get install pocketsphinx-en-us');
    return CmuLexicon.parse(readFileSync(path, 'utf8'));
  }

  /** Parses dictionary text (see the class comment). */
  static parse(text: string): CmuLexicon {
    const entries = new Map<string, readonly string[]>();
    for (const line of text.split('\n')) {
      if (!line || line.startsWith(';;;')) continue;
      const parts = line.trim().split(/\s+/);
      if (parts.length < 2) continue;
      const word = parts[0]!.toLowerCase();
      if (word.endsWith(')')) continue; // alternates: the first variant wins
      const phones = parts.slice(1).filter((p) => p !== '#' && !p.startsWith('#'));
      if (!entries.has(word)) entries.set(word, phones.map((p) => p.toUpperCase()));
    }
    return new CmuLexicon(entries);
  }

  /** Number of words. */
  get size(): number {
    return this.entries.size;
  }

  /** The pronunciation of a lower-case word, or undefined. */
  lookup(word: string): readonly string[] | undefined {
    return this.entries.get(word);
  }
}

/** Letter names, for spelling acronyms and words the rules cannot read. */
export const LETTER_NAMES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  a: ['EY1'], b: ['B', 'IY1'], c: ['S', 'IY1'], d: ['D', 'IY1'], e: ['IY1'], f: ['EH1', 'F'], g: ['JH', 'IY1'],
  h: ['EY1', 'CH'], i: ['AY1'], j: ['JH', 'EY1'], k: ['K', 'EY1'], l: ['EH1', 'L'], m: ['EH1', 'M'], n: ['EH1', 'N'],
  o: ['OW1'], p: ['P', 'IY1'], q: ['K', 'Y', 'UW1'], r: ['AA1', 'R'], s: ['EH1', 'S'], t: ['T', 'IY1'],
  u: ['Y', 'UW1'], v: ['V', 'IY1'], w: ['D', 'AH1', 'B', 'AH0', 'L', 'Y', 'UW0'], x: ['EH1', 'K', 'S'],
  y: ['W', 'AY1'], z: ['Z', 'IY1'],
});

// Grapheme rules, longest match first. `^` = word start; a trailing `+e` in the key is handled in code.
const RULES: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['tch', ['CH']], ['sch', ['S', 'K']], ['igh', ['AY']], ['ough', ['AO']], ['tion', ['SH', 'AH', 'N']], ['sion', ['ZH', 'AH', 'N']],
  ['ch', ['CH']], ['sh', ['SH']], ['th', ['TH']], ['ph', ['F']], ['wh', ['W']], ['ck', ['K']], ['ng', ['NG']],
  ['qu', ['K', 'W']], ['gh', []], ['ee', ['IY']], ['ea', ['IY']], ['oo', ['UW']], ['ou', ['AW']], ['ow', ['OW']],
  ['ai', ['EY']], ['ay', ['EY']], ['oa', ['OW']], ['oi', ['OY']], ['oy', ['OY']], ['au', ['AO']], ['aw', ['AO']],
  ['ie', ['IY']], ['ei', ['EY']], ['ey', ['IY']], ['er', ['ER']], ['ir', ['ER']], ['ur', ['ER']], ['ar', ['AA', 'R']],
  ['or', ['AO', 'R']], ['x', ['K', 'S']], ['a', ['AE']], ['e', ['EH']], ['i', ['IH']], ['o', ['AA']], ['u', ['AH']],
  ['b', ['B']], ['d', ['D']], ['f', ['F']], ['g', ['G']], ['h', ['HH']], ['j', ['JH']], ['k', ['K']], ['l', ['L']],
  ['m', ['M']], ['n', ['N']], ['p', ['P']], ['r', ['R']], ['s', ['S']], ['t', ['T']], ['v', ['V']], ['w', ['W']], ['z', ['Z']],
];
const LONG_VOWEL: Readonly<Record<string, string>> = { a: 'EY', e: 'IY', i: 'AY', o: 'OW', u: 'UW' };

/**
 * Letter-to-sound fallback for a lower-case word that is not in the dictionary: a small greedy
 * grapheme rule set (digraphs, soft c/g, silent final e with the long vowel before it); words
 * without a vowel letter, and one- or two-letter words, are spelled out by letter names.
 */
export function letterToSound(word: string): string[] {
  const w = word.replace(/[^a-z]/g, '');
  if (!w) return [];
  if (w.length <= 2 || !/[aeiouy]/.test(w)) return spell(w);
  const out: string[] = [];
  const magicE = /[aeiou][^aeiouwxy]e$/.test(w) && w.length >= 4;
  const end = magicE ? w.length - 1 : w.length;
  let i = 0;
  if (w.startsWith('kn') || w.startsWith('wr')) i = 1;
  while (i < end) {
    const c = w[i]!;
    const next = w[i + 1] ?? '';
    if (magicE && i === end - 2 && LONG_VOWEL[c]) { out.push(LONG_VOWEL[c]!); i++; continue; }
    if (c === 'c') { out.push(/[eiy]/.test(next) ? 'S' : 'K'); i += next === 'c' ? 2 : 1; continue; }
    if (c === 'y') { out.push(i === 0 ? 'Y' : i === end - 1 ? 'IY' : 'IH'); i++; continue; }
    if (c === next && !/[aeiou]/.test(c)) { i++; continue; } // doubled consonant: one sound
    if (c === 'e' && i === end - 1 && end === w.length && out.some((p) => ARPABET_VOWELS.has(p))) { i++; continue; } // silent final e
    const rule = RULES.find(([g]) => w.startsWith(g, i) && i + g.length <= end);
    if (!rule) { i++; continue; }
    out.push(...rule[1]);
    i += rule[0].length;
  }
  return out.some((p) => ARPABET_VOWELS.has(p)) ? out : spell(w);
}

/** Letter-by-letter spelling. */
export function spell(word: string): string[] {
  return [...word].flatMap((c) => LETTER_NAMES[c] ?? []);
}
