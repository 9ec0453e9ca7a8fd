import { concatBytes } from '../../core/bytes.ts';
import { DecodeError, EncodeError } from '../../core/errors.ts';

/**
 * Parts of a voice message (issue #16). A part whose first bit is
 * - 0 is a whole message (its header starts with a 0 bit, ./header.ts): no part header at all. It
 *   needs no reassembly and no id (copies are recognized by their bytes);
 * - 1 starts with `1iiiiiii nnnnkkkk`: part k (0-based) of n = nnnn + 1 (2..16) of the message with
 *   the 7-bit id i, then the next slice of the message: 2 bytes of header.
 * Non-final parts are always filled to the channel's capacity (the SMS reader relies on it to join
 * a part a phone broke over several lines, see ./channels.ts).
 */
export const MAX_PARTS = 16;
/** Largest message id (7 bits). */
export const MAX_MESSAGE_ID = 0x7f;

export interface MessagePart {
  /** 0..{@link MAX_MESSAGE_ID}: tells parts of different messages apart; undefined for a single-part message. */
  messageId: number | undefined;
  /** 0-based. */
  index: number;
  /** 1..{@link MAX_PARTS}. */
  count: number;
  payload: Uint8Array;
}

/** Bytes of a part's header. */
export function partHeaderBytes(count: number): number {
  return count === 1 ? 0 : 2;
}

export function encodePart(p: MessagePart): Uint8Array {
  if (!Number.isInteger(p.count) || p.count < 1 || p.count > MAX_PARTS || !Number.isInteger(p.index) || p.index < 0 || p.index >= p.count) {
    throw new EncodeError('invalid_value', `part ${p.index} of ${p.count} (at most ${MAX_PARTS} parts)`);
  }
  if (p.count === 1) {
    if (p.payload.length === 0 || (p.payload[0]! & 0x80) !== 0) throw new EncodeError('invalid_value', 'a single-part message must start with a 0 bit (a message header)');
    return p.payload.slice();
  }
  const id = p.messageId ?? -1;
  if (!Number.isInteger(id) || id < 0 || id > MAX_MESSAGE_ID) throw new EncodeError('invalid_value', `message id ${p.messageId} outside 0..${MAX_MESSAGE_ID}`);
  const header = [0x80 | id, ((p.count - 1) << 4) | p.index];
  const out = new Uint8Array(header.length + p.payload.length);
  out.set(header, 0);
  out.set(p.payload, header.length);
  return out;
}

/** Reads a part's header. DecodeError `truncated` / `malformed`; the payload is a copy. */
export function decodePart(bytes: Uint8Array): MessagePart {
  if (bytes.length < 2) throw new DecodeError('truncated', `a message part has at least 2 bytes; got ${bytes.length}`);
  const b0 = bytes[0]!;
  if ((b0 & 0x80) === 0) return { messageId: undefined, index: 0, count: 1, payload: bytes.slice() };
  const b1 = bytes[1]!;
  const count = (b1 >> 4) + 1;
  const index = b1 & 15;
  if (count < 2) throw new DecodeError('malformed', 'a multi-part header with a part count of 1');
  if (index >= count) throw new DecodeError('malformed', `part ${index + 1} of ${count}: index beyond the count`);
  if (bytes.length < 3) throw new DecodeError('truncated', `part ${index + 1} of ${count} carries no data`);
  return { messageId: b0 & 0x7f, index, count, payload: bytes.slice(2) };
}

/**
 * Splits a message into the fewest parts of at most `maxPartBytes` bytes (headers included),
 * filling every part but the last. EncodeError `too_large` beyond {@link MAX_PARTS} parts.
 */
