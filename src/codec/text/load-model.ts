import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { EngineUnavailableError } from '../../core/errors.ts';
import { TextModel } from './model.ts';

/** Default location of the built model: <repo>/models/text-lm.bin. */
export const DEFAULT_TEXT_MODEL_PATH = fileURLToPath(new URL('../../../models/text-lm.bin', import.meta.url));

/**
 * Reads and validates a text model file (the codec's only I/O entry point).
 * A missing file is an EngineUnavailableError telling how to build it.
 */
export async function loadTextModel(path: string = DEFAULT_TEXT_MODEL_PATH): Promise<TextModel> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new EngineUnavailableError('text-lm', `text model ${path} not found`, "run 'node scripts/build-models.mjs' (needs Debian package pocketsphinx-en-us)", { cause: err });
  }
  return new TextModel(bytes);
}
