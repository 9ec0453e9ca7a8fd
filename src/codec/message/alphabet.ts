import { DecodeError, EncodeError } from '../../core/errors.ts';

/**
 * Printable alphabets for SMS and messenger links (issue #16, facts in ../shared/notes/links.md).
 *
 * `SMS_ALPHABET` is the 77 characters `!#%()*+,-./0-9:;=?A-Za-z`, in ASCII order. Every one is in
 * the GSM 03.38 basic table (one septet each), so a 160-character part stays one SMS. Left out, on
 * purpose:
 * - `[ \ ] ^ { | } ~ €`: GSM-7 escape-table characters; they cost two septets, so a 160-character
 *   part would no longer fit one SMS, and some gateways drop or replace them;
 * - `` ` ``: not in GSM-7 at all (a gateway switches the whole SMS to UCS-2: 70 characters);
 * - `@`: GSM code 0, which C-string gateways and portals truncate at or turn into `¡` / `?`;
 * - `$ _`: remapped (`¤`, `§`) by gateways that treat the basic table as Latin-1;
 * - `" '`, `& < >`: quoted, escaped or stripped by web portals and e-mail bridges (HTML, CSV);
 * - space and line breaks: phones and bridges add, fold and trim whitespace, so the decoder ignores
 *   all of it instead of reading it;
 * - the accented letters and Greek capitals of GSM-7: transliterated by gateways that are not
 *   GSM-7-native.
 *
 * Bytes become characters by big-integer base conversion (≈ 6.27 bits per character: 125 bytes in
 * 160 characters, against 119 for base64). The first character of a base-77 part is never `!`
 * (see {@link encodeBase77}), so a part beginning with `!` is the base64 fallback without padding
 * (A–Z a–z 0–9 + /, also all GSM-7 basic), for a channel that mangles one of the punctuation marks.
 */
export const SMS_ALPHABET = '!#%()*+,-./0123456789:;=?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BASE = 77n;
const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/** First character of a base64 (fallback) part. */
export const BASE64_MARKER = '!';
/** Longest text either converter accepts, characters (a few SMS parts; bounds BigInt work). */
export const MAX_ALPHABET_TEXT_CHARS = 4096;

const DIGIT = new Map([...SMS_ALPHABET].map((c, i) => [c, i]));
const B64_DIGIT = new Map([...BASE64_ALPHABET].map((c, i) => [c, i]));

// 77^k as BigInt, grown on demand (bounded by MAX_ALPHABET_TEXT_CHARS).
const POW77: bigint[] = [1n];
function pow77(k: number): bigint {
  while (POW77.length <= k) POW77.push(POW77[POW77.length - 1]! * BASE);
  return POW77[k]!;
}

/**
 * Characters of a base-77 part carrying `bytes` bytes, at most: the least L with 77^L ≥ 256^bytes
 * (a part whose leading byte is small may need one character less, see {@link encodeBase77}).
 */
export function base77CharsForBytes(bytes: number): number {
  const need = 1n << BigInt(8 * bytes);
  let chars = Math.max(0, Math.floor((8 * bytes) / Math.log2(77)) - 1);
  while (pow77(chars) < need) chars++;
  while (chars > 0 && pow77(chars - 1) >= need) chars--;
  return chars;
}

/** Bytes an L-character base-77 part carries whatever they are: the greatest B with 256^B ≤ 77^L. */
export function base77BytesForChars(chars: number): number {
  const cap = pow77(Math.max(0, chars));
  let bytes = Math.floor((chars * Math.log2(77)) / 8) + 1;
  while (bytes > 0 && 1n << BigInt(8 * bytes) > cap) bytes--;
  return bytes;
}

/**
 * Bytes → base-77 text: the big-endian value of the bytes in the fewest base-77 digits. The first
 * byte of every part is non-zero (a message header starts `01`, a part header `1`: ./header.ts,
 * ./parts.ts), so the value alone gives the byte count back and no length needs coding: the text
 * is as short as the value allows (version 1 reserved room for any byte string of its length, and
 * lost ≈ 0.3 character per part). The first digit of such a value is never 0 (`!`, the base64
 * marker). EncodeError `invalid_value` for an empty input or a leading zero byte.
 */
