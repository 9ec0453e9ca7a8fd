import { describe, expect, it } from 'vitest';
import type { SpeakerProfile } from '../../src/codec/speaker/profile.ts';
import { allpassAlphaForFormantRatio, ttsControlsForSpeaker } from '../../src/engines/tts/timbre.ts';
import type { TtsVoice } from '../../src/engines/tts/types.ts';

const VOICES: TtsVoice[] = [
  { id: 'slt', sex: 'F', medianF0Hz: 170 },
  { id: 'rms', sex: 'M', medianF0Hz: 105 },
  { id: 'awb', sex: 'M', medianF0Hz: 130 },
];
const profile = (p: Partial<SpeakerProfile>): SpeakerProfile => ({
  medianF0Hz: 200, f0RangeSemitones: 8, formantScale: 1.17, spectralTiltDbPerOctave: -6, hnrDb: 15,
  melCepstrumMean: [], syllablesPerSecond: 4, ...p,
});

describe('ttsControlsForSpeaker', () => {
  it('picks a voice by register and passes F0 median and range', () => {
    expect(ttsControlsForSpeaker(profile({ medianF0Hz: 110 }), VOICES).voice).toBe('rms');
    expect(ttsControlsForSpeaker(profile({ medianF0Hz: 140 }), VOICES).voice).toBe('awb');
    const f = ttsControlsForSpeaker(profile({ medianF0Hz: 210, f0RangeSemitones: 40 }), VOICES);
    expect(f.voice).toBe('slt');
    expect(f.f0MedianHz).toBe(210);
    expect(f.f0RangeSemitones).toBe(18);
    // Only a female voice available: keep it and shift.
    expect(ttsControlsForSpeaker(profile({ medianF0Hz: 100 }), [VOICES[0]!]).voice).toBe('slt');
  });

  it('raises alpha for a longer vocal tract, lowers it for a shorter one, and leaves it alone at the voice scale', () => {
    const o = { voiceAllpassAlpha: 0.45 };
    expect(ttsControlsForSpeaker(profile({ formantScale: 1.17 }), VOICES, o).timbre?.allpassAlpha).toBeCloseTo(0.45, 6);
    const male = ttsControlsForSpeaker(profile({ formantScale: 1.0 }), VOICES, o).timbre!.allpassAlpha!;
    const child = ttsControlsForSpeaker(profile({ formantScale: 1.3 }), VOICES, o).timbre!.allpassAlpha!;
    expect(male).toBeGreaterThan(0.45);
    expect(male).toBeLessThanOrEqual(0.55 + 1e-9);
    expect(child).toBeLessThan(0.45);
    // Engines without all-pass control get no alpha.
    expect(ttsControlsForSpeaker(profile({ formantScale: 1.0 }), VOICES).timbre?.allpassAlpha).toBeUndefined();
  });

  it('alpha inversion is exact and tilt correction is clamped', () => {
    const a = allpassAlphaForFormantRatio(0.42, 0.9);
    const render = (alpha: number) => (1 - alpha) / (1 + alpha);
    expect(render(a) / render(0.42)).toBeCloseTo(0.9, 9);
    expect(ttsControlsForSpeaker(profile({ spectralTiltDbPerOctave: -20 }), VOICES).timbre?.tiltDbPerOctave).toBe(-3);
    expect(ttsControlsForSpeaker(profile({ spectralTiltDbPerOctave: -6 }), VOICES).timbre).toBeUndefined();
  });
});
