import { DecodeError, EncodeError } from '../../core/errors.ts';
import { base64BytesForChars, base77BytesForChars, BASE64_MARKER, decodeBase64NoPad, decodeBase77, encodeBase64NoPad, encodeBase77 } from './alphabet.ts';

/**
 * Channel profiles of voice messages (issue #16; sizes from ../shared/notes/links.md): how large a
 * part may be and whether it travels as bytes or as SMS text.
 */
export type MessageChannelId = 'sms' | 'sbd' | 'sbd-mt' | 'meshtastic' | 'raw';
export const MESSAGE_CHANNEL_IDS: readonly MessageChannelId[] = ['sms', 'sbd', 'sbd-mt', 'meshtastic', 'raw'];

/** Characters of one SMS part: one GSM-7 SMS without concatenation headers. */
export const SMS_PART_CHARS = 160;
/** Text alphabets of the `sms` channel: base-77 (default) or the base64 fallback. */
export type SmsAlphabet = 'base77' | 'base64';

export interface MessageChannel {
  id: MessageChannelId;
  kind: 'text' | 'binary';
  /** Largest part, bytes (part header included); for `sms` with the default base-77 alphabet. */
  maxPartBytes: number;
  summary: string;
}

export const MESSAGE_CHANNELS: Readonly<Record<MessageChannelId, MessageChannel>> = Object.freeze({
  sms: { id: 'sms', kind: 'text', maxPartBytes: base77BytesForChars(SMS_PART_CHARS), summary: `SMS / satellite messenger: ${SMS_PART_CHARS} GSM-7-safe characters per part (${base77BytesForChars(SMS_PART_CHARS)} bytes in base-77)` },
  sbd: { id: 'sbd', kind: 'binary', maxPartBytes: 340, summary: 'Iridium SBD mobile-originated: 340 bytes per message' },
  'sbd-mt': { id: 'sbd-mt', kind: 'binary', maxPartBytes: 270, summary: 'Iridium SBD mobile-terminated: 270 bytes per message' },
  meshtastic: { id: 'meshtastic', kind: 'binary', maxPartBytes: 233, summary: 'Meshtastic LoRa: 233-byte data payload' },
  raw: { id: 'raw', kind: 'binary', maxPartBytes: 64 * 1024 + 1, summary: 'one binary part, no size limit beyond the 64 KiB message cap' },
});

/** Bytes per part of a channel (the SMS capacity depends on the alphabet). */
export function partBytesFor(channel: MessageChannelId, alphabet: SmsAlphabet = 'base77'): number {
  if (channel === 'sms' && alphabet === 'base64') return base64BytesForChars(SMS_PART_CHARS - BASE64_MARKER.length);
  return MESSAGE_CHANNELS[channel].maxPartBytes;
}

/** One part's bytes as one SMS text (≤ 160 characters). */
export function partToSms(bytes: Uint8Array, alphabet: SmsAlphabet = 'base77'): string {
  const text = alphabet === 'base64' ? BASE64_MARKER + encodeBase64NoPad(bytes) : encodeBase77(bytes);
  if (text.length > SMS_PART_CHARS) throw new EncodeError('too_large', `a part of ${bytes.length} bytes needs ${text.length} characters; an SMS part holds ${SMS_PART_CHARS}`);
  return text;
}

/** One SMS part's text (whitespace already removed) → its bytes; `!` first = base64. */
export function smsToPart(text: string): Uint8Array {
  if (text.length > SMS_PART_CHARS) throw new DecodeError('too_large', `an SMS part has at most ${SMS_PART_CHARS} characters; got ${text.length}`);
  return text.startsWith(BASE64_MARKER) ? decodeBase64NoPad(text.slice(BASE64_MARKER.length)) : decodeBase77(text);
}

// Whitespace and invisible characters a phone, messenger or mail bridge may add.
const INVISIBLE = /[\s\u00ad\u200b-\u200d\u2060\ufeff]/gu;
/** Longest pasted text read, characters (16 parts and generous slack for whitespace). */
export const MAX_SMS_INPUT_CHARS = 64 * 1024;

/**
 * Pasted SMS text → the parts' texts. Whitespace anywhere is ignored (phones add spaces, fold lines
 * and pad). `lines`: every non-empty line is a part. `join` (default): a line break or a blank line
 * ends a part, except that a part a phone broke over several lines is joined again — non-final
 * parts are always exactly {@link SMS_PART_CHARS} characters, so consecutive short lines are joined
 * while they fit in one part, and text longer than a part is cut every {@link SMS_PART_CHARS}
 * characters; a blank line always ends a part. src/pipeline/message-parts.ts tries `lines` first
 * and keeps it when its parts fit together.
 */
export function splitSmsText(text: string, mode: 'join' | 'lines' = 'join'): string[] {
  if (text.length > MAX_SMS_INPUT_CHARS) throw new DecodeError('too_large', `pasted text of ${text.length} characters exceeds ${MAX_SMS_INPUT_CHARS}`);
  const parts: string[] = [];
  let buf = '';
  const flush = () => {
    if (buf) parts.push(buf);
    buf = '';
  };
  for (const line of text.split(/\r\n|[\n\r\u2028\u2029\u0085]/u)) {
    const l = line.replace(INVISIBLE, '');
    if (l === '' || mode === 'lines') {
      flush();
      if (l === '') continue;
    }
    if (buf && buf.length + l.length > SMS_PART_CHARS) flush();
    buf += l;
    while (buf.length >= SMS_PART_CHARS) {
      parts.push(buf.slice(0, SMS_PART_CHARS));
      buf = buf.slice(SMS_PART_CHARS);
    }
  }
  flush();
  return parts;
}
