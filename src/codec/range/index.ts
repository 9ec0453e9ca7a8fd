/**
 * Range coding: an exact-integer 48-bit range coder shared by the text, prosody and speaker
 * channels of one coded byte string, plus adaptive frequency models for small alphabets.
 *
 * ```ts
 * const enc = new RangeEncoder();
 * enc.channel = 'text';   textSession.encode(text, enc);
 * enc.channel = 'prosody'; model.encode(enc, symbol);
 * const bytes = enc.finish();
 * const dec = new RangeDecoder(bytes); … ; dec.finish(); // throws DecodeError on trailing/corrupt data
 * ```
 */
export { RangeEncoder, RangeDecoder, MAX_TOTAL_FREQ } from './range-coder.ts';
export { AdaptiveFrequencyModel, DEFAULT_ADAPTIVE_MODEL_OPTIONS, type AdaptiveModelOptions } from './adaptive-model.ts';
