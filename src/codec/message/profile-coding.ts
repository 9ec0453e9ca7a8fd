import { DecodeError, EncodeError } from '../../core/errors.ts';
import type { RangeDecoder, RangeEncoder } from '../range/index.ts';
import { COMPACT_PROFILE_BYTES, COMPACT_PROFILE_VERSION, decodeSpeakerProfile, SPEAKER_CEPSTRA, SPEAKER_PROFILE_BYTES, SPEAKER_PROFILE_VERSION } from '../speaker/index.ts';

/*
 * A DSP speaker profile inside a message, losslessly: one bit names the layout. The 12-byte compact
 * layout (version 2, issue #17, what the message sender uses by default) goes as its 92 bits after
 * the implied version nibble. The 32-byte layout (version 1) goes in ~23 bytes instead of 32: byte 0 (the layout version) and byte 31 (its checksum) are implied —
 * the range coder's termination check guards the message instead —, the six scalar fields stay 8
 * raw bits, and each of the twelve int16 mel-cepstrum means (×256) is a zigzag value coded as its
 * bit-length class (a static table: dev-corpus means lie within ±2000, i.e. lengths 8–12) followed
 * by the bits below its leading one. The same bytes come out, so the profile's hash is unchanged.
 */

const CLASSES = 17; // zigzag of an int16 is < 2^16
const CLASS_FREQ = [1, 1, 1, 1, 1, 1, 2, 3, 6, 10, 14, 12, 6, 1, 1, 1, 1];
const CUM = CLASS_FREQ.reduce<number[]>((c, f) => [...c, c[c.length - 1]! + f], [0]);
const TOTAL = CUM[CLASSES]!;

function checksum(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < SPEAKER_PROFILE_BYTES - 1; i++) s = (s + b[i]!) & 255;
  return s ^ 0xa5;
}

/** Codes a profile made by encodeSpeakerProfile or encodeCompactSpeakerProfile; anything else is EncodeError `invalid_value`. */
export function encodeProfileInMessage(enc: RangeEncoder, profile: Uint8Array): void {
  try {
    decodeSpeakerProfile(profile);
  } catch (err) {
    if (err instanceof DecodeError) throw new EncodeError('invalid_value', `not a speaker profile this version writes: ${err.message}`);
    throw err;
  }
  const compact = profile.length === COMPACT_PROFILE_BYTES;
  enc.encodeBits(compact ? 1 : 0, 1);
  if (compact) {
    enc.encodeBits(profile[0]! & 15, 4);
    for (let i = 1; i < COMPACT_PROFILE_BYTES; i++) enc.encodeBits(profile[i]!, 8);
    return;
  }
  for (let i = 1; i < 7; i++) enc.encodeBits(profile[i]!, 8);
  const view = new DataView(profile.buffer, profile.byteOffset, profile.byteLength);
  for (let i = 0; i < SPEAKER_CEPSTRA; i++) {
    const v = view.getInt16(7 + 2 * i, false);
    const z = v >= 0 ? 2 * v : -2 * v - 1;
    const c = z === 0 ? 0 : Math.floor(Math.log2(z)) + 1; // bit length
    enc.encode(CUM[c]!, CLASS_FREQ[c]!, TOTAL);
    if (c > 1) enc.encodeBits(z - 2 ** (c - 1), c - 1);
  }
}

/** Decodes {@link encodeProfileInMessage} back to the exact bytes. */
export function decodeProfileInMessage(dec: RangeDecoder): Uint8Array {
  if (dec.decodeBits(1) === 1) {
    const compact = new Uint8Array(COMPACT_PROFILE_BYTES);
    compact[0] = (COMPACT_PROFILE_VERSION << 4) | dec.decodeBits(4);
    for (let i = 1; i < COMPACT_PROFILE_BYTES; i++) compact[i] = dec.decodeBits(8);
    return compact;
  }
  const out = new Uint8Array(SPEAKER_PROFILE_BYTES);
  out[0] = SPEAKER_PROFILE_VERSION << 4;
  for (let i = 1; i < 7; i++) out[i] = dec.decodeBits(8);
  const view = new DataView(out.buffer);
  for (let i = 0; i < SPEAKER_CEPSTRA; i++) {
    const target = dec.getFreq(TOTAL);
    let c = 0;
    while (c < CLASSES - 1 && CUM[c + 1]! <= target) c++;
    dec.decode(CUM[c]!, CLASS_FREQ[c]!, TOTAL);
    const z = c === 0 ? 0 : c === 1 ? 1 : 2 ** (c - 1) + dec.decodeBits(c - 1);
    const v = z & 1 ? -(z + 1) / 2 : z / 2;
    if (v < -32768 || v > 32767) throw new DecodeError('malformed', 'speaker profile value out of range');
    view.setInt16(7 + 2 * i, v, false);
  }
  out[SPEAKER_PROFILE_BYTES - 1] = checksum(out);
  return out;
}
