import { EncodeError } from '../../../core/errors.ts';

/**
 * Datagrams in FreeDV frames (issue #15): a datagram is cut into fragments, one per modem frame,
 * each behind a 2-byte big-endian header
 *   bit 15 last fragment · bits 14–12 fragment index (0–7) · bit 11 over · bits 10–0 data bytes.
 * An all-zero frame (header 0x0000, or 0x0800 with the over bit) is filler (bursts have a fixed
 * number of frames). A datagram is delivered only when fragments 0…k arrive in order and k carries
 * the last flag: a frame lost to its CRC drops its datagram, never corrupts or merges one. A 0-byte
 * datagram is header 0x8000. "Over" (as on a voice radio) marks the last frame of a transmit turn:
 * a receiver that hears it knows the channel is free and may answer at once.
 */

export const FRAGMENT_HEADER_BYTES = 2;
export const MAX_FRAGMENTS = 8;
const OVER = 0x0800;
const LENGTH_MASK = 0x07ff;

/** Sets the over bit of a frame payload (the last frame of a turn; a filler frame may carry it). */
export function markOver(frame: Uint8Array): Uint8Array {
  const out = frame.slice();
  out[0]! |= OVER >> 8;
  return out;
}

/** Is this frame payload the last of its sender's turn? */
export const isOver = (frame: Uint8Array): boolean => frame.length >= FRAGMENT_HEADER_BYTES && (frame[0]! & (OVER >> 8)) !== 0;

/** Largest datagram that fits `MAX_FRAGMENTS` frames of `framePayloadBytes`. */
export const maxDatagramBytes = (framePayloadBytes: number): number => MAX_FRAGMENTS * (framePayloadBytes - FRAGMENT_HEADER_BYTES);

/** Frames a datagram of `bytes` needs. */
export const fragmentsFor = (bytes: number, framePayloadBytes: number): number => Math.max(1, Math.ceil(bytes / (framePayloadBytes - FRAGMENT_HEADER_BYTES)));

/** The frame payloads (each `framePayloadBytes` long, zero-padded) carrying `datagram`. */
export function fragmentDatagram(datagram: Uint8Array, framePayloadBytes: number): Uint8Array[] {
  const room = framePayloadBytes - FRAGMENT_HEADER_BYTES;
  const n = fragmentsFor(datagram.length, framePayloadBytes);
  if (n > MAX_FRAGMENTS || room > LENGTH_MASK) throw new EncodeError('too_large', `a datagram of ${datagram.length} bytes needs ${n} frames (at most ${MAX_FRAGMENTS})`, { bytes: datagram.length, mtu: maxDatagramBytes(framePayloadBytes) });
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const part = datagram.subarray(i * room, (i + 1) * room);
    const header = (i === n - 1 ? 0x8000 : 0) | (i << 12) | part.length;
    const frame = new Uint8Array(framePayloadBytes);
    frame[0] = header >> 8;
    frame[1] = header & 0xff;
    frame.set(part, FRAGMENT_HEADER_BYTES);
    out.push(frame);
  }
  return out;
}

export type ReassemblyDrop = 'malformed' | 'incomplete';

/** Reassembles datagrams from received frame payloads, in order. */
export class DatagramReassembler {
  private parts: Uint8Array[] = [];
  /** Fragments dropped by reason (a lost frame makes its datagram `incomplete`). */
  readonly dropped: Record<ReassemblyDrop, number> = { malformed: 0, incomplete: 0 };
  fillers = 0;

  /** Feeds one frame payload; returns a datagram when this frame completes one. */
  push(frame: Uint8Array): Uint8Array | undefined {
    if (frame.length < FRAGMENT_HEADER_BYTES) {
      this.dropped.malformed++;
      return undefined;
    }
    const header = ((frame[0]! << 8) | frame[1]!) & ~OVER;
    if (header === 0) {
      this.fillers++;
      return undefined;
    }
    const last = (header & 0x8000) !== 0;
    const index = (header >> 12) & 0x7;
    const length = header & LENGTH_MASK;
    if (length > frame.length - FRAGMENT_HEADER_BYTES || (!last && length !== frame.length - FRAGMENT_HEADER_BYTES)) {
      this.dropped.malformed++;
      return undefined;
    }
    if (index !== this.parts.length) {
      // A fragment went missing: whatever was pending is lost; a new datagram may start here.
      if (this.parts.length) this.dropped.incomplete++;
      this.parts = [];
      if (index !== 0) {
        this.dropped.incomplete++;
        return undefined;
      }
    }
    this.parts.push(frame.slice(FRAGMENT_HEADER_BYTES, FRAGMENT_HEADER_BYTES + length));
    if (!last) return undefined;
    const total = this.parts.reduce((n, p) => n + p.length, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    this.parts = [];
    return out;
  }
}
