import { ARPABET_VOWELS, type CmuLexicon, letterToSound, spell } from './lexicon.ts';
import { numberToWords } from './numbers.ts';

/**
 * English text → IPA in the form espeak-ng gives Piper voices (en-us), without espeak-ng (GPL):
 * CMUdict pronunciations (letter-to-sound rules for the rest), numbers spelled out, ARPAbet mapped
 * to espeak's IPA symbols, stress marks `ˈ`/`ˌ` right before the stressed vowel, flapped t/d
 * between vowels, punctuation kept as Piper's phoneme maps expect.
 */

/** ARPAbet (no stress digit) → IPA; vowels whose quality depends on stress are handled in code. */
const IPA: Readonly<Record<string, string>> = Object.freeze({
  AA: 'ɑː', AE: 'æ', AO: 'ɔː', AW: 'aʊ', AY: 'aɪ', EH: 'ɛ', EY: 'eɪ', IH: 'ɪ', IY: 'iː', OW: 'oʊ', OY: 'ɔɪ',
  UH: 'ʊ', UW: 'uː', B: 'b', CH: 'tʃ', D: 'd', DH: 'ð', F: 'f', G: 'ɡ', HH: 'h', JH: 'dʒ', K: 'k', L: 'l',
  M: 'm', N: 'n', NG: 'ŋ', P: 'p', R: 'ɹ', S: 's', SH: 'ʃ', T: 't', TH: 'θ', V: 'v', W: 'w', Y: 'j', Z: 'z', ZH: 'ʒ',
});

/** Words espeak-ng leaves unstressed in running speech. */
const FUNCTION_WORDS: ReadonlySet<string> = new Set(('a an the and or but nor of to in at for with from by as into onto upon ' +
  'is are was were be been am it its he she we they you me him her us them my your his our their that than so if ' +
  'do does can will would shall should could has have had there this these those some').split(' '));
/** Unstressed prefixes: a first-syllable IH in them leaves the stress to a later vowel (return, before). */
const UNSTRESSED_PREFIX = /^(re|be|de|pre|e|ex|in|im|en|em)[^aeiou]/;

/** One whitespace-separated word of the input and its phonemes (may contain spaces for expansions like numbers). */
export interface PhonemizedWord {
  /** The word as written in the input. */
  text: string;
  /** IPA, one Unicode code point per Piper phoneme; empty when nothing is pronounced. */
  phonemes: string;
}

/** A phone with its stress: 1 primary, 2 secondary, 0 none (consonants: -1). */
interface Phone {
  arpa: string;
  stress: number;
}

function toPhones(arpabet: readonly string[], word: string, unstressedWord: boolean): Phone[] {
  const phones = arpabet.map((p) => {
    const m = /^([A-Z]+)([0-2])?$/.exec(p);
    const arpa = m ? m[1]! : p;
    return { arpa, stress: ARPABET_VOWELS.has(arpa) ? (m?.[2] !== undefined ? Number(m[2]) : -2) : -1 };
  });
  const vowels = phones.filter((p) => p.stress !== -1);
  if (vowels.some((p) => p.stress === -2)) {
    // No stress digits (the pocketsphinx dictionary has none): primary on the first vowel that is
    // not a schwa or a prefix's IH; -teen numbers on the last.
    for (const v of vowels) v.stress = 0;
    if (!unstressedWord && vowels.length > 0) {
      const prefixIh = UNSTRESSED_PREFIX.test(word);
      const pick = word.endsWith('teen') ? vowels[vowels.length - 1]! : vowels.find((v, i) => v.arpa !== 'AH' && !(i === 0 && prefixIh && v.arpa === 'IH') && !(i === vowels.length - 1 && i > 0 && v.arpa === 'IY'));
      (pick ?? vowels[0]!).stress = 1;
    }
  } else if (unstressedWord) for (const v of vowels) v.stress = 0;
  return phones;
}

/** ARPAbet of one dictionary-able word (letters and apostrophes, lower case). */
export function pronounce(word: string, lexicon: CmuLexicon): readonly string[] {
  const hit = lexicon.lookup(word);
  if (hit) return hit;
  if (word.endsWith("'s")) {
    const base = lexicon.lookup(word.slice(0, -2));
    if (base) return [...base, /[SZ]H?$|CH$|JH$/.test(base[base.length - 1] ?? '') ? 'IH0' : /[PTKF]$|TH$/.test(base[base.length - 1] ?? '') ? 'S' : 'Z'];
  }
  return letterToSound(word);
}

/** IPA of a phone sequence (one word). */
export function phonesToIpa(phones: readonly Phone[]): string {
  let out = '';
  const multiSyllable = phones.filter((p) => p.stress !== -1).length > 1;
  phones.forEach((p, i) => {
    const prev = phones[i - 1];
    const next = phones[i + 1];
    if (p.stress === -1) {
      // en-us flap: t/d after a vowel (or r-coloured vowel) and before an unstressed vowel.
      const flap = p.arpa === 'T' && prev && (prev.stress !== -1 || prev.arpa === 'R') && next && next.stress === 0;
      out += flap ? 'ɾ' : IPA[p.arpa] ?? '';
      return;
    }
    const mark = p.stress === 1 ? 'ˈ' : p.stress === 2 ? 'ˌ' : '';
    let v = IPA[p.arpa] ?? '';
    if (p.arpa === 'AH') v = p.stress > 0 ? 'ʌ' : 'ə';
    else if (p.arpa === 'ER') v = p.stress > 0 ? 'ɜː' : 'ɚ';
    else if (p.arpa === 'IY' && p.stress === 0 && multiSyllable) v = 'i';
    out += mark + v;
  });
  return out;
}

/** The IPA of one whitespace-free token (a number, a word, a hyphenated compound, with punctuation). */
function phonemizeToken(token: string, lexicon: CmuLexicon): string {
  let out = '';
  const addWord = (ipa: string) => {
    if (ipa) out += out ? ` ${ipa}` : ipa;
  };
  // Numbers, words and punctuation in order; other symbols are dropped.
  for (const m of token.matchAll(/(\d[\d,]*(?:\.\d+)?(?:st|nd|rd|th)?)|([A-Za-z]+(?:'[A-Za-z]+)*)|([.,;:!?])/g)) {
    if (m[1]) {
      const trailingComma = m[1].endsWith(',');
      for (const w of numberToWords(trailingComma ? m[1].slice(0, -1) : m[1])) addWord(phonesToIpa(toPhones(pronounce(w, lexicon), w, false)));
      if (trailingComma && out) out += ',';
    } else if (m[2]) {
      const raw = m[2];
      const lower = raw.toLowerCase();
      // Short all-capital tokens not in the dictionary are acronyms: spell them.
      const arpa = /^[A-Z]{2,4}$/.test(raw) && !lexicon.lookup(lower) ? spell(lower) : pronounce(lower, lexicon);
      addWord(phonesToIpa(toPhones(arpa, lower, FUNCTION_WORDS.has(lower))));
    } else if (m[3] && out) out += m[3];
  }
  return out;
}

/** Splits `text` on whitespace and phonemizes each word. */
export function phonemizeText(text: string, lexicon: CmuLexicon): PhonemizedWord[] {
  return text.split(/\s+/).filter(Boolean).map((word) => ({ text: word, phonemes: phonemizeToken(word, lexicon) }));
}
