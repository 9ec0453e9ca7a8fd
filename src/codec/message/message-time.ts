import { EncodeError } from '../../core/errors.ts';
import { AdaptiveFrequencyModel, type RangeDecoder, type RangeEncoder } from '../range/index.ts';

/*
 * Phrase start gaps inside a voice message (issue #16), coarser than a session's
 * (src/codec/session/phrase-time.ts). A phrase's gap is its start minus the predicted start, the end
 * of the previous phrase as the receiver renders it — so a positive gap is exactly the pause the
 * listener hears before the phrase. Pauses are heard relatively (a 1.6 s pause 0.1 s longer is not
 * noticed; duration discrimination is ~10–20 % of the duration), and a message has no live audio
 * to stay in step with, so a message keeps each gap to 2 significant bits below its leading one:
 * gaps up to 6 units are exact, longer ones are off by at most 1/8 of the gap (12.5 %; 100 ms on
 * 0.8 s, 200 ms on 1.6 s). A session needs every unit (its receiver schedules against the sender's
 * clock), so it keeps the exact coding.
 *
 * Coding: sign-magnitude. The class c = floor(log2(|g| + 1)) from the session's static class table
 * (the same frequencies, read as magnitude classes: no new constants); when g ≠ 0 its sign, from an
 * adaptive model that starts at 1 overlap in 8 (a phrase's predicted start is the end of the
 * previous one, and phrases follow each other, so a negative gap needs a rendering that overshoots
 * by more than the pause; a speaker for whom that is common teaches the model within the message);
 * then the top min(c, {@link GAP_MANTISSA_BITS}) of the c bits below the leading one of |g| + 1.
 */

/** Mantissa bits a message keeps per gap. */
export const GAP_MANTISSA_BITS = 2;
const MAX_CLASS = 30;
/** Longest gap a message codes, units (exclusive). */
const MAX_GAP_UNITS = 2 ** 28;
// src/codec/session/phrase-time.ts CLASS_FREQ (not exported there), classes 0..30.
const CLASS_FREQ = [6, 6, 10, 16, 18, 14, 8, 4, 2, ...new Array<number>(MAX_CLASS + 1 - 9).fill(1)];
const CUM = CLASS_FREQ.reduce<number[]>((c, f) => [...c, c[c.length - 1]! + f], [0]);
const TOTAL = CUM[CLASS_FREQ.length]!;

function classOf(magnitude: number): number {
  return Math.floor(Math.log2(magnitude + 1));
}

/**
 * The gap a message carries for `gapUnits`: |g| + 1 rounded to {@link GAP_MANTISSA_BITS} bits below
 * its leading one — to the nearest for a pause (g > 0), towards 0 for an overlap (g < 0), so a
 * phrase never starts earlier against its predecessor than it really did.
 */
export function quantizeMessageGap(gapUnits: number): number {
  if (!Number.isInteger(gapUnits) || Math.abs(gapUnits) >= MAX_GAP_UNITS) throw new EncodeError('invalid_value', `phrase time gap ${gapUnits} units is not an integer within ±2^28 (~310 days at 100 ms)`);
  const w = Math.abs(gapUnits) + 1;
  const c = classOf(w - 1);
  if (c <= GAP_MANTISSA_BITS) return gapUnits;
  const step = 2 ** (c - GAP_MANTISSA_BITS);
  const q = (gapUnits > 0 ? Math.round(w / step) : Math.floor(w / step)) * step;
  // Rounding up may reach the next class (2^(c+1)): still representable (class ≤ 28 < MAX_CLASS).
  return Math.sign(gapUnits) * (q - 1);
}

/** Codes and decodes the phrase start gaps of one message (state: the sign model). */
export class MessageGapCoder {
  private readonly sign = new AdaptiveFrequencyModel(2, { increment: 2, limit: 1 << 10, initial: [7, 1] });

  /** Codes `gapUnits`, which must be a {@link quantizeMessageGap} value (EncodeError `invalid_value` otherwise). */
  encode(enc: RangeEncoder, gapUnits: number): void {
    if (quantizeMessageGap(gapUnits) !== gapUnits) throw new EncodeError('invalid_value', `phrase time gap ${gapUnits} is not a quantized message gap`);
    const m = Math.abs(gapUnits);
    const c = classOf(m);
    enc.encode(CUM[c]!, CLASS_FREQ[c]!, TOTAL);
    if (m === 0) return;
    this.sign.encode(enc, gapUnits < 0 ? 1 : 0);
    const kept = Math.min(c, GAP_MANTISSA_BITS);
    if (kept > 0) enc.encodeBits((m + 1 - 2 ** c) / 2 ** (c - kept), kept);
  }

  /** Decodes {@link encode}. */
  decode(dec: RangeDecoder): number {
    const target = dec.getFreq(TOTAL);
    let c = 0;
    while (c < MAX_CLASS && CUM[c + 1]! <= target) c++;
    dec.decode(CUM[c]!, CLASS_FREQ[c]!, TOTAL);
    if (c === 0) return 0;
    const negative = this.sign.decode(dec) === 1;
    const kept = Math.min(c, GAP_MANTISSA_BITS);
    const m = 2 ** c + dec.decodeBits(kept) * 2 ** (c - kept) - 1;
    return negative ? -m : m;
  }
}
