import { DecodeError, EncodeError } from '../../core/errors.ts';
import type { SpeakerProfile } from './profile.ts';
import { COMPACT_PROFILE_BYTES, COMPACT_PROFILE_VERSION, decodeCompactSpeakerProfile } from './compact-profile.ts';

/** Layout version carried in the high nibble of byte 0. */
export const SPEAKER_PROFILE_VERSION = 1;
/** Size of a coded profile, bytes. */
export const SPEAKER_PROFILE_BYTES = 32;
/** Mel-cepstral coefficients carried (c1..c12). */
export const SPEAKER_CEPSTRA = 12;

/**
 * Fixed layout, quantization step (max error = step/2) and range per field:
 * | byte | field | coding | step | range |
 * | 0 | version<<4 | | | |
 * | 1 | medianF0Hz | 4·12·log2(f/50) | 0.25 st | 50 Hz – 2 kHz (0 = unknown) |
 * | 2 | f0RangeSemitones | ×8 | 0.125 st | 0 – 31.9 |
 * | 3 | formantScale | (s−0.7)·400 | 0.0025 | 0.7 – 1.3375 |
 * | 4 | spectralTiltDbPerOctave | (t+24)·8 | 0.125 dB/oct | −24 – +7.9 |
 * | 5 | hnrDb | (h+10)·5 | 0.2 dB | −10 – 41 |
 * | 6 | syllablesPerSecond | ×25 | 0.04 /s | 0 – 10.2 |
 * | 7–30 | melCepstrumMean[0..11] | int16 BE ×256 | 1/256 | ±128 |
 * | 31 | checksum | sum of bytes 0–30 mod 256, xor 0xA5 | | |
 * Values outside a range are clamped (a profile is a rendering hint, not a measurement record).
 */
export const SPEAKER_FIELD_STEPS = Object.freeze({
  medianF0Semitones: 0.25,
  f0RangeSemitones: 0.125,
  formantScale: 0.0025,
  spectralTiltDbPerOctave: 0.125,
  hnrDb: 0.2,
  syllablesPerSecond: 0.04,
  melCepstrum: 1 / 256,
});

const clampByte = (v: number) => Math.max(0, Math.min(255, Math.round(v)));

/** Quantizes a profile to {@link SPEAKER_PROFILE_BYTES} bytes. */
export function encodeSpeakerProfile(p: SpeakerProfile): Uint8Array {
  const vals = [p.medianF0Hz, p.f0RangeSemitones, p.formantScale, p.spectralTiltDbPerOctave, p.hnrDb, p.syllablesPerSecond, ...p.melCepstrumMean];
  if (vals.some((v) => !Number.isFinite(v))) throw new EncodeError('invalid_value', 'speaker profile: every field must be a finite number');
  const out = new Uint8Array(SPEAKER_PROFILE_BYTES);
  out[0] = SPEAKER_PROFILE_VERSION << 4;
  out[1] = p.medianF0Hz > 0 ? Math.max(1, clampByte(4 * 12 * Math.log2(p.medianF0Hz / 50))) : 0;
  out[2] = clampByte(p.f0RangeSemitones * 8);
  out[3] = clampByte((p.formantScale - 0.7) * 400);
  out[4] = clampByte((p.spectralTiltDbPerOctave + 24) * 8);
  out[5] = clampByte((p.hnrDb + 10) * 5);
  out[6] = clampByte(p.syllablesPerSecond * 25);
  const view = new DataView(out.buffer);
  for (let i = 0; i < SPEAKER_CEPSTRA; i++) {
    const v = p.melCepstrumMean[i] ?? 0;
    view.setInt16(7 + 2 * i, Math.max(-32768, Math.min(32767, Math.round(v * 256))), false);
  }
  out[31] = checksum(out);
  return out;
}

/**
 * Decodes {@link encodeSpeakerProfile} bytes, or the 12-byte compact layout (version 2,
 * encodeCompactSpeakerProfile, issue #17); DecodeError `truncated`/`too_large`/`unsupported_version`/`malformed`.
 */
export function decodeSpeakerProfile(bytes: Uint8Array): SpeakerProfile {
  if (bytes.length === COMPACT_PROFILE_BYTES && bytes[0]! >> 4 === COMPACT_PROFILE_VERSION) return decodeCompactSpeakerProfile(bytes);
  if (bytes.length < SPEAKER_PROFILE_BYTES) throw new DecodeError('truncated', `speaker profile: ${bytes.length} bytes, need ${SPEAKER_PROFILE_BYTES}`);
  if (bytes.length > SPEAKER_PROFILE_BYTES) throw new DecodeError('too_large', `speaker profile: ${bytes.length} bytes, expected ${SPEAKER_PROFILE_BYTES}`);
  const version = bytes[0]! >> 4;
  if (version !== SPEAKER_PROFILE_VERSION) throw new DecodeError('unsupported_version', `speaker profile version ${version}; this receiver reads version ${SPEAKER_PROFILE_VERSION}: update stcts`);
  if ((bytes[0]! & 15) !== 0 || bytes[31] !== checksum(bytes)) throw new DecodeError('malformed', 'speaker profile: checksum mismatch');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const mel: number[] = [];
  for (let i = 0; i < SPEAKER_CEPSTRA; i++) mel.push(view.getInt16(7 + 2 * i, false) / 256);
  return {
    medianF0Hz: bytes[1] === 0 ? 0 : 50 * 2 ** (bytes[1]! / 48),
    f0RangeSemitones: bytes[2]! / 8,
    formantScale: 0.7 + bytes[3]! / 400,
    spectralTiltDbPerOctave: bytes[4]! / 8 - 24,
    hnrDb: bytes[5]! / 5 - 10,
    melCepstrumMean: mel,
    syllablesPerSecond: bytes[6]! / 25,
  };
}

function checksum(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < 31; i++) s = (s + b[i]!) & 255;
  return s ^ 0xa5;
}

/** FNV-1a 32-bit hash of the coded profile (uint32): the receiver's cache key. */
export function profileHash(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
