import { decodeFrameStream, encodeFrameStream, type Frame } from '../../codec/frame/index.ts';
import { JournalError } from './journal-error.ts';

/** Frames as self-contained bytes (a one-frame .stc stream each: no context shared between records). */
export function framesToBytes(frames: readonly Frame[]): Uint8Array {
  return encodeFrameStream(frames);
}

/** Inverse of {@link framesToBytes}. A record that passed its checksum but does not decode is corruption. */
export function framesFromBytes(bytes: Uint8Array, path: string): Frame[] {
  const out: Frame[] = [];
  for (const item of decodeFrameStream(bytes)) {
    if (!item.ok) throw new JournalError('corrupt', `${path}: a journalled frame does not decode (${item.error.code}): ${item.error.message}`, { path });
    out.push(item.frame);
  }
  return out;
}

export const utf8 = {
  encode: (v: unknown) => new TextEncoder().encode(JSON.stringify(v)),
  decode: <T>(b: Uint8Array): T => JSON.parse(new TextDecoder().decode(b)) as T,
};
