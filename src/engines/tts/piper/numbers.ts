const ONES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve',
  'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
const SCALES: ReadonlyArray<readonly [number, string]> = [[1e12, 'trillion'], [1e9, 'billion'], [1e6, 'million'], [1e3, 'thousand']];
const ORDINAL_IRREGULAR: Readonly<Record<string, string>> = { one: 'first', two: 'second', three: 'third', five: 'fifth', eight: 'eighth', nine: 'ninth', twelve: 'twelfth' };

function below1000(n: number): string[] {
  const out: string[] = [];
  if (n >= 100) {
    out.push(ONES[Math.floor(n / 100)]!, 'hundred');
    n %= 100;
  }
  if (n >= 20) {
    out.push(TENS[Math.floor(n / 10)]!);
    if (n % 10) out.push(ONES[n % 10]!);
  } else if (n > 0 || out.length === 0) out.push(ONES[n]!);
  return out;
}

/** A non-negative integer (< 10^15) in English words: 1205 → "one thousand two hundred five". */
export function integerToWords(n: number): string[] {
  if (!Number.isSafeInteger(n) || n < 0 || n >= 1e15) return [...String(n)].map((d) => ONES[Number(d)] ?? '').filter(Boolean);
  if (n < 1000) return below1000(n);
  const out: string[] = [];
  let rest = n;
  for (const [value, name] of SCALES) {
    if (rest >= value) {
      out.push(...below1000(Math.floor(rest / value)), name);
      rest %= value;
    }
  }
  if (rest > 0) out.push(...below1000(rest));
  return out;
}

/** An ordinal ("21st" → "twenty first"), given the cardinal number. */
export function ordinalToWords(n: number): string[] {
  const words = integerToWords(n);
  const last = words[words.length - 1]!;
  const irregular = ORDINAL_IRREGULAR[last];
  words[words.length - 1] = irregular ?? (last.endsWith('y') ? `${last.slice(0, -1)}ieth` : `${last}th`);
  return words;
}

/**
 * A number token as words: integers with optional thousands commas, decimals digit by digit
 * after "point", ordinals (1st, 2nd, 3rd, 4th), 4-digit years 1100–1999 read in pairs
 * ("1984" → "nineteen eighty four"). Returns [] when the token is not a number.
 */
export function numberToWords(token: string): string[] {
  const ord = /^(\d+)(st|nd|rd|th)$/i.exec(token);
  if (ord) return ordinalToWords(Number(ord[1]));
  if (!/^\d[\d,]*(\.\d+)?$/.test(token)) return [];
  const [intPart, frac] = token.replace(/,/g, '').split('.');
  const n = Number(intPart);
  let words: string[];
  if (!frac && !token.includes(',') && intPart!.length === 4 && n >= 1100 && n <= 1999 && n % 100 !== 0) {
    const lo = n % 100;
    words = [...below1000(Math.floor(n / 100)), ...(lo < 10 ? ['oh', ONES[lo]!] : below1000(lo))];
  } else words = intPart!.length > 15 ? [...intPart!].map((d) => ONES[Number(d)]!) : integerToWords(n);
  if (frac) words.push('point', ...[...frac].map((d) => ONES[Number(d)]!));
  return words;
}
