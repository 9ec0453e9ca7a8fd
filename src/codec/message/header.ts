import { DecodeError, EncodeError } from '../../core/errors.ts';
import { CODEC_MODES, type CodecMode } from '../frame/index.ts';

/** Version of the message container layout (this file, ./message-codec.ts, ./parts.ts). */
export const MESSAGE_FORMAT_VERSION = 1;
/** Bytes of {@link MessageHeader} on the wire. */
export const MESSAGE_HEADER_BYTES = 3;
/** Bits of the text-model hash the header keeps (the low ones of the model's uint32 hash). */
export const MODEL_HASH_BITS = 14;

/** What the message starts with (the header's 2 flag bits), so the first item costs no symbol. */
export type FirstItem = 'other' | 'profile' | 'profileRef';
const FIRST_ITEMS: readonly FirstItem[] = ['other', 'profile', 'profileRef'];

/**
 * The 3-byte message header that stands in for a session's SessionHeader frame (~36 bytes):
 * `0 v cccc mm | ff hhhhhh hhhhhhhh`.
 * - bit 7 is 0: a message that fits one part is sent as is (./parts.ts: a part whose first bit is 1
 *   carries a multi-part header instead);
 * - v: container version − 1 (0 for version 1; 1 is refused as `unsupported_version`);
 * - cccc: the session coding's CODEC_VERSION (text, prosody, phrase times);
 * - mm: mode (minimal, balanced, high);
 * - ff: flags = what comes first: 0 anything, 1 a full speaker profile, 2 a profile by hash (the
 *   receiver must hold it), 3 reserved;
 * - h: low 14 bits of the text model's hash.
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
  if (h.formatVersion !== MESSAGE_FORMAT_VERSION || h.codecVersion < 0 || h.codecVersion > 15 || mode < 0 || first < 0 || h.modelHash >>> MODEL_HASH_BITS !== 0) {
    throw new EncodeError('invalid_value', `message header field out of range: ${JSON.stringify(h)}`);
  }
  return Uint8Array.of(((h.formatVersion - 1) << 6) | (h.codecVersion << 2) | mode, (first << 6) | (h.modelHash >> 8), h.modelHash & 0xff);
}

/** Reads the header; a newer container version or unknown flags are `unsupported_version`. */
export function decodeMessageHeader(bytes: Uint8Array): MessageHeader {
  if (bytes.length < MESSAGE_HEADER_BYTES) throw new DecodeError('truncated', `a message starts with a ${MESSAGE_HEADER_BYTES}-byte header; got ${bytes.length} bytes`);
  const [b0, b1, b2] = [bytes[0]!, bytes[1]!, bytes[2]!];
  if (b0 & 0x80) throw new DecodeError('malformed', 'a message header starts with a 0 bit (this looks like a part header)');
  const formatVersion = ((b0 >> 6) & 1) + 1;
  if (formatVersion !== MESSAGE_FORMAT_VERSION) {
    throw new DecodeError('unsupported_version', `voice message container version ${formatVersion}; this receiver reads version ${MESSAGE_FORMAT_VERSION} (install the same stcts version on both ends)`, { streamVersion: formatVersion, localVersion: MESSAGE_FORMAT_VERSION });
  }
  const mode = CODEC_MODES[b0 & 3];
  if (!mode) throw new DecodeError('malformed', `message header: mode ${b0 & 3} is not defined`);
  const first = FIRST_ITEMS[b1 >> 6];
  if (!first) throw new DecodeError('unsupported_version', `message header flags ${b1 >> 6} are not defined in this version`);
  return { formatVersion, codecVersion: (b0 >> 2) & 15, mode, first, modelHash: ((b1 & 0x3f) << 8) | b2 };
}
