/**
 * Whisper ASR (issue #9): log-mel front end, byte-level BPE tokenizer, greedy timestamped decoding
 * and the engine that runs the ONNX encoder/decoder exports through onnxruntime-node.
 */
export { WhisperEngine, DEFAULT_WHISPER_OPTIONS, type WhisperOptions } from './engine.ts';
export { whisperLogMel, whisperMelFilters, whisperPowerSpectrogram, periodicHann, slaneyHzToMel, slaneyMelToHz, DEFAULT_WHISPER_MEL_OPTIONS, WHISPER_CHUNK_SAMPLES, WHISPER_HOP_SAMPLES, WHISPER_N_FFT, WHISPER_N_FRAMES, WHISPER_SAMPLE_RATE_HZ, type MelFilter, type WhisperMelOptions } from './log-mel.ts';
export { WhisperTokenizer, WHISPER_TIMESTAMP_COUNT, WHISPER_TIMESTAMP_STEP_S, type WhisperSpecialTokens, type WhisperTokenizerSource } from './tokenizer.ts';
export { applyWhisperRules, greedyDecode, normalizeWords, segmentWords, splitSegments, DEFAULT_WHISPER_DECODE_OPTIONS, type DecodedToken, type NextTokenLogits, type TimedWord, type WhisperDecodeOptions, type WhisperSegment } from './decoder.ts';
export { MixedRadixFft } from './dft.ts';
