import { DecodeError, EncodeError } from '../../core/errors.ts';
import { CODEC_MODES, type CodecMode } from '../frame/index.ts';

/** Version of the message container layout (this file, ./message-codec.ts, ./message-time.ts, ./parts.ts, ./alphabet.ts). */
export const MESSAGE_FORMAT_VERSION = 2;
/** Bytes of {@link MessageHeader} on the wire. */
export const MESSAGE_HEADER_BYTES = 2;
/** Bits of the text-model hash the header keeps (the low ones of the model's uint32 hash). */
export const MODEL_HASH_BITS = 7;
/** Bits of the header's codec-version field: versions 0..7 fit. */
export const CODEC_VERSION_BITS = 3;

/** What the message starts with (the header's 2 flag bits), so the first item costs no symbol. */
export type FirstItem = 'other' | 'profile' | 'profileRef';
const FIRST_ITEMS: readonly FirstItem[] = ['other', 'profile', 'profileRef'];

/**
 * The 2-byte message header that stands in for a session's SessionHeader frame (~36 bytes):
 * `0 1 mm ff ccc hhhhhhh`.
 * - bit 15 is 0: a message that fits one part is sent as is (./parts.ts: a part whose first bit is
 *   1 carries a multi-part header instead);
 * - bit 14 is 1: container version 2. Version 1 (3 bytes, issue #16's first cut) had a 0 here and
 *   is refused as `unsupported_version`;
 * - mm: mode (minimal, balanced, high); 3 is reserved for a later container version (refused as
 *   `unsupported_version`), since the version bit has no value left;
 * - ff: flags = what comes first: 0 anything, 1 a full speaker profile, 2 a profile by hash (the
 *   receiver must hold it), 3 reserved;
 * - ccc: the session coding's CODEC_VERSION (text, prosody, phrase times);
 * - h: low 7 bits of the text model's hash.
 * Version 1 spent 14 bits on the model hash and 4 on the codec version: one byte in every message
 * (≈ 1.3 SMS characters). 7 bits still catch 127 of 128 model mismatches with a clear
 * `model_mismatch`, and the rare one that slips through decodes as garbage that the range coder's
 * termination check and the end marker refuse (`malformed`), so a mismatch is never a wrong message.
 * Sample rate (16 kHz) and time unit (100 ms) are fixed for messages.
 */
export interface MessageHeader {
  formatVersion: number;
  codecVersion: number;
  mode: CodecMode;
  first: FirstItem;
  /** Low {@link MODEL_HASH_BITS} bits of the text model's hash. */
  modelHash: number;
}

/** The header's short form of a text model's uint32 hash. */
export function shortModelHash(hash: number): number {
  return (hash >>> 0) & ((1 << MODEL_HASH_BITS) - 1);
}

export function encodeMessageHeader(h: MessageHeader): Uint8Array {
  const mode = CODEC_MODES.indexOf(h.mode);
  const first = FIRST_ITEMS.indexOf(h.first);
  if (h.formatVersion !== MESSAGE_FORMAT_VERSION || !Number.isInteger(h.codecVersion) || h.codecVersion < 0 || h.codecVersion >>> CODEC_VERSION_BITS !== 0 || mode < 0 || mode > 2 || first < 0 || !Number.isInteger(h.modelHash) || h.modelHash < 0 || h.modelHash >>> MODEL_HASH_BITS !== 0) {
    throw new EncodeError('invalid_value', `message header field out of range: ${JSON.stringify(h)}`);
  }
  const v = (1 << 14) | (mode << 12) | (first << 10) | (h.codecVersion << MODEL_HASH_BITS) | h.modelHash;
  return Uint8Array.of(v >> 8, v & 0xff);
}

/** Reads the header; another container version or unknown flags are `unsupported_version`. */
export function decodeMessageHeader(bytes: Uint8Array): MessageHeader {
  if (bytes.length < MESSAGE_HEADER_BYTES) throw new DecodeError('truncated', `a message starts with a ${MESSAGE_HEADER_BYTES}-byte header; got ${bytes.length} bytes`);
  const v = (bytes[0]! << 8) | bytes[1]!;
  if (v & 0x8000) throw new DecodeError('malformed', 'a message header starts with a 0 bit (this looks like a part header)');
  const mm = (v >> 12) & 3;
  // Version 1 had 0 at bit 14; mode 3 is where a version after 2 will say so.
  const formatVersion = (v & 0x4000) === 0 ? 1 : mm === 3 ? 3 : 2;
  if (formatVersion !== MESSAGE_FORMAT_VERSION) {
    throw new DecodeError('unsupported_version', `voice message container version ${formatVersion === 3 ? '3 or later' : formatVersion}; this receiver reads version ${MESSAGE_FORMAT_VERSION} (install the same stcts version on both ends)`, { streamVersion: formatVersion, localVersion: MESSAGE_FORMAT_VERSION });
  }
  const first = FIRST_ITEMS[(v >> 10) & 3];
  if (!first) throw new DecodeError('unsupported_version', `message header flags ${(v >> 10) & 3} are not defined in this version`);
  return { formatVersion, codecVersion: (v >> MODEL_HASH_BITS) & ((1 << CODEC_VERSION_BITS) - 1), mode: CODEC_MODES[mm]!, first, modelHash: v & ((1 << MODEL_HASH_BITS) - 1) };
}
