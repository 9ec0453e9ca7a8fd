import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EncodeError } from '../../../src/core/errors.ts';
import { COMPACT_PROFILE_BYTES, decodeSpeakerProfile, encodeCompactSpeakerProfile, encodeSpeakerProfile, type SpeakerProfile } from '../../../src/codec/speaker/index.ts';

const P: SpeakerProfile = {
  medianF0Hz: 118.3, f0RangeSemitones: 9.37, formantScale: 1.043, spectralTiltDbPerOctave: -7.81, hnrDb: 12.33,
  melCepstrumMean: [-3.21, 1.5, -0.77, 0.31, 0.02, -1.9, 2.2, -0.5, 0.11, 0.9, -0.33, 0.07], syllablesPerSecond: 4.37,
};
/** Half a quantization step of c1..c12 (layout in src/codec/speaker/compact-profile.ts). */
const CEP_HALF_STEP = [0.25, 0.125, 0.125, 0.125, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1];

describe('compact speaker profile (issue #17)', () => {
  it('is 12 bytes, decodes through decodeSpeakerProfile within half a step, and re-encodes to itself', () => {
    const b = encodeCompactSpeakerProfile(P);
    expect(b.length).toBe(COMPACT_PROFILE_BYTES);
    expect(b[0]! >> 4).toBe(2);
    const d = decodeSpeakerProfile(b);
    expect(Math.abs(12 * Math.log2(d.medianF0Hz / P.medianF0Hz))).toBeLessThanOrEqual(0.25 + 1e-9);
    expect(Math.abs(d.f0RangeSemitones - P.f0RangeSemitones)).toBeLessThanOrEqual(0.25 + 1e-9);
    expect(Math.abs(d.formantScale - P.formantScale)).toBeLessThanOrEqual(0.0025 + 1e-9);
    expect(Math.abs(d.spectralTiltDbPerOctave - P.spectralTiltDbPerOctave)).toBeLessThanOrEqual(0.25 + 1e-9);
    d.melCepstrumMean.forEach((v, i) => expect(Math.abs(v - P.melCepstrumMean[i]!)).toBeLessThanOrEqual(CEP_HALF_STEP[i]! + 1e-9));
    expect([d.hnrDb, d.syllablesPerSecond]).toEqual([0, 0]); // not carried
    expect(encodeCompactSpeakerProfile(d)).toEqual(b);
    // The bit layout is the contract: pinned bytes (checked by hand: 0010 0011110 010011 1000101 100000 011010 … = 23 c9 c5 81 a…).
    expect(Buffer.from(b).toString('hex')).toBe('23c9c581a99d8605f6e8d5d0');
  });

  it('every in-range profile survives within half a step; out-of-range values clamp', () => {
    fc.assert(fc.property(
      fc.tuple(fc.double({ min: -15.9, max: 15.4, noNaN: true }), ...[1, 2, 3].map(() => fc.double({ min: -7.9, max: 7.7, noNaN: true })), ...[4, 5].map(() => fc.double({ min: -6.3, max: 6.1, noNaN: true })), ...[6, 7, 8, 9, 10, 11].map(() => fc.double({ min: -3.1, max: 2.9, noNaN: true }))),
      fc.double({ min: 55, max: 1800, noNaN: true }),
      (mel, f0) => {
        const d = decodeSpeakerProfile(encodeCompactSpeakerProfile({ ...P, medianF0Hz: f0, melCepstrumMean: mel }));
        mel.forEach((v, i) => expect(Math.abs(d.melCepstrumMean[i]! - v)).toBeLessThanOrEqual(CEP_HALF_STEP[i]! + 1e-9));
        expect(Math.abs(12 * Math.log2(d.medianF0Hz / f0))).toBeLessThanOrEqual(0.25 + 1e-9);
      },
    ), { seed: 17, numRuns: 200 });
    const big = decodeSpeakerProfile(encodeCompactSpeakerProfile({ ...P, medianF0Hz: 0, formantScale: 3, melCepstrumMean: P.melCepstrumMean.map(() => -100) }));
    expect(big.medianF0Hz).toBe(0);
    expect(big.formantScale).toBeCloseTo(1.335, 9);
    expect(big.melCepstrumMean[0]).toBe(-16);
    expect(big.melCepstrumMean[11]).toBe(-3.2);
    expect(() => encodeCompactSpeakerProfile({ ...P, formantScale: Number.NaN })).toThrow(EncodeError);
  });

  it('the 32-byte layout still decodes, and 12 bytes of another version are truncated, not misread', () => {
    expect(decodeSpeakerProfile(encodeSpeakerProfile(P)).hnrDb).toBeCloseTo(12.4, 1);
    const b = encodeCompactSpeakerProfile(P);
    b[0] = (1 << 4) | (b[0]! & 15);
    expect(() => decodeSpeakerProfile(b)).toThrow(expect.objectContaining({ code: 'truncated' }));
  });
});
