/**
 * Text channel: lossless language-model coding of transcripts into a shared range-coded stream.
 *
 * ```ts
 * const model = await loadTextModel();            // models/text-lm.bin (built at setup)
 * const tx = new TextCodingSession(model), rx = new TextCodingSession(model);
 * const bytes = encodeTextSegment(tx, 'HELLO WORLD');
 * const text = decodeTextSegment(rx, bytes);      // 'HELLO WORLD'
 * tx.commit(text); rx.commit(text);               // both sides, once delivered
 * ```
 */
export { TextModel } from './model.ts';
export { loadTextModel, DEFAULT_TEXT_MODEL_PATH } from './load-model.ts';
export { TextCodingSession, encodeTextSegment, decodeTextSegment, DEFAULT_TEXT_CODING_OPTIONS, type TextCodingOptions } from './session.ts';
export { serializeTextModel, parseTextModel, CHAR_ALPHABET, CHAR_SYMBOLS, type TextModelData } from './model-format.ts';