export function encodeBase77(bytes: Uint8Array): string {
  if (bytes.length === 0 || bytes[0] === 0) throw new EncodeError('invalid_value', 'base-77 text carries byte strings that start with a non-zero byte (every message part does)');
  const chars = base77CharsForBytes(bytes.length);
  if (chars > MAX_ALPHABET_TEXT_CHARS) throw new EncodeError('too_large', `${bytes.length} bytes need ${chars} characters; the limit is ${MAX_ALPHABET_TEXT_CHARS}`);
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  const out: string[] = [];
  for (; v > 0n; v /= BASE) out.push(SMS_ALPHABET[Number(v % BASE)]!);
  return out.reverse().join('');
}

/** Base-77 text (no whitespace) → bytes. DecodeError `malformed` for a foreign character or a leading `!`. */
export function decodeBase77(text: string): Uint8Array {
  if (text.length === 0) throw new DecodeError('truncated', 'empty base-77 text');
  if (text.length > MAX_ALPHABET_TEXT_CHARS) throw new DecodeError('too_large', `base-77 text of ${text.length} characters exceeds ${MAX_ALPHABET_TEXT_CHARS}`);
  let v = 0n;
  for (let i = 0; i < text.length; i++) {
    const d = DIGIT.get(text[i]!);
    if (d === undefined) throw new DecodeError('malformed', `character ${JSON.stringify(text[i])} at ${i} is not in the SMS alphabet`, { position: i });
    if (i === 0 && d === 0) throw new DecodeError('malformed', 'a base-77 part never starts with "!" (that marks base64)');
    v = v * BASE + BigInt(d);
  }
  const out: number[] = [];
  for (; v > 0n; v >>= 8n) out.push(Number(v & 0xffn));
  return Uint8Array.from(out.reverse());
}

/** Bytes → base64 without padding (RFC 4648 §4 alphabet). */
export function encodeBase64NoPad(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += BASE64_ALPHABET[v >> 18]! + BASE64_ALPHABET[(v >> 12) & 63]! + BASE64_ALPHABET[(v >> 6) & 63]! + BASE64_ALPHABET[v & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const v = bytes[i]! << 16;
    out += BASE64_ALPHABET[v >> 18]! + BASE64_ALPHABET[(v >> 12) & 63]!;
  } else if (rest === 2) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += BASE64_ALPHABET[v >> 18]! + BASE64_ALPHABET[(v >> 12) & 63]! + BASE64_ALPHABET[(v >> 6) & 63]!;
  }
  return out;
}

/** Strict base64 without padding → bytes: foreign characters, an impossible length or non-zero spare bits are `malformed`. */
export function decodeBase64NoPad(text: string): Uint8Array {
  if (text.length > MAX_ALPHABET_TEXT_CHARS) throw new DecodeError('too_large', `base64 text of ${text.length} characters exceeds ${MAX_ALPHABET_TEXT_CHARS}`);
  if (text.length % 4 === 1) throw new DecodeError('malformed', `base64 text of ${text.length} characters: a character is missing or extra`);
  const out = new Uint8Array(Math.floor((text.length * 6) / 8));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const d = B64_DIGIT.get(text[i]!);
    if (d === undefined) throw new DecodeError('malformed', `character ${JSON.stringify(text[i])} at ${i} is not base64`, { position: i });
    acc = ((acc << 6) | d) & 0xfff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) throw new DecodeError('malformed', 'base64 text has non-zero spare bits (a character was changed?)');
  return out;
}

/** Bytes a base64 text of `chars` characters carries. */
export function base64BytesForChars(chars: number): number {
  return chars % 4 === 1 ? Math.floor(((chars - 1) * 6) / 8) : Math.floor((chars * 6) / 8);
}
