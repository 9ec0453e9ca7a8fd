import type { AckPayload, Frame } from '../codec/frame/index.ts';
import { decodeItemBody, encodeFrameItem, readItemHeader, type FrameContext } from '../codec/frame/index.ts';
import { DecodeError } from '../core/errors.ts';
import { decodeItems, decodePacket, MAX_PACKET_BYTES } from './packet.ts';

/**
 * The compact link packet (issue #14: a link layer frugal in bits). A full packet (src/transport/packet.ts)
 * spends ~12 bytes on its first frame's envelope (session id, seq, time); on a 300 bit/s link
 * at a phrase every 4 s that alone was ~25 bit/s. A compact packet starts with one header byte
 * (always odd: a full packet's first byte is an item header of a non-bare frame, always even):
 *
 * ```
 * byte 0   bit 0   1 (compact)
 *          bit 1   A: an acknowledgement follows
 *          bit 2   T: the data's time follows (else: the time of frame seq0 − 1, which the peer has acknowledged)
 *          bit 3   F: the full session id follows (else: the session is named by its 3-bit tag)
 *          bit 4   S: the ack carries a SACK bitmap (else: no frame beyond `cumulative` was received)
 *          bits 5-7 tag = session id & 7
 * [session id]   varint, if F
 * [cumulative]   varint, if A      (next seq the acknowledging side expects)
 * [sack]         varint ≤ 64 bits, if A and S (bit i: seq cumulative + 1 + i received)
 * [seq0]         varint, if any data follows (bytes remain)
 * [time]         varint, if T
 * items…         stream items (src/codec/frame/stream.ts) with the context {session, seq0, time}:
 *                a phrase's LM text then costs 1 byte of framing.
 * ```
 * An ack-only packet is 2 bytes; a phrase packet 3 bytes + its text. NACKs are implied by the SACK
 * bitmap (every seq from `cumulative` to the highest SACKed one that is not SACKed). The 1-byte
 * packet `0x01` carries nothing: links may use it as a keepalive.
 */

const COMPACT = 0x01;
const HAS_ACK = 0x02;
const HAS_TIME = 0x04;
const HAS_SESSION = 0x08;
const HAS_SACK = 0x10;
const TAG_SHIFT = 5;
export const SESSION_TAG_MASK = 7;

/** The session tag of a session id (what a compact packet names its session by). */
export const sessionTagOf = (sessionId: number): number => sessionId & SESSION_TAG_MASK;

/** A compact packet's header, parsed without any session state. */
export interface CompactHeader {
  tag: number;
  sessionId?: number;
  ack?: AckPayload;
  /** Seq of the first data frame, when data follows. */
  seq0?: number;
  /** The data's time, when explicit (T). */
  time?: number;
  /** Offset of the first data item. */
  itemsOffset: number;
}

export const isCompactPacket = (bytes: Uint8Array): boolean => bytes.length > 0 && (bytes[0]! & COMPACT) === COMPACT;

function writeVarint(out: number[], v: number | bigint): void {
  let x = BigInt(v);
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
}

function readVarint(bytes: Uint8Array, pos: number, maxBytes: number): { value: bigint; next: number } {
  let v = 0n;
  let shift = 0n;
  for (let i = 0; i < maxBytes; i++) {
    if (pos + i >= bytes.length) throw new DecodeError('truncated', 'link packet ends inside its header');
    const b = bytes[pos + i]!;
    v |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return { value: v, next: pos + i + 1 };
    shift += 7n;
  }
  throw new DecodeError('malformed', 'link packet header field too long');
}

const readU32 = (bytes: Uint8Array, pos: number): { value: number; next: number } => {
  const r = readVarint(bytes, pos, 5);
  if (r.value > 0xffff_ffffn) throw new DecodeError('malformed', 'link packet header field exceeds 32 bits');
  return { value: Number(r.value), next: r.next };
};

/** Implied NACKs of a compact ack: seqs from `cumulative` up to the highest SACKed one that were not SACKed. */
export function impliedNacks(cumulative: number, sack: bigint, max = 16): number[] {
  if (sack === 0n) return [];
  let highest = -1;
  for (let i = 63; i >= 0; i--) if ((sack >> BigInt(i)) & 1n) { highest = i; break; }
  const out: number[] = [cumulative];
  for (let i = 0; i < highest && out.length < max; i++) if (((sack >> BigInt(i)) & 1n) === 0n) out.push(cumulative + 1 + i);
  return out;
}

