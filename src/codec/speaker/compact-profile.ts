import { DecodeError, EncodeError } from '../../core/errors.ts';
import type { SpeakerProfile } from './profile.ts';

/** Layout version of the compact profile (high nibble of byte 0; the 32-byte layout is version 1). */
export const COMPACT_PROFILE_VERSION = 2;
/** Size of a compact profile, bytes. */
export const COMPACT_PROFILE_BYTES = 12;

/**
 * The compact speaker profile (issue #17): what the receiver renders, bit-packed MSB first into 12
 * bytes instead of 32, so that a call where several people take turns can announce each of them
 * (6 profiles on the dev concat session: 120 bytes less, 7 bit/s less at 133 s).
 * | bits | field | coding | step | range |
 * | 4 | version (2) | | | |
 * | 7 | medianF0Hz | 24·log2(f/50) | 0.5 st | 50 Hz – 1.95 kHz (0 = unknown) |
 * | 6 | f0RangeSemitones | ×2 | 0.5 st | 0 – 31.5 |
 * | 7 | formantScale | (s−0.7)·200 | 0.005 | 0.7 – 1.335 |
 * | 6 | spectralTiltDbPerOctave | (t+24)·2 | 0.5 dB/oct | −24 – +7.5 |
 * | 6 | mel-cepstrum c1 | signed ×2 | 0.5 | ±16 |
 * | 3×6 | c2..c4 | signed ×4 | 0.25 | ±8 |
 * | 2×6 | c5, c6 | signed ×5 | 0.2 | ±6.4 |
 * | 6×5 | c7..c12 | signed ×5 | 0.2 | ±3.2 |
 * The steps are far below what a listener hears: the cepstral error moves the rendered long-term
 * envelope by ~0.2 dB RMS, the F0 error is a quarter-tone at most. HNR and speaking rate, which no
 * renderer uses, are not carried (decoded as 0 = unknown). No checksum: the frame layer delivers
 * the bytes intact or not at all. Values outside a range are clamped.
 */
const CEP_BITS = [6, 6, 6, 6, 6, 6, 5, 5, 5, 5, 5, 5] as const;
const CEP_SCALE = [2, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5] as const;

class BitWriter {
  readonly bytes = new Uint8Array(COMPACT_PROFILE_BYTES);
  private at = 0;
  write(value: number, bits: number): void {
    for (let b = bits - 1; b >= 0; b--, this.at++) if ((value >> b) & 1) this.bytes[this.at >> 3]! |= 0x80 >> (this.at & 7);
  }
}

class BitReader {
  private at = 0;
  constructor(private readonly bytes: Uint8Array) {}
  read(bits: number): number {
    let v = 0;
    for (let b = 0; b < bits; b++, this.at++) v = (v << 1) | ((this.bytes[this.at >> 3]! >> (7 - (this.at & 7))) & 1);
    return v;
  }
}

const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, Math.round(v)));

/** Quantizes a profile to {@link COMPACT_PROFILE_BYTES} bytes (decode with decodeSpeakerProfile). */
export function encodeCompactSpeakerProfile(p: SpeakerProfile): Uint8Array {
  const vals = [p.medianF0Hz, p.f0RangeSemitones, p.formantScale, p.spectralTiltDbPerOctave, ...p.melCepstrumMean];
  if (vals.some((v) => !Number.isFinite(v))) throw new EncodeError('invalid_value', 'speaker profile: every field must be a finite number');
  const w = new BitWriter();
  w.write(COMPACT_PROFILE_VERSION, 4);
  w.write(p.medianF0Hz > 0 ? clamp(24 * Math.log2(p.medianF0Hz / 50), 1, 127) : 0, 7);
  w.write(clamp(p.f0RangeSemitones * 2, 0, 63), 6);
  w.write(clamp((p.formantScale - 0.7) * 200, 0, 127), 7);
  w.write(clamp((p.spectralTiltDbPerOctave + 24) * 2, 0, 63), 6);
  CEP_BITS.forEach((bits, i) => {
    const half = 1 << (bits - 1);
    w.write(clamp((p.melCepstrumMean[i] ?? 0) * CEP_SCALE[i]!, -half, half - 1) + half, bits);
  });
  return w.bytes;
}

/** Decodes {@link encodeCompactSpeakerProfile} bytes (exactly 12, version 2; the caller checked both). */
export function decodeCompactSpeakerProfile(bytes: Uint8Array): SpeakerProfile {
  if (bytes.length !== COMPACT_PROFILE_BYTES) throw new DecodeError('malformed', `compact speaker profile: ${bytes.length} bytes, expected ${COMPACT_PROFILE_BYTES}`);
  const r = new BitReader(bytes);
  if (r.read(4) !== COMPACT_PROFILE_VERSION) throw new DecodeError('unsupported_version', 'not a compact speaker profile');
  const f0 = r.read(7);
  const range = r.read(6);
  const scale = r.read(7);
  const tilt = r.read(6);
  const mel = CEP_BITS.map((bits, i) => (r.read(bits) - (1 << (bits - 1))) / CEP_SCALE[i]!);
  return {
    medianF0Hz: f0 === 0 ? 0 : 50 * 2 ** (f0 / 24),
    f0RangeSemitones: range / 2,
    formantScale: 0.7 + scale / 200,
    spectralTiltDbPerOctave: tilt / 2 - 24,
    hnrDb: 0,
    melCepstrumMean: mel,
    syllablesPerSecond: 0,
  };
}
