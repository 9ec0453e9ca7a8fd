/**
 * Minimal RTP (RFC 3550) packets for the daemon's side of the mediasoup PlainTransports: parse what
 * mediasoup sends us (browser microphone, Opus) and build what we send it (received speech, Opus).
 * Pure: bytes in, plain objects out; never trusts a length field.
 */
import { DecodeError } from '../../core/errors.ts';

/** One RTP packet; `payload` is a view into the parsed buffer. */
export interface RtpPacket {
  payloadType: number;
  marker: boolean;
  /** 16-bit sequence number. */
  sequenceNumber: number;
  /** 32-bit media timestamp (48 kHz clock for Opus). */
  timestamp: number;
  ssrc: number;
  payload: Uint8Array;
}

/** RTP packets larger than this are refused (a 20 ms Opus packet is < 400 bytes). */
export const MAX_RTP_PACKET_BYTES = 1500;

/** True for RTCP (payload types 192–223 in the second byte when multiplexed, RFC 5761). */
export function isRtcp(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && (bytes[1] as number) >= 192 && (bytes[1] as number) <= 223;
}

/** Parses an RTP packet (header, CSRCs, header extension and padding are skipped correctly). */
export function parseRtp(bytes: Uint8Array): RtpPacket {
  if (bytes.length > MAX_RTP_PACKET_BYTES) throw new DecodeError('too_large', `RTP packet of ${bytes.length} bytes (max ${MAX_RTP_PACKET_BYTES})`);
  if (bytes.length < 12) throw new DecodeError('truncated', `RTP packet of ${bytes.length} bytes (min 12)`);
  const b0 = bytes[0] as number;
  if (b0 >> 6 !== 2) throw new DecodeError('unsupported_version', `RTP version ${b0 >> 6} (expected 2)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const csrcCount = b0 & 0x0f;
  let offset = 12 + 4 * csrcCount;
  if (b0 & 0x10) {
    if (offset + 4 > bytes.length) throw new DecodeError('truncated', 'RTP header extension truncated');
    const words = view.getUint16(offset + 2);
    offset += 4 + 4 * words;
  }
  let end = bytes.length;
  if (b0 & 0x20) {
    const pad = bytes[bytes.length - 1] as number;
    if (pad === 0 || pad > end - offset) throw new DecodeError('malformed', `RTP padding of ${pad} bytes`);
    end -= pad;
  }
  if (offset > end) throw new DecodeError('truncated', 'RTP header longer than the packet');
  const b1 = bytes[1] as number;
  return {
    payloadType: b1 & 0x7f,
    marker: (b1 & 0x80) !== 0,
    sequenceNumber: view.getUint16(2),
    timestamp: view.getUint32(4),
    ssrc: view.getUint32(8),
    payload: bytes.subarray(offset, end),
  };
}

/** Builds a plain RTP packet (no CSRCs, extension or padding). */
export function buildRtp(p: RtpPacket): Uint8Array {
  if (12 + p.payload.length > MAX_RTP_PACKET_BYTES) throw new DecodeError('too_large', `RTP payload of ${p.payload.length} bytes`);
  const out = new Uint8Array(12 + p.payload.length);
  const view = new DataView(out.buffer);
  out[0] = 0x80;
  out[1] = (p.marker ? 0x80 : 0) | (p.payloadType & 0x7f);
  view.setUint16(2, p.sequenceNumber & 0xffff);
  view.setUint32(4, p.timestamp >>> 0);
  view.setUint32(8, p.ssrc >>> 0);
  out.set(p.payload, 12);
  return out;
}

/** Packets missing between two 16-bit sequence numbers (0 when in order; negative for late/duplicate). */
export function sequenceGap(previous: number, current: number): number {
  const d = (current - previous) & 0xffff;
  return d >= 0x8000 ? d - 0x10000 : d - 1;
}
