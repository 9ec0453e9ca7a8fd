import { DecodeError } from '../../core/errors.ts';
import { KISS_MIN_FRAME_BYTES } from './cost.ts';

/**
 * Padding of raw KISS frames (issue #14). direwolf 1.6 refuses frames shorter than
 * {@link KISS_MIN_FRAME_BYTES} (15) from a KISS client, and a link packet has no length field of its
 * own, so short payloads are padded in a way the receiver can undo without any length byte on the
 * common frames:
 *
 * - payload of n ≤ 14 bytes: `payload ‖ zeros ‖ (0xF0 + n)`, exactly 15 bytes;
 * - payload of exactly 15 bytes whose last byte is ≥ 0xF0: `payload ‖ 0xFF` (16 bytes), so it is
 *   not mistaken for a padded frame;
 * - payload of ≥ 16 bytes whose last byte is 0xFF: `payload ‖ 0xFF`, so it is not mistaken for
 *   the previous case;
 * - anything else: the payload itself, byte for byte.
 *
 * Decoding: a 15-byte frame ending in 0xF0–0xFE is padded (the zeros are checked); a frame of ≥ 16
 * bytes ending in 0xFF loses that byte; else the frame is the payload. The map is injective, so
 * nothing is ever delivered altered. It costs a byte only on short payloads (which pay the 15-byte
 * minimum anyway), on 1/16 of 15-byte ones and on 1/256 of longer random ones.
 *
 * AX.25 mode needs none of this: header (16) + payload is never below the minimum, and the length
 * of the info field is the frame's length minus the header.
 */

const PAD_BASE = 0xf0;
const ESCAPE = 0xff;

/** Largest payload that {@link padKissPayload} can grow into a frame of `maxFrameBytes`. */
export const maxPaddedPayloadBytes = (maxFrameBytes: number): number => maxFrameBytes - 1;

/** The frame to hand the TNC for `payload` (see the module comment). */
export function padKissPayload(payload: Uint8Array): Uint8Array {
  const n = payload.length;
  if (n < KISS_MIN_FRAME_BYTES) {
    const out = new Uint8Array(KISS_MIN_FRAME_BYTES);
    out.set(payload);
    out[KISS_MIN_FRAME_BYTES - 1] = PAD_BASE + n;
    return out;
  }
  const last = payload[n - 1]!;
  const escape = n === KISS_MIN_FRAME_BYTES ? last >= PAD_BASE : last === ESCAPE;
  if (!escape) return payload;
  const out = new Uint8Array(n + 1);
  out.set(payload);
  out[n] = ESCAPE;
  return out;
}

/** The payload a frame made by {@link padKissPayload} carries (DecodeError when no payload makes it). */
export function unpadKissPayload(frame: Uint8Array): Uint8Array {
  const n = frame.length;
  if (n < KISS_MIN_FRAME_BYTES) throw new DecodeError('truncated', `KISS frame of ${n} bytes is below the ${KISS_MIN_FRAME_BYTES}-byte minimum`);
  const last = frame[n - 1]!;
  if (n === KISS_MIN_FRAME_BYTES) {
    if (last < PAD_BASE) return frame;
    if (last === ESCAPE) throw new DecodeError('malformed', 'a 15-byte KISS frame cannot end with the escape byte');
    const len = last - PAD_BASE;
    for (let i = len; i < n - 1; i++) if (frame[i] !== 0) throw new DecodeError('malformed', 'KISS padding is not zero');
    return frame.subarray(0, len);
  }
  if (last !== ESCAPE) return frame;
  const payload = frame.subarray(0, n - 1);
  const kept = payload[payload.length - 1]!;
  // Only the escapes padKissPayload makes: anything else did not come from it.
  if (payload.length === KISS_MIN_FRAME_BYTES ? kept < PAD_BASE : kept !== ESCAPE) throw new DecodeError('malformed', 'KISS frame has a stray escape byte');
  return payload;
}
