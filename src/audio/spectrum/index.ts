/**
 * Spectral front end: radix-2 FFT, Hann STFT, HTK mel filterbank, log-mel and MFCC.
 * Pure functions on {@link MonoAudio}; no state.
 */
export { fftInPlace, realFft, powerSpectrum, isPowerOfTwo, nextPowerOfTwo } from './fft.ts';
export { stft, hannWindow, frameCount, DEFAULT_STFT_OPTIONS, type StftOptions, type PowerSpectrogram } from './stft.ts';
export { hzToMel, melToHz, melFilterbank, logMelSpectrogram, DEFAULT_LOG_MEL_OPTIONS, type MelFilterbank, type LogMelOptions } from './mel.ts';
export { mfcc, dct2, idct2, DEFAULT_MFCC_OPTIONS, type MfccOptions } from './mfcc.ts';
