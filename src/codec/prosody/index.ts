/**
 * Phrase prosody coding (PURE, no I/O): quantize an analysed phrase (F0 track + ASR word times)
 * into a {@link PhraseProsody}, code it in-band after the text with the shared range coder, code
 * optional word-level detail on its own bytes, and render decoded values into TTS targets.
 */
export * from './types.ts';
export { quantizePhraseProsody, resampledContour, contourAt, pauseClass, hzToSt, nominalSpeechMs, speechMsFromRate } from './analyze.ts';
export { encodePhraseProsody, decodePhraseProsody, advanceProsodyState, encodeProsodyDetail, decodeProsodyDetail, PhraseProsodyCoder, MAX_PROSODY_WORDS } from './coder.ts';
export { renderProsody, type RenderedProsody, type RenderProsodyOptions } from './render.ts';
export { countSyllables, splitWords } from './syllables.ts';
export { SignedLaplaceModel, StaticSymbolModel } from './signed-model.ts';
