/** Speaker profile analysis at the sender: incremental accumulator and a change detector. */
export { SpeakerProfileAccumulator, DEFAULT_SPEAKER_ANALYSIS_OPTIONS, type SpeakerAnalysisOptions } from './accumulator.ts';
export { speakerDistance, isDifferentSpeaker } from './distance.ts';
export { lpc, formantsFromLpc, NEUTRAL_FORMANTS_HZ } from './formants.ts';
export { CepstralGaussian, bicChangeScore } from './cepstral-gaussian.ts';
