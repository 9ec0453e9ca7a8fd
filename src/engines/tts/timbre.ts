import type { SpeakerProfile } from '../../codec/speaker/profile.ts';
import type { TtsRequest, TtsVoice } from './types.ts';

/** How a speaker profile is mapped onto a TTS voice. */
export interface TimbreMappingOptions {
  /** Median F0 below which a speaker counts as low-register (male-sounding), Hz. */
  maleBelowF0Hz: number;
  /** All-pass constant of the engine's voice (slt .htsvoice: ALPHA=0.45 at 32 kHz); undefined = engine without all-pass control. */
  voiceAllpassAlpha?: number;
  /** Formant scale of the voice (SpeakerProfile units: adult male 1.0, adult female ≈ 1.17). */
  voiceFormantScale: number;
  /** Largest change of the all-pass constant; bigger warps sound artificial. */
  maxAlphaShift: number;
  /** Long-term tilt the voice already has, dB/octave (uncalibrated nominal value). */
  voiceTiltDbPerOctave: number;
  /** Largest tilt correction, dB/octave. */
  maxTiltDbPerOctave: number;
  /** Plausible F0 range clamp, semitones. */
  minRangeSemitones: number;
  maxRangeSemitones: number;
}

export const DEFAULT_TIMBRE_MAPPING: Readonly<TimbreMappingOptions> = Object.freeze({
  maleBelowF0Hz: 165,
  voiceFormantScale: 1.17,
  maxAlphaShift: 0.1,
  voiceTiltDbPerOctave: -6,
  maxTiltDbPerOctave: 3,
  minRangeSemitones: 2,
  maxRangeSemitones: 18,
});

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/**
 * All-pass constant that moves the voice's formants by `ratio` (< 1 = lower formants = longer tract).
 * At low frequencies the all-pass warp stretches frequency by (1+α)/(1−α), so a formant stored at warped
 * frequency w is rendered at w·(1−α)/(1+α); solving for the new α gives the ratio wanted.
 */
export function allpassAlphaForFormantRatio(voiceAlpha: number, ratio: number): number {
  const k = ratio * ((1 - voiceAlpha) / (1 + voiceAlpha));
  return (1 - k) / (1 + k);
}

/**
 * TTS request fields that make `voices` (an engine's voice list) sound like `profile`: voice chosen by
 * register (closest median F0 among voices of the speaker's apparent sex, any voice if none), F0 median
 * and range, all-pass constant from the formant scale (only when `voiceAllpassAlpha` is given), tilt correction.
 */
export function ttsControlsForSpeaker(
  profile: SpeakerProfile,
  voices: readonly TtsVoice[],
  options: Partial<TimbreMappingOptions> = {},
): Partial<TtsRequest> {
  const o = { ...DEFAULT_TIMBRE_MAPPING, ...options };
  const out: Partial<TtsRequest> = {};
  const f0 = Number.isFinite(profile.medianF0Hz) && profile.medianF0Hz > 0 ? profile.medianF0Hz : undefined;
  const sex = f0 !== undefined && f0 < o.maleBelowF0Hz ? 'M' : 'F';
  const pool = voices.filter((v) => v.sex === sex);
  const candidates = pool.length ? pool : voices;
  if (candidates.length) {
    const target = f0 ?? candidates[0]!.medianF0Hz;
    const best = candidates.reduce((a, b) => (Math.abs(Math.log(b.medianF0Hz / target)) < Math.abs(Math.log(a.medianF0Hz / target)) ? b : a));
    out.voice = best.id;
  }
  if (f0 !== undefined) out.f0MedianHz = f0;
  if (Number.isFinite(profile.f0RangeSemitones) && profile.f0RangeSemitones > 0) {
    out.f0RangeSemitones = clamp(profile.f0RangeSemitones, o.minRangeSemitones, o.maxRangeSemitones);
  }
  const timbre: NonNullable<TtsRequest['timbre']> = {};
  if (o.voiceAllpassAlpha !== undefined && Number.isFinite(profile.formantScale) && profile.formantScale > 0) {
    const alpha = allpassAlphaForFormantRatio(o.voiceAllpassAlpha, profile.formantScale / o.voiceFormantScale);
    timbre.allpassAlpha = clamp(alpha, o.voiceAllpassAlpha - o.maxAlphaShift, o.voiceAllpassAlpha + o.maxAlphaShift);
  }
  if (Number.isFinite(profile.spectralTiltDbPerOctave)) {
    const tilt = clamp(profile.spectralTiltDbPerOctave - o.voiceTiltDbPerOctave, -o.maxTiltDbPerOctave, o.maxTiltDbPerOctave);
    if (Math.abs(tilt) > 0.25) timbre.tiltDbPerOctave = tilt;
  }
  if (Object.keys(timbre).length) out.timbre = timbre;
  return out;
}
