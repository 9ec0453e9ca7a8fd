import type { MonoAudio } from '../../audio/pcm.ts';

/**
 * Frame energy in dBFS (RMS of a `windowMs` window centred on each `frameMs` hop; a full-scale
 * sine reads −3 dB). Frames line up with {@link trackF0} frames. Silence floors at −120 dB.
 */
export function frameEnergyDb(audio: MonoAudio, frameMs = 10, windowMs = 25): Float32Array {
  const sr = audio.sampleRateHz;
  const x = audio.samples;
  const hop = Math.max(1, Math.round((frameMs * sr) / 1000));
  const win = Math.max(1, Math.round((windowMs * sr) / 1000));
  const n = Math.max(0, Math.ceil(x.length / hop));
  const out = new Float32Array(n);
  for (let f = 0; f < n; f++) {
    const start = f * hop - (win >> 1);
    let s = 0;
    for (let i = 0; i < win; i++) {
      const idx = start + i;
      if (idx >= 0 && idx < x.length) s += x[idx]! * x[idx]!;
    }
    out[f] = Math.max(-120, 10 * Math.log10(s / win + 1e-12));
  }
  return out;
}

/** A silent stretch, ms from the start of the analysed audio. */
export interface Pause { startMs: number; endMs: number }

/** Options of {@link detectPauses}. */
export interface PauseOptions {
  /** Frames below the speech level (95th percentile energy) minus this are silent, dB. Default 30. */
  relativeThresholdDb: number;
  /** Frames below this absolute level are silent, dBFS. Default −55. */
  absoluteThresholdDb: number;
  /** Shortest silence reported, ms. Default 150. */
  minPauseMs: number;
}

export const DEFAULT_PAUSE_OPTIONS: Readonly<PauseOptions> = Object.freeze({ relativeThresholdDb: 30, absoluteThresholdDb: -55, minPauseMs: 150 });

/** Silent stretches (including leading/trailing silence) from per-frame energies. */
export function detectPauses(energyDb: Float32Array, frameMs = 10, options: Partial<PauseOptions> = {}): Pause[] {
  const o = { ...DEFAULT_PAUSE_OPTIONS, ...options };
  if (energyDb.length === 0) return [];
  const level = percentile(energyDb, 0.95);
  const thr = Math.max(level - o.relativeThresholdDb, o.absoluteThresholdDb);
  const pauses: Pause[] = [];
  let i = 0;
  while (i < energyDb.length) {
    if (energyDb[i]! >= thr) { i++; continue; }
    let j = i;
    while (j < energyDb.length && energyDb[j]! < thr) j++;
    if ((j - i) * frameMs >= o.minPauseMs) pauses.push({ startMs: i * frameMs, endMs: j * frameMs });
    i = j;
  }
  return pauses;
}

/** q-quantile (0..1) of the values, by sorting a copy. NaN for no values. */
export function percentile(values: ArrayLike<number>, q: number): number {
  const a = Float64Array.from(values as ArrayLike<number>).sort();
  if (a.length === 0) return NaN;
  const pos = Math.min(a.length - 1, Math.max(0, q * (a.length - 1)));
  const lo = Math.floor(pos);
  const hi = Math.min(a.length - 1, lo + 1);
  return a[lo]! + (a[hi]! - a[lo]!) * (pos - lo);
}

/**
 * Syllable nuclei: peaks of the smoothed energy inside voiced frames, at least `minDipDb` above
 * the dips on both sides and `minGapMs` apart (de Jong & Wempe 2009 style).
 * Returns frame indices of the nuclei.
 */
export function syllableNuclei(energyDb: Float32Array, f0Hz: Float32Array, minDipDb = 2, minGapMs = 80, frameMs = 10): number[] {
  const n = Math.min(energyDb.length, f0Hz.length);
  const sm = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0, c = 0;
    for (let k = -3; k <= 3; k++) if (i + k >= 0 && i + k < n) { s += energyDb[i + k]!; c++; }
    sm[i] = s / c;
  }
  const peaks: number[] = [];
  const minGap = Math.max(1, Math.round(minGapMs / frameMs));
  for (let i = 1; i < n - 1; i++) {
    if (!(f0Hz[i]! > 0) || !(sm[i]! >= sm[i - 1]! && sm[i]! > sm[i + 1]!)) continue;
    let left = sm[i]!, right = sm[i]!;
    for (let k = i - 1; k >= 0 && sm[k]! <= sm[k + 1]! + 1e-9; k--) left = Math.min(left, sm[k]!);
    for (let k = i + 1; k < n && sm[k]! <= sm[k - 1]! + 1e-9; k++) right = Math.min(right, sm[k]!);
    // Edge of voicing counts as a dip: a single-syllable voiced island has no interior valley.
    const dip = sm[i]! - Math.max(left, right);
    const last = peaks[peaks.length - 1];
    if (dip < minDipDb && !(isIsland(f0Hz, i))) continue;
    if (last !== undefined && i - last < minGap) {
      if (sm[i]! > sm[last]!) peaks[peaks.length - 1] = i;
      continue;
    }
    peaks.push(i);
  }
  return peaks;
}

function isIsland(f0: Float32Array, i: number): boolean {
  let a = i, b = i;
  while (a > 0 && f0[a - 1]! > 0) a--;
  while (b < f0.length - 1 && f0[b + 1]! > 0) b++;
  return b - a < 25;
}

/** Syllables per second of voiced-or-between-syllable speech time (excludes pauses). */
export function speakingRate(nucleiCount: number, speechDurationMs: number): number {
  return speechDurationMs > 0 ? (nucleiCount * 1000) / speechDurationMs : 0;
}

/** Words per second between the first word's start and the last word's end. */
export function wordsPerSecond(words: ReadonlyArray<{ startMs: number; endMs: number }>): number {
  if (words.length === 0) return 0;
  const span = words[words.length - 1]!.endMs - words[0]!.startMs;
  return span > 0 ? (words.length * 1000) / span : 0;
}
