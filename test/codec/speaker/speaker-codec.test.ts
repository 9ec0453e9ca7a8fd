import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DecodeError, EncodeError } from '../../../src/core/errors.ts';
import { decodeSpeakerProfile, encodeSpeakerProfile, profileHash, SPEAKER_FIELD_STEPS, type SpeakerProfile } from '../../../src/codec/speaker/index.ts';

const P: SpeakerProfile = {
  medianF0Hz: 118.3, f0RangeSemitones: 9.37, formantScale: 1.043, spectralTiltDbPerOctave: -7.81, hnrDb: 12.33,
  melCepstrumMean: [-3.21, 1.5, -0.77, 0.31, 0.02, -1.9, 2.2, -0.5, 0.11, 0.9, -0.33, 0.07], syllablesPerSecond: 4.37,
};

describe('speaker profile codec', () => {
  it('is 32 bytes and every field is within half a quantization step', () => {
    const b = encodeSpeakerProfile(P);
    expect(b.length).toBe(32);
    const d = decodeSpeakerProfile(b);
    expect(Math.abs(12 * Math.log2(d.medianF0Hz / P.medianF0Hz))).toBeLessThanOrEqual(SPEAKER_FIELD_STEPS.medianF0Semitones / 2 + 1e-9);
    expect(Math.abs(d.f0RangeSemitones - P.f0RangeSemitones)).toBeLessThanOrEqual(SPEAKER_FIELD_STEPS.f0RangeSemitones / 2 + 1e-9);
    expect(Math.abs(d.formantScale - P.formantScale)).toBeLessThanOrEqual(SPEAKER_FIELD_STEPS.formantScale / 2 + 1e-9);
    expect(Math.abs(d.spectralTiltDbPerOctave - P.spectralTiltDbPerOctave)).toBeLessThanOrEqual(SPEAKER_FIELD_STEPS.spectralTiltDbPerOctave / 2 + 1e-9);
    expect(Math.abs(d.hnrDb - P.hnrDb)).toBeLessThanOrEqual(SPEAKER_FIELD_STEPS.hnrDb / 2 + 1e-9);
    expect(Math.abs(d.syllablesPerSecond - P.syllablesPerSecond)).toBeLessThanOrEqual(SPEAKER_FIELD_STEPS.syllablesPerSecond / 2 + 1e-9);
    d.melCepstrumMean.forEach((v, i) => expect(Math.abs(v - P.melCepstrumMean[i]!)).toBeLessThanOrEqual(SPEAKER_FIELD_STEPS.melCepstrum / 2 + 1e-9));
    // Re-encoding a decoded profile is a fixed point.
    expect(encodeSpeakerProfile(d)).toEqual(b);
  });

  it('negative cepstra and tilts survive for random in-range profiles', () => {
    fc.assert(fc.property(fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: 12, maxLength: 12 }), fc.double({ min: -20, max: 5, noNaN: true }), (mel, tilt) => {
      const d = decodeSpeakerProfile(encodeSpeakerProfile({ ...P, melCepstrumMean: mel, spectralTiltDbPerOctave: tilt }));
      mel.forEach((v, i) => expect(Math.abs(d.melCepstrumMean[i]! - v)).toBeLessThanOrEqual(1 / 512 + 1e-9));
      expect(Math.abs(d.spectralTiltDbPerOctave - tilt)).toBeLessThanOrEqual(1 / 16 + 1e-9);
    }), { seed: 3, numRuns: 100 });
  });

  it('bad length, version and corruption are DecodeErrors with codes', () => {
    const b = encodeSpeakerProfile(P);
    expect(() => decodeSpeakerProfile(b.slice(0, 31))).toThrow(expect.objectContaining({ code: 'truncated' }));
    expect(() => decodeSpeakerProfile(new Uint8Array(33))).toThrow(expect.objectContaining({ code: 'too_large' }));
    const v2 = b.slice(); v2[0] = 2 << 4;
    expect(() => decodeSpeakerProfile(v2)).toThrow(expect.objectContaining({ code: 'unsupported_version' }));
    const bad = b.slice(); bad[10] ^= 1;
    expect(() => decodeSpeakerProfile(bad)).toThrow(DecodeError);
    expect(() => decodeSpeakerProfile(bad)).toThrow(expect.objectContaining({ code: 'malformed' }));
    expect(() => encodeSpeakerProfile({ ...P, hnrDb: NaN })).toThrow(EncodeError);
  });

  it('profileHash is a uint32 FNV-1a that changes with content', () => {
    expect(profileHash(new Uint8Array(0))).toBe(0x811c9dc5);
    expect(profileHash(new TextEncoder().encode('a'))).toBe(0xe40c292c);
    const b = encodeSpeakerProfile(P);
    const c = encodeSpeakerProfile({ ...P, medianF0Hz: 200 });
    expect(profileHash(b)).not.toBe(profileHash(c));
    expect(Number.isInteger(profileHash(b)) && profileHash(b) >= 0 && profileHash(b) < 2 ** 32).toBe(true);
  });
});
