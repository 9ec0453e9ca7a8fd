import { DecodeError, EncodeError } from '../../core/errors.ts';
import { CODEC_MODES, type CodecMode } from '../frame/index.ts';

/** Version of the message container layout (this file, ./message-codec.ts, ./parts.ts). */
export const MESSAGE_FORMAT_VERSION = 1;
/** Bytes of {@link MessageHeader} on the wire. */
export const MESSAGE_HEADER_BYTES = 3;
/** Bits of the text-model hash the header keeps (the low ones of the model's uint32 hash). */
export const MODEL_HASH_BITS = 14;

/** Header flag: the message refers to a speaker profile by hash only (the receiver must hold it). */
export const FLAG_PROFILE_BY_HASH = 1;
const KNOWN_FLAGS = FLAG_PROFILE_BY_HASH;

/**
 * The 3-byte message header that stands in for a session's SessionHeader frame (~36 bytes):
 * `vv cccc mm | ff hhhhhh hhhhhhhh` — container version (2 bits), codec version (4 bits, the
 * session coding's CODEC_VERSION), mode (2 bits), flags (2 bits), text-model hash (14 bits).
 * Sample rate (16 kHz) and time unit (100 ms) are fixed for messages.
 */
export interface MessageHeader {
  formatVersion: number;
  codecVersion: number;
  mode: CodecMode;
  /** Bit set of FLAG_*. */
  flags: number;
  /** Low {@link MODEL_HASH_BITS} bits of the text model's hash. */
  modelHash: number;
}

/** The header's short form of a text model's uint32 hash. */
export function shortModelHash(hash: number): number {
  return (hash >>> 0) & ((1 << MODEL_HASH_BITS) - 1);
}

export function encodeMessageHeader(h: MessageHeader): Uint8Array {
  const mode = CODEC_MODES.indexOf(h.mode);
  if (h.formatVersion < 0 || h.formatVersion > 3 || h.codecVersion < 0 || h.codecVersion > 15 || mode < 0 || (h.flags & ~KNOWN_FLAGS) !== 0 || h.modelHash >>> MODEL_HASH_BITS !== 0) {
    throw new EncodeError('invalid_value', `message header field out of range: ${JSON.stringify(h)}`);
  }
  return Uint8Array.of((h.formatVersion << 6) | (h.codecVersion << 2) | mode, (h.flags << 6) | (h.modelHash >> 8), h.modelHash & 0xff);
}

/** Reads the header; a newer container version or unknown flags are `unsupported_version`. */
export function decodeMessageHeader(bytes: Uint8Array): MessageHeader {
  if (bytes.length < MESSAGE_HEADER_BYTES) throw new DecodeError('truncated', `a message starts with a ${MESSAGE_HEADER_BYTES}-byte header; got ${bytes.length} bytes`);
  const [b0, b1, b2] = [bytes[0]!, bytes[1]!, bytes[2]!];
  const formatVersion = b0 >> 6;
  if (formatVersion !== MESSAGE_FORMAT_VERSION) {
    throw new DecodeError('unsupported_version', `voice message container version ${formatVersion}; this receiver reads version ${MESSAGE_FORMAT_VERSION} (install the same stcts version on both ends)`, { streamVersion: formatVersion, localVersion: MESSAGE_FORMAT_VERSION });
  }
  const mode = CODEC_MODES[b0 & 3];
  if (!mode) throw new DecodeError('malformed', `message header: mode ${b0 & 3} is not defined`);
  const flags = b1 >> 6;
  if ((flags & ~KNOWN_FLAGS) !== 0) throw new DecodeError('unsupported_version', `message header flags ${flags} include ones this version does not know`);
  return { formatVersion, codecVersion: (b0 >> 2) & 15, mode, flags, modelHash: ((b1 & 0x3f) << 8) | b2 };
}