/** Parses a compact packet's header (throws DecodeError on a malformed one). */
export function readCompactHeader(bytes: Uint8Array): CompactHeader {
  if (bytes.length > MAX_PACKET_BYTES) throw new DecodeError('too_large', `packet of ${bytes.length} bytes exceeds ${MAX_PACKET_BYTES}`);
  if (!isCompactPacket(bytes)) throw new DecodeError('malformed', 'not a compact link packet');
  const b0 = bytes[0]!;
  const h: CompactHeader = { tag: b0 >> TAG_SHIFT, itemsOffset: 1 };
  let pos = 1;
  if (b0 & HAS_SESSION) {
    const r = readU32(bytes, pos);
    if ((r.value & SESSION_TAG_MASK) !== h.tag) throw new DecodeError('malformed', 'session id does not match the packet tag');
    h.sessionId = r.value;
    pos = r.next;
  }
  if (b0 & HAS_ACK) {
    const c = readU32(bytes, pos);
    pos = c.next;
    let sack = 0n;
    if (b0 & HAS_SACK) {
      const s = readVarint(bytes, pos, 10);
      if (s.value >= 1n << 64n) throw new DecodeError('malformed', 'SACK bitmap exceeds 64 bits');
      sack = s.value;
      pos = s.next;
    }
    h.ack = { type: 'ack', cumulative: c.value, sack, nack: impliedNacks(c.value, sack) };
  } else if (b0 & HAS_SACK) throw new DecodeError('malformed', 'SACK flag without an ack');
  if (pos < bytes.length) {
    const s = readU32(bytes, pos);
    h.seq0 = s.value;
    pos = s.next;
    if (b0 & HAS_TIME) {
      const t = readU32(bytes, pos);
      h.time = t.value;
      pos = t.next;
    }
    if (pos >= bytes.length) throw new DecodeError('truncated', 'link packet has a seq but no frame');
  } else if (b0 & HAS_TIME) throw new DecodeError('truncated', 'link packet has a time but no frame');
  h.itemsOffset = pos;
  return h;
}

/** Decodes a compact packet's frames once the session and the data's time are known. Total: frames before an error are kept. */
export function decodeCompactItems(bytes: Uint8Array, h: CompactHeader, sessionId: number, time: number): { frames: Frame[]; error?: DecodeError } {
  if (h.seq0 === undefined) return { frames: [] };
  return decodeItems(bytes, h.itemsOffset, { sessionId, nextSeq: h.seq0, time });
}

/**
 * Builds one compact packet: an optional ack, then frames of one session while they fit in
 * `maxBytes` (the first always fits). `explicitSession`: name the session in full (until the peer
 * is known to have it); `time`: the data's time, or undefined when the peer can imply it.
 */
export class CompactPacketBuilder {
  private readonly head: number[] = [];
  private readonly items: Uint8Array[] = [];
  private itemBytes = 0;
  private ctx: FrameContext | undefined;
  private hasData = false;
  readonly frames: Frame[] = [];
  private b0: number;

  constructor(
    readonly sessionId: number,
    readonly maxBytes: number,
    o: { explicitSession: boolean; ack?: AckPayload },
  ) {
    this.b0 = COMPACT | (sessionTagOf(sessionId) << TAG_SHIFT);
    if (o.explicitSession) {
      this.b0 |= HAS_SESSION;
      writeVarint(this.head, sessionId >>> 0);
    }
    if (o.ack) {
      this.b0 |= HAS_ACK;
      writeVarint(this.head, o.ack.cumulative);
      if (o.ack.sack !== 0n) {
        this.b0 |= HAS_SACK;
        writeVarint(this.head, o.ack.sack);
      }
    }
  }

  /** Bytes so far. */
  get bytes(): number {
    return 1 + this.head.length + this.itemBytes;
  }

