/** Piper / VITS neural TTS through onnxruntime-node with a GPL-free CMUdict front end (issue #9). */
export { PiperTtsEngine, DEFAULT_PIPER_OPTIONS, PIPER_IO, PIPER_MAX_TEXT_CHARS, splitAtPauses, type PiperOptions } from './piper-engine.ts';
export { CmuLexicon, DEFAULT_CMUDICT_PATH, LETTER_NAMES, letterToSound, spell } from './lexicon.ts';
export { phonemizeText, phonesToIpa, pronounce, type PhonemizedWord } from './phonemize.ts';
export { numberToWords, integerToWords, ordinalToWords } from './numbers.ts';
export { medianF0Hz, pitchFactor, shiftByResampling } from './pitch.ts';
export { loadPiperVoiceConfig, parsePiperVoiceConfig, phonemesToIds, type PiperVoiceConfig, type PhonemeIds } from './voice-config.ts';
