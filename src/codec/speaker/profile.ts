/**
 * A compact description of a speaker's voice, measured by DSP at the sender and rendered by the
 * receiver's TTS. Quantized to at most 32 bytes on the wire (src/codec/speaker).
 */
export interface SpeakerProfile {
  /** Median F0 over voiced frames, Hz. */
  medianF0Hz: number;
  /** F0 range: 5th to 95th percentile distance, semitones. */
  f0RangeSemitones: number;
  /** Vocal-tract-length / formant scale relative to an average adult male (1.0); ~1.15–1.2 for adult female. */
  formantScale: number;
  /** Long-term spectral tilt, dB per octave (negative = falling). */
  spectralTiltDbPerOctave: number;
  /** Harmonics-to-noise ratio, dB (voice quality). */
  hnrDb: number;
  /** Mean mel-cepstrum (timbre), coefficients 1..N (c0 excluded), typically 12 values. */
  melCepstrumMean: number[];
  /** Mean speaking rate, syllables per second (0 when unknown). */
  syllablesPerSecond: number;
}
