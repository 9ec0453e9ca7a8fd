import type { SpeakerProfile } from '../../codec/speaker/profile.ts';

/**
 * Dissimilarity of two profiles, ~1 at the boundary between "same speaker, different session" and
 * "different speaker": a weighted RMS of the median-F0 gap (per 4 semitones), the mel-cepstral mean
 * distance (per 1.5 RMS units), the formant-scale ratio (per 8 %) and the tilt gap (per 3 dB/oct).
 */
export function speakerDistance(a: SpeakerProfile, b: SpeakerProfile): number {
  const f0 = a.medianF0Hz > 0 && b.medianF0Hz > 0 ? (12 * Math.log2(a.medianF0Hz / b.medianF0Hz)) / 4 : 0;
  const n = Math.min(a.melCepstrumMean.length, b.melCepstrumMean.length);
  let c = 0;
  for (let i = 0; i < n; i++) c += (a.melCepstrumMean[i]! - b.melCepstrumMean[i]!) ** 2;
  const cep = n ? Math.sqrt(c / n) / 1.5 : 0;
  const vtl = Math.log(a.formantScale / b.formantScale) / Math.log(1.08);
  const tilt = (a.spectralTiltDbPerOctave - b.spectralTiltDbPerOctave) / 3;
  return Math.sqrt((f0 * f0 + cep * cep + vtl * vtl + tilt * tilt) / 4);
}

/** True when {@link speakerDistance} exceeds `threshold` (default 1). */
export function isDifferentSpeaker(a: SpeakerProfile, b: SpeakerProfile, threshold = 1): boolean {
  return speakerDistance(a, b) > threshold;
}
