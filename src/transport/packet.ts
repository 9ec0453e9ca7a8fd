import { decodeItemBody, encodeFrameItem, newFrameContext, readItemHeader, type Frame, type FrameContext } from '../codec/frame/index.ts';
import { DecodeError } from '../core/errors.ts';

/** Largest link packet accepted, bytes (a WebSocket message or one radio datagram). */
export const MAX_PACKET_BYTES = 4096;

/**
 * A link packet is a batch of frame stream items (src/codec/frame/stream.ts: a header, then a
 * protobuf frame or a bare LM text segment) encoded with ONE fresh FrameContext: the first
 * frame carries its session id and seq explicitly, following consecutive frames leave them implied.
 * No other header: the packet boundary is the datagram/message boundary. A lost packet never
 * corrupts another, because no packet depends on an earlier one's context.
 */
export class PacketBuilder {
  private ctx: FrameContext = newFrameContext();
  private readonly parts: Uint8Array[] = [];
  private size = 0;
  readonly frames: Frame[] = [];

  constructor(readonly maxBytes: number) {}

  get bytes(): number {
    return this.size;
  }

  /** Adds the frame if it fits (the first frame always fits); returns its encoded size or 0. */
  tryAdd(frame: Frame): number {
    const saved = { ...this.ctx };
    const item = encodeFrameItem(frame, this.ctx);
    const n = item.length;
    if (this.parts.length > 0 && this.size + n > this.maxBytes) {
      this.ctx = saved;
      return 0;
    }
    this.parts.push(item);
    this.size += n;
    this.frames.push(frame);
    return n;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/** Decodes a link packet. Total: a corrupt packet yields an error and the frames before it. */
export function decodePacket(bytes: Uint8Array): { frames: Frame[]; error?: DecodeError } {
  if (bytes.length > MAX_PACKET_BYTES) return { frames: [], error: new DecodeError('too_large', `packet of ${bytes.length} bytes exceeds ${MAX_PACKET_BYTES}`) };
  return decodeItems(bytes, 0, newFrameContext());
}

/**
 * Decodes the stream items of a packet from `offset` to its end in context `ctx` (advanced).
 * Total: a corrupt item yields an error and the frames before it.
 */
export function decodeItems(bytes: Uint8Array, offset: number, ctx: FrameContext): { frames: Frame[]; error?: DecodeError } {
  const frames: Frame[] = [];
  let pos = offset;
  try {
    while (pos < bytes.length) {
      const p = readItemHeader(bytes, pos);
      if (!p || pos + p.headerBytes + p.length > bytes.length) throw new DecodeError('truncated', 'packet ends inside a frame');
      frames.push(decodeItemBody(p, bytes.subarray(pos + p.headerBytes, pos + p.headerBytes + p.length), ctx));
      pos += p.headerBytes + p.length;
    }
  } catch (err) {
    if (err instanceof DecodeError) return { frames, error: err };
    throw err;
  }
  return { frames };
}
