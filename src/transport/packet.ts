import { decodeFrameBody, encodeFrameBody, newFrameContext, readLengthPrefix, varintSize, type Frame, type FrameContext } from '../codec/frame/index.ts';
import { DecodeError } from '../core/errors.ts';

/** Largest link packet accepted, bytes (a WebSocket message or one radio datagram). */
export const MAX_PACKET_BYTES = 4096;

/**
 * A link packet is a batch of length-prefixed frames encoded with ONE fresh FrameContext: the first
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
    const body = encodeFrameBody(frame, this.ctx);
    const n = varintSize(body.length) + body.length;
    if (this.parts.length > 0 && this.size + n > this.maxBytes) {
      this.ctx = saved;
      return 0;
    }
    const prefix = new Uint8Array(varintSize(body.length));
    let v = body.length;
    for (let i = 0; i < prefix.length; i++) {
      prefix[i] = (v & 0x7f) | (i < prefix.length - 1 ? 0x80 : 0);
      v = Math.floor(v / 128);
    }
    this.parts.push(prefix, body);
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
  const ctx = newFrameContext();
  const frames: Frame[] = [];
  let pos = 0;
  try {
    while (pos < bytes.length) {
      const p = readLengthPrefix(bytes, pos);
      if (!p || pos + p.headerBytes + p.length > bytes.length) throw new DecodeError('truncated', 'packet ends inside a frame');
      frames.push(decodeFrameBody(bytes.subarray(pos + p.headerBytes, pos + p.headerBytes + p.length), ctx));
      pos += p.headerBytes + p.length;
    }
  } catch (err) {
    if (err instanceof DecodeError) return { frames, error: err };
    throw err;
  }
  return { frames };
}
