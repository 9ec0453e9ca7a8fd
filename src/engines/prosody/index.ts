/**
 * Prosody analysis at the sender: F0 tracking (YIN + candidate Viterbi), frame energy, pauses,
 * syllable nuclei / speaking rate and a per-speaker running log-F0 normalizer.
 */
export { trackF0, DEFAULT_F0_TRACKER_OPTIONS, type F0Track, type F0TrackerOptions } from './f0.ts';
export { frameEnergyDb, detectPauses, percentile, syllableNuclei, speakingRate, wordsPerSecond, DEFAULT_PAUSE_OPTIONS, type Pause, type PauseOptions } from './energy.ts';
export { SpeakerF0Normalizer, type F0NormalizerState } from './normalizer.ts';