  /**
   * Adds a frame if it fits; the first frame sets seq0 and whether its time is explicit
   * (`impliedTime`: the time the peer will imply, or undefined when it cannot). Returns the frame's
   * share of the packet in bytes (its item, plus the seq/time fields for the first), or 0.
   */
  tryAdd(frame: Frame, impliedTime?: number): number {
    if (frame.sessionId !== this.sessionId) return 0;
    if (!this.ctx) {
      const fields: number[] = [];
      writeVarint(fields, frame.seq);
      const explicitTime = impliedTime === undefined || impliedTime !== frame.time;
      if (explicitTime) writeVarint(fields, frame.time);
      const ctx: FrameContext = { sessionId: this.sessionId, nextSeq: frame.seq, time: frame.time };
      const item = encodeFrameItem(frame, ctx);
      const n = fields.length + item.length;
      if (this.hasData && this.bytes + n > this.maxBytes) return 0;
      this.head.push(...fields);
      if (explicitTime) this.b0 |= HAS_TIME;
      this.ctx = ctx;
      this.items.push(item);
      this.itemBytes += item.length;
      this.hasData = true;
      this.frames.push(frame);
      return n;
    }
    const saved = { ...this.ctx };
    const item = encodeFrameItem(frame, this.ctx);
    if (this.bytes + item.length > this.maxBytes) {
      this.ctx = saved;
      return 0;
    }
    this.items.push(item);
    this.itemBytes += item.length;
    this.frames.push(frame);
    return item.length;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.bytes);
    out[0] = this.b0;
    out.set(this.head, 1);
    let o = 1 + this.head.length;
    for (const p of this.items) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/** An ack-only compact packet (2 bytes when nothing beyond `cumulative` arrived). */
export function ackPacket(sessionId: number, ack: AckPayload, explicitSession: boolean): Uint8Array {
  return new CompactPacketBuilder(sessionId, 64, { explicitSession, ack }).finish();
}

/**
 * Which session a packet is for, without session state: `{ sessionId }` when the packet names it
 * (a full packet's first frame, or a compact packet with F), else `{ tag }`; undefined for a packet
 * that cannot be parsed (or the empty keepalive `0x01` with no ack).
 */
export function packetRoute(bytes: Uint8Array): { sessionId: number } | { tag: number } | undefined {
  if (bytes.length === 0) return undefined;
  try {
    if (isCompactPacket(bytes)) {
      const h = readCompactHeader(bytes);
      if (h.sessionId !== undefined) return { sessionId: h.sessionId };
      if (h.ack === undefined && h.seq0 === undefined) return undefined;
      return { tag: h.tag };
    }
    const p = readItemHeader(bytes, 0);
    if (!p || p.headerBytes + p.length > bytes.length) return undefined;
    return { sessionId: decodeItemBody(p, bytes.subarray(p.headerBytes, p.headerBytes + p.length), { sessionId: undefined, nextSeq: 0, time: 0 }).sessionId };
  } catch {
    return undefined;
  }
}

/** Resolves a route against known sessions: the session named, or the only one with that tag. */
export function resolveRoute<S>(route: ReturnType<typeof packetRoute>, sessions: ReadonlyMap<number, S>): { id: number; session: S | undefined } | undefined {
  if (!route) return undefined;
  if ('sessionId' in route) return { id: route.sessionId, session: sessions.get(route.sessionId) };
  let found: { id: number; session: S } | undefined;
  for (const [id, s] of sessions) {
    if (sessionTagOf(id) !== route.tag) continue;
    if (found) return undefined; // ambiguous: the sender must name the session in full
    found = { id, session: s };
  }
  return found;
}

/** What one packet gives the session it is for. */
export interface SessionPacket {
  frames: Frame[];
  ack?: AckPayload;
  /** `malformed`: bytes that do not parse (frames before the fault are kept); `unresolved`: a compact packet whose implied time this side lacks. */
  reject?: 'malformed' | 'unresolved';
}

/**
 * Decodes a full or compact packet for session `sessionId`; `timeOf(seq)` gives the time of a
 * frame this side received recently (ReliableReceiver.timeOf). Never throws.
 */
export function decodeForSession(bytes: Uint8Array, sessionId: number, timeOf: (seq: number) => number | undefined): SessionPacket {
  if (!isCompactPacket(bytes)) {
    const r = decodePacket(bytes);
    // A full packet names its session in its first frame: one for another session is not ours.
    const frames = r.frames.filter((f) => f.sessionId === sessionId);
    return { frames, ...(r.error || frames.length < r.frames.length ? { reject: 'malformed' as const } : {}) };
  }
  let h: CompactHeader;
  try {
    h = readCompactHeader(bytes);
  } catch {
    return { frames: [], reject: 'malformed' };
  }
  if ((h.sessionId !== undefined && h.sessionId !== sessionId) || h.tag !== sessionTagOf(sessionId)) return { frames: [], reject: 'malformed' };
  const out: SessionPacket = { frames: [], ...(h.ack ? { ack: h.ack } : {}) };
  if (h.seq0 === undefined) return out;
  const time = h.time ?? timeOf(h.seq0 - 1);
  if (time === undefined) return { ...out, reject: 'unresolved' };
  const r = decodeCompactItems(bytes, h, sessionId, time);
  out.frames = r.frames;
  if (r.error) out.reject = 'malformed';
  return out;
}
