import { concatBytes } from '../../core/bytes.ts';
import { DecodeError } from '../../core/errors.ts';
import { decodeFrameBody, encodeFrameBody } from './frame-codec.ts';
import { type Frame, type FrameContext, FORMAT_VERSION, MAX_FRAME_BYTES, newFrameContext } from './types.ts';

function writeVarint(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

/**
 * Stream items: a varint header h, then h >> 1 bytes. Even h: a protobuf `Frame` body. Odd h: a
 * *bare* TextSegment: the LM-coded bytes alone, with version, session id, seq (= next) and time
 * (= unchanged) all implied and coding `lm`. The common phrase frame thus costs 1 byte of framing
 * instead of 3 (length, payload tag, payload length): ~4 bit/s at a phrase every 4 s.
 */
export interface ItemHeader {
  bare: boolean;
  /** Body bytes after the header. */
  length: number;
  headerBytes: number;
}

/** Reads an item header at `offset`; undefined when the buffer ends inside it; `too_large` over the cap. */
export function readItemHeader(bytes: Uint8Array, offset: number): ItemHeader | undefined {
  let h = 0;
  let scale = 1;
  for (let i = 0; i < 4; i++) {
    if (offset + i >= bytes.length) return undefined;
    const b = bytes[offset + i] as number;
    h += (b & 0x7f) * scale;
    scale *= 128;
    if ((b & 0x80) === 0) {
      const length = Math.floor(h / 2);
      if (length > MAX_FRAME_BYTES) throw new DecodeError('too_large', `frame length ${length} exceeds ${MAX_FRAME_BYTES} bytes`);
      return { bare: h % 2 === 1, length, headerBytes: i + 1 };
    }
  }
  throw new DecodeError('too_large', 'frame header longer than 4 bytes');
}

/** Decodes an item's body (see {@link readItemHeader}) and advances `ctx`. */
export function decodeItemBody(header: ItemHeader, body: Uint8Array, ctx: FrameContext): Frame {
  if (!header.bare) return decodeFrameBody(body, ctx);
  if (ctx.sessionId === undefined) throw new DecodeError('malformed', 'bare text frame before any frame that names the session');
  const frame: Frame = { version: FORMAT_VERSION, sessionId: ctx.sessionId, seq: ctx.nextSeq, time: ctx.time, payload: { type: 'text', coding: 'lm', coded: body.slice() } };
  ctx.nextSeq = frame.seq + 1;
  return frame;
}

/** Encodes one frame as a stream item (header + body), bare when everything but the LM bytes is implied; advances `ctx`. */
export function encodeFrameItem(frame: Frame, ctx: FrameContext): Uint8Array {
  const p = frame.payload;
  const bare = p.type === 'text' && p.coding === 'lm' && p.contextSegments === undefined && frame.version === FORMAT_VERSION &&
    ctx.sessionId === frame.sessionId && frame.seq === ctx.nextSeq && frame.time === ctx.time && p.coded.length <= MAX_FRAME_BYTES;
  let body: Uint8Array;
  if (bare) {
    body = p.coded;
    ctx.nextSeq = frame.seq + 1;
  } else {
    body = encodeFrameBody(frame, ctx);
  }
  const header: number[] = [];
  writeVarint(header, body.length * 2 + (bare ? 1 : 0));
  const out = new Uint8Array(header.length + body.length);
  out.set(header, 0);
  out.set(body, header.length);
  return out;
}

/** One encoded frame with its size on the wire (length prefix included). */
export interface EncodedFrame {
  frame: Frame;
  bytes: Uint8Array;
  /** Envelope + length prefix bytes (wire bytes minus the payload's own content). */
  wireBytes: number;
}

/**
 * Writes frames as one contiguous length-delimited stream (a .stc file or a socket stream),
 * leaving out implied envelope fields.
 */
export class FrameStreamWriter {
  private readonly ctx: FrameContext = newFrameContext();

  /** Encodes one frame as a stream item ({@link encodeFrameItem}). */
  write(frame: Frame): Uint8Array {
    return encodeFrameItem(frame, this.ctx);
  }
}

/** A frame decoded from a stream, or the reason one was skipped. */
export type StreamItem =
  | { ok: true; frame: Frame; offset: number; wireBytes: number }
  | { ok: false; error: DecodeError; offset: number; wireBytes: number };

/**
 * Incremental reader of a frame stream (items as in {@link readItemHeader}): push chunks as they arrive, take the
 * complete frames. A frame that fails to decode is reported and skipped (its length is known); a
 * bad length prefix makes the rest of the stream unreadable, reported once as an error.
 */
export class FrameStreamReader {
  private readonly ctx: FrameContext = newFrameContext();
  private buffer: Uint8Array = new Uint8Array(0);
  private consumed = 0;
  private broken: DecodeError | undefined;

  /** Total bytes fed so far. */
  get bytesIn(): number {
    return this.consumed + this.buffer.length;
  }

  push(chunk: Uint8Array): StreamItem[] {
    if (this.broken) return [];
    if (chunk.length > 0) {
      const merged = new Uint8Array(this.buffer.length + chunk.length);
      merged.set(this.buffer, 0);
      merged.set(chunk, this.buffer.length);
      this.buffer = merged;
    }
    const items: StreamItem[] = [];
    let pos = 0;
    for (;;) {
      let prefix;
      try {
        prefix = readItemHeader(this.buffer, pos);
      } catch (err) {
        this.broken = err as DecodeError;
        items.push({ ok: false, error: this.broken, offset: this.consumed + pos, wireBytes: this.buffer.length - pos });
        pos = this.buffer.length;
        break;
      }
      if (!prefix || pos + prefix.headerBytes + prefix.length > this.buffer.length) break;
      const start = pos + prefix.headerBytes;
      const body = this.buffer.subarray(start, start + prefix.length);
      const wireBytes = prefix.headerBytes + prefix.length;
      try {
        items.push({ ok: true, frame: decodeItemBody(prefix, body, this.ctx), offset: this.consumed + pos, wireBytes });
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        // A lost frame still advances the implied sequence number.
        this.ctx.nextSeq++;
        items.push({ ok: false, error: err, offset: this.consumed + pos, wireBytes });
      }
      pos = start + prefix.length;
    }
    this.consumed += pos;
    this.buffer = this.buffer.slice(pos);
    return items;
  }

  /** Call at end of input: leftover bytes mean the stream was cut inside a frame. */
  end(): StreamItem[] {
    if (this.broken || this.buffer.length === 0) return [];
    const error = new DecodeError('truncated', `stream ends inside a frame (${this.buffer.length} bytes left over)`);
    const item: StreamItem = { ok: false, error, offset: this.consumed, wireBytes: this.buffer.length };
    this.consumed += this.buffer.length;
    this.buffer = new Uint8Array(0);
    return [item];
  }
}

/** Decodes a whole stream (e.g. a .stc file). Total: never throws DecodeError, reports it per item. */
export function decodeFrameStream(bytes: Uint8Array): StreamItem[] {
  const reader = new FrameStreamReader();
  return [...reader.push(bytes), ...reader.end()];
}

/** Encodes frames as one stream. */
export function encodeFrameStream(frames: readonly Frame[]): Uint8Array {
  const writer = new FrameStreamWriter();
  return concatBytes(frames.map((f) => writer.write(f)));
}