export function splitMessage(message: Uint8Array, maxPartBytes: number, messageId: number): MessagePart[] {
  if (!Number.isInteger(maxPartBytes) || maxPartBytes < 3) throw new EncodeError('invalid_value', `parts of ${maxPartBytes} bytes are too small`);
  if (message.length === 0) throw new EncodeError('invalid_value', 'empty message');
  if (message.length <= maxPartBytes) return [{ messageId: undefined, index: 0, count: 1, payload: message.slice() }];
  const per = maxPartBytes - 2;
  const count = Math.ceil(message.length / per);
  if (count > MAX_PARTS) {
    throw new EncodeError('too_large', `the message needs ${count} parts of ${maxPartBytes} bytes; at most ${MAX_PARTS} are allowed (send a shorter recording, or several)`, { parts: count });
  }
  return Array.from({ length: count }, (_, index) => ({ messageId, index, count, payload: message.slice(index * per, (index + 1) * per) }));
}

/**
 * A message with parts missing. `code` is `truncated`; `missingParts` are 1-based part numbers.
 * `prefix` holds the parts before the first gap, joined (decodable with `prefixOnly`).
 */
export class MessageIncompleteError extends DecodeError {
  readonly missingParts: number[];
  readonly partCount: number;
  readonly messageId: number | undefined;
  readonly prefix: Uint8Array;
  constructor(messageId: number | undefined, partCount: number, missingParts: number[], prefix: Uint8Array) {
    super('truncated', `message ${messageId}: part${missingParts.length > 1 ? 's' : ''} ${missingParts.join(', ')} of ${partCount} missing; give every part (or decode the phrases before the gap with --partial)`, { messageId, partCount, missingParts });
    this.missingParts = missingParts;
    this.partCount = partCount;
    this.messageId = messageId;
    this.prefix = prefix;
  }
}

/** The result of joining parts: the message bytes, and how many parts were duplicates. */
export interface Reassembled {
  messageId: number | undefined;
  count: number;
  message: Uint8Array;
  /** Byte offset in `message` where each part starts (index order). */
  partOffsets: number[];
  duplicates: number;
}

/**
 * Joins the parts of one message, in any order; exact duplicates are ignored. DecodeError
 * `malformed` for parts of several messages or conflicting copies of a part;
 * {@link MessageIncompleteError} naming the missing parts.
 */
export function reassembleMessage(parts: readonly MessagePart[]): Reassembled {
  if (parts.length === 0) throw new DecodeError('truncated', 'no message parts given');
  // Single-part messages have no id: tell them apart by content.
  const ids = [...new Set(parts.map((p) => p.messageId ?? `single:${Array.from(p.payload).join(',')}`))];
  if (ids.length > 1) throw new DecodeError('malformed', `the parts belong to ${ids.length} different messages; decode one message at a time`, { messages: ids.length });
  const counts = [...new Set(parts.map((p) => p.count))];
  if (counts.length > 1) throw new DecodeError('malformed', `parts of message ${ids[0]} disagree on the part count (${counts.join(' vs ')})`);
  const count = counts[0]!;
  const byIndex = new Map<number, Uint8Array>();
  let duplicates = 0;
  for (const p of parts) {
    const have = byIndex.get(p.index);
    if (!have) byIndex.set(p.index, p.payload);
    else if (sameBytes(have, p.payload)) duplicates++;
    else throw new DecodeError('malformed', `two different copies of part ${p.index + 1} of ${count}`);
  }
  const missing: number[] = [];
  for (let i = 0; i < count; i++) if (!byIndex.has(i)) missing.push(i + 1);
  if (missing.length > 0) {
    const prefixParts: Uint8Array[] = [];
    for (let i = 0; byIndex.has(i); i++) prefixParts.push(byIndex.get(i)!);
    throw new MessageIncompleteError(parts[0]!.messageId, count, missing, concatBytes(prefixParts));
  }
  const ordered = Array.from({ length: count }, (_, i) => byIndex.get(i)!);
  const partOffsets: number[] = [];
  let at = 0;
  for (const p of ordered) {
    partOffsets.push(at);
    at += p.length;
  }
  return { messageId: parts[0]!.messageId, count, message: concatBytes(ordered), partOffsets, duplicates };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
