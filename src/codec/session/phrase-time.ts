import { EncodeError } from '../../core/errors.ts';
import type { RangeDecoder, RangeEncoder } from '../range/index.ts';

/**
 * In-band phrase start times (issue #5/#7 bit budget): instead of a 2–3-byte envelope time delta per
 * TextSegment, the start is coded inside the segment's range-coded bytes as the gap between the
 * predicted start (end of the previous phrase as its prosody renders it, or the last reliable frame's
 * time) and the actual start, in session time units. Zigzag value v, then its class
 * c = floor(log2(v + 1)) from a static table, then c raw bits. Pauses of 0.5–1.5 s at 100 ms units
 * cost ~5–7 bits; any gap up to 2^31 units is representable (nothing is clipped).
 */
const MAX_CLASS = 31;
// Relative frequencies of classes 0..31, fitted loosely to the dev corpus (gaps of 0.3–2 s dominate).
const CLASS_FREQ = [6, 6, 10, 16, 18, 14, 8, 4, 2, ...new Array<number>(MAX_CLASS + 1 - 9).fill(1)];
const CUM = (() => {
  const c = [0];
  for (const f of CLASS_FREQ) c.push(c[c.length - 1]! + f);
  return c;
})();
const TOTAL = CUM[CUM.length - 1]!;

/** Codes a signed gap (session time units) into `enc`. */
export function encodePhraseGap(enc: RangeEncoder, gapUnits: number): void {
  if (!Number.isInteger(gapUnits) || Math.abs(gapUnits) >= 2 ** 30) throw new EncodeError('invalid_value', `phrase time gap ${gapUnits} units is not an integer within ±2^30`);
  const v = gapUnits >= 0 ? 2 * gapUnits : -2 * gapUnits - 1;
  const c = Math.floor(Math.log2(v + 1));
  enc.encode(CUM[c]!, CLASS_FREQ[c]!, TOTAL);
  if (c > 0) enc.encodeBits(v + 1 - 2 ** c, c);
}

/** Decodes {@link encodePhraseGap}. */
export function decodePhraseGap(dec: RangeDecoder): number {
  const target = dec.getFreq(TOTAL);
  let c = 0;
  while (c < MAX_CLASS && CUM[c + 1]! <= target) c++;
  dec.decode(CUM[c]!, CLASS_FREQ[c]!, TOTAL);
  const v = (c > 0 ? dec.decodeBits(c) : 0) + 2 ** c - 1;
  return v & 1 ? -(v + 1) / 2 : v / 2;
}

/**
 * Both sides' view of where the next phrase is expected to start, in session time units. Advanced
 * only by reliable, in-order information (frames that are retransmitted until acknowledged), so a
 * lost best-effort frame cannot desynchronize it.
 */
export class PhraseClock {
  private lastReliableUnits = 0;
  private expectedNextUnits = 0;

  /** A reliable frame (header, speaker, End) carried this envelope time. */
  sawFrame(timeUnits: number): void {
    this.lastReliableUnits = Math.max(this.lastReliableUnits, timeUnits);
  }

  /** Predicted start of the next phrase. */
  get predictedUnits(): number {
    return Math.max(this.lastReliableUnits, this.expectedNextUnits);
  }

  /** A phrase started at `startUnits` and is expected to last `durationUnits`. */
  phrase(startUnits: number, durationUnits: number): void {
    this.lastReliableUnits = Math.max(this.lastReliableUnits, startUnits);
    this.expectedNextUnits = startUnits + Math.max(0, Math.round(durationUnits));
  }
}
