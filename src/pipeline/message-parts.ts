import { appendFile, readFile, stat } from 'node:fs/promises';
import { decodePart, MessageIncompleteError, profileHash16, reassembleMessage, smsToPart, splitSmsText, SMS_ALPHABET, MAX_SMS_INPUT_CHARS, type MessagePart } from '../codec/message/index.ts';
import { COMPACT_PROFILE_BYTES, SPEAKER_PROFILE_BYTES } from '../codec/speaker/index.ts';
import { DecodeError, StctsError } from '../core/errors.ts';

/** Largest part file read (a raw message is at most 64 KiB + its header). */
const MAX_PART_FILE_BYTES = 64 * 1024 + 16;
/** Largest known-profiles file read. */
const MAX_PROFILES_FILE_BYTES = 1024 * 1024;

/** How an input is read: SMS text (one or more parts) or one binary part; `auto` looks at the bytes. */
export type PartFormat = 'auto' | 'sms' | 'binary';

/** A part as received, with its size on the channel. */
export interface ReceivedPart {
  part: MessagePart;
  /** Where it came from (file name, `stdin`), for messages. */
  source: string;
  /** Bytes of the part (header included). */
  bytes: number;
  /** For SMS text: its characters (whitespace not counted). */
  chars?: number;
}

export class MessageInputError extends StctsError {
  constructor(code: 'not_found' | 'too_large' | 'empty', message: string) {
    super(code, message);
  }
}

const SMS_CHARS = new Set([...SMS_ALPHABET]);

/** True when `bytes` reads as pasted SMS text: SMS-alphabet characters and whitespace only. */
export function looksLikeSmsText(bytes: Uint8Array): boolean {
  let letters = 0;
  for (const b of bytes) {
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue;
    if (!SMS_CHARS.has(String.fromCharCode(b))) return false;
    letters++;
  }
  return letters > 0;
}

/**
 * Parses SMS text into parts; a part that does not decode is reported with its line. One part per
 * line is tried first and kept when those parts fit together (so a short part received twice is not
 * joined to its copy); otherwise lines a phone broke are joined (splitSmsText `join`).
 */
export function partsFromSmsText(text: string, source: string): ReceivedPart[] {
  let lines: ReceivedPart[] | undefined;
  try {
    lines = smsParts(splitSmsText(text, 'lines'), source);
    reassembleMessage(lines.map((r) => r.part));
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    if (!(err instanceof MessageIncompleteError)) lines = undefined;
  }
  return lines ?? smsParts(splitSmsText(text, 'join'), source);
}

function smsParts(texts: string[], source: string): ReceivedPart[] {
  return texts.map((t, i) => {
    let bytes: Uint8Array;
    try {
      bytes = smsToPart(t);
    } catch (err) {
      if (err instanceof DecodeError) throw new DecodeError(err.code, `${source}, part text ${i + 1} (${t.slice(0, 12)}…): ${err.message}`, err.details);
      throw err;
    }
    return { part: decodePart(bytes), source, bytes: bytes.length, chars: t.length };
  });
}

/** Reads one input: an SMS text file (any number of parts) or one binary part. */
export function partsFromBytes(bytes: Uint8Array, source: string, format: PartFormat = 'auto'): ReceivedPart[] {
  if (bytes.length === 0) throw new MessageInputError('empty', `${source} is empty`);
  const asText = format === 'sms' || (format === 'auto' && looksLikeSmsText(bytes));
  if (asText) {
    if (bytes.length > MAX_SMS_INPUT_CHARS * 4) throw new DecodeError('too_large', `${source}: ${bytes.length} bytes of text is not a few SMS`);
    return partsFromSmsText(new TextDecoder().decode(bytes), source);
  }
  return [{ part: decodePart(bytes), source, bytes: bytes.length }];
}

/** Reads the inputs of `message decode` / `inspect` (files; `-` = stdin as text). */
export async function readPartInputs(inputs: readonly string[], format: PartFormat = 'auto', stdin: () => Promise<Uint8Array> = readStdin): Promise<ReceivedPart[]> {
  const out: ReceivedPart[] = [];
  for (const input of inputs.length ? inputs : ['-']) {
    if (input === '-') {
      out.push(...partsFromBytes(await stdin(), 'stdin', format === 'auto' ? 'sms' : format));
      continue;
    }
    out.push(...partsFromBytes(await readBounded(input, MAX_PART_FILE_BYTES), input, format));
  }
  return out;
}

async function readBounded(path: string, max: number): Promise<Uint8Array> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (err) {
    throw new MessageInputError('not_found', `cannot read ${path}: ${(err as Error).message}`);
  }
  if (size > max) throw new MessageInputError('too_large', `${path} is ${size} bytes; a message part is at most ${max}`);
  return new Uint8Array(await readFile(path));
}

async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of process.stdin) {
    const b = c as Buffer;
    n += b.length;
    if (n > MAX_SMS_INPUT_CHARS * 4) throw new MessageInputError('too_large', 'more than a few SMS of text on stdin');
    chunks.push(b);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/**
 * Known-profiles file (`--known-profiles`): one speaker profile per line as 24 (compact) or 64 hex digits, then
 * optionally a space and a label; `#` starts a comment. Both ends keep one: the receiver's lists
 * the profiles it holds, the sender's the ones it knows the receiver holds.
 */
export async function readKnownProfiles(path: string): Promise<Uint8Array[]> {
  const text = new TextDecoder().decode(await readBounded(path, MAX_PROFILES_FILE_BYTES));
  const out: Uint8Array[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const hex = line.replace(/#.*/, '').trim().split(/\s+/)[0] ?? '';
    if (hex === '') return;
    if (!/^[0-9a-fA-F]+$/.test(hex) || (hex.length !== SPEAKER_PROFILE_BYTES * 2 && hex.length !== COMPACT_PROFILE_BYTES * 2)) {
      throw new DecodeError('malformed', `${path}:${i + 1}: a known profile is ${COMPACT_PROFILE_BYTES * 2} or ${SPEAKER_PROFILE_BYTES * 2} hex digits`);
    }
    out.push(Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16)));
  });
  return out;
}

/** Known profiles by profileHash16 (messages carry its low 12 bits: decodeMessage resolves them). */
export function knownProfileMap(profiles: readonly Uint8Array[]): Map<number, Uint8Array> {
  return new Map(profiles.map((p) => [profileHash16(p), p]));
}

export function profileHex(profile: Uint8Array): string {
  return Array.from(profile, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Adds a profile to a known-profiles file unless it is already there. Returns whether it was added. */
export async function rememberProfile(path: string, profile: Uint8Array, label = ''): Promise<boolean> {
  let have: Uint8Array[] = [];
  try {
    have = await readKnownProfiles(path);
  } catch (err) {
    if (!(err instanceof MessageInputError && err.code === 'not_found')) throw err;
  }
  const hex = profileHex(profile);
  if (have.some((p) => profileHex(p) === hex)) return false;
  await appendFile(path, `${hex}${label ? ` ${label}` : ''}\n`);
  return true;
}
