export { FliteTtsEngine, DEFAULT_FLITE_OPTIONS, FLITE_VOICES, FLITE_MAX_TEXT_CHARS, approximateWordTimes, type FliteOptions } from './flite-engine.ts';
