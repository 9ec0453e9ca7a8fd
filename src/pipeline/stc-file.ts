import { readFile } from 'node:fs/promises';
import { decodeFrameStream, type Frame } from '../codec/frame/index.ts';
import type { StreamItem } from '../codec/frame/index.ts';
import { StctsError } from '../core/errors.ts';

/** Largest .stc file the tools read, bytes (a day of speech at 40 bit/s is ~430 kB). */
export const MAX_STC_FILE_BYTES = 64 * 1024 * 1024;

export class StcFileError extends StctsError {
  constructor(code: 'not_found' | 'too_large' | 'empty', message: string) {
    super(code, message);
  }
}

/** Reads a .stc file and decodes its frames (total: bad frames come back as error items). */
export async function readStcFile(path: string): Promise<{ bytes: Uint8Array; items: StreamItem[] }> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (err) {
    throw new StcFileError('not_found', `cannot read ${path}: ${(err as Error).message}`);
  }
  if (bytes.length > MAX_STC_FILE_BYTES) throw new StcFileError('too_large', `${path} is ${bytes.length} bytes; the limit is ${MAX_STC_FILE_BYTES}`);
  if (bytes.length === 0) throw new StcFileError('empty', `${path} is empty: not a .stc stream`);
  return { bytes, items: decodeFrameStream(bytes) };
}

export type { Frame };
