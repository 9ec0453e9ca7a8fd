import type { MonoAudio } from '../../audio/pcm.ts';
import { UsageError } from '../../core/errors.ts';

/** Options of {@link trackF0}. */
export interface F0TrackerOptions {
  /** Lowest F0 searched, Hz. Default 65: keeps 50/60 Hz mains hum (strong in some dev recordings) out of the search. */
  minF0Hz: number;
  /** Highest F0 searched, Hz. Default 500. */
  maxF0Hz: number;
  /** Hop between frames, ms. Default 10. */
  frameMs: number;
  /** Integration window of the difference function, ms. Default 25. */
  windowMs: number;
  /** YIN absolute threshold on the normalized difference (first dip below it wins). Default 0.15. */
  yinThreshold: number;
  /** Frames whose best normalized difference exceeds this are unvoiced. Default 0.35. */
  voicingThreshold: number;
  /** Frames quieter than the loudest frame minus this are unvoiced, dB. Default 45. */
  silenceRangeDb: number;
  /** Viterbi cost per octave of F0 jump between voiced frames. Default 3. */
  octaveJumpCost: number;
  /** Viterbi cost of switching voiced ↔ unvoiced. Default 0.15. */
  voicingSwitchCost: number;
  /** Voiced runs shorter than this many frames become unvoiced. Default 3. */
  minVoicedFrames: number;
  /** Low-pass cut-off before the period search (weakens formants that bait octave errors), Hz; 0 = off. Default 1000. */
  lowpassHz: number;
  /** Second-pass cost per octave beyond ±half an octave from the utterance's median F0. Default 1. */
  medianPriorCost: number;
}

export const DEFAULT_F0_TRACKER_OPTIONS: Readonly<F0TrackerOptions> = Object.freeze({
  minF0Hz: 65,
  maxF0Hz: 500,
  frameMs: 10,
  windowMs: 25,
  yinThreshold: 0.15,
  voicingThreshold: 0.35,
  silenceRangeDb: 45,
  octaveJumpCost: 3,
  voicingSwitchCost: 0.15,
  minVoicedFrames: 3,
  lowpassHz: 1000,
  medianPriorCost: 1,
});

/** An F0 track: frame i is centred at i·frameMs + windowMs/2 … approximately i·frameMs. */
export interface F0Track {
  frameMs: number;
  /** F0 per frame, Hz; 0 = unvoiced. */
  f0Hz: Float32Array;
  /** 1 − normalized difference at the chosen period (0..1), before the voicing decision. */
  periodicity: Float32Array;
  /** Voicing probability proxy in 0..1: periodicity, 0 for frames below the energy gate. */
  voicedProb: Float32Array;
}

interface Candidate { f0Hz: number; cost: number }

const MAX_CANDIDATES = 4;
const PRIOR_LOW_LAG_COST = 0.15; // per octave of lag above the YIN pick: breaks ties toward the true period

/**
 * YIN pitch tracker with pYIN-style candidate Viterbi: per frame, the local minima of the
 * cumulative-mean-normalized difference are candidates; a Viterbi pass over candidates plus an
 * unvoiced state penalizes octave jumps, so isolated octave errors are corrected by context.
 * Works at any sample rate (16 kHz expected).
 */
export function trackF0(audio: MonoAudio, options: Partial<F0TrackerOptions> = {}): F0Track {
  const o = { ...DEFAULT_F0_TRACKER_OPTIONS, ...options };
  if (!(o.minF0Hz > 0) || !(o.maxF0Hz > o.minF0Hz)) throw new UsageError(`trackF0: bad F0 range ${o.minF0Hz}..${o.maxF0Hz} Hz`);
  const sr = audio.sampleRateHz;
  const x = o.lowpassHz > 0 ? lowpass(audio.samples, o.lowpassHz, audio.sampleRateHz) : audio.samples;
  const hop = Math.max(1, Math.round((o.frameMs * sr) / 1000));
  const win = Math.max(8, Math.round((o.windowMs * sr) / 1000));
  const minLag = Math.max(2, Math.floor(sr / o.maxF0Hz));
  const maxLag = Math.ceil(sr / o.minF0Hz);
  const numFrames = Math.max(0, Math.ceil(x.length / hop));
  const periodicity = new Float32Array(numFrames);
  const voicedProb = new Float32Array(numFrames);
  const f0Hz = new Float32Array(numFrames);
  const energyDb = new Float64Array(numFrames);
  const cands: Candidate[][] = [];
  const d = new Float64Array(maxLag + 2);
  const frame = new Float64Array(win + maxLag + 1);
  let maxDb = -Infinity;
  for (let f = 0; f < numFrames; f++) {
    // Frame centred on f·hop so frame times line up with energy frames and word times.
    const start = f * hop - Math.floor((win + maxLag) / 2);
    let e = 0;
    for (let i = 0; i < frame.length; i++) {
      const idx = start + i;
      frame[i] = idx >= 0 && idx < x.length ? x[idx]! : 0;
    }
    for (let i = 0; i < win; i++) e += frame[i + (maxLag >> 1)]! ** 2;
    energyDb[f] = 10 * Math.log10(e / win + 1e-12);
    if (energyDb[f]! > maxDb) maxDb = energyDb[f]!;
    // Difference function d(τ) and its cumulative-mean normalization d'(τ).
    d[0] = 1;
    let running = 0;
    for (let tau = 1; tau <= maxLag + 1; tau++) {
      let s = 0;
      for (let j = 0; j < win; j++) { const v = frame[j]! - frame[j + tau]!; s += v * v; }
      running += s;
      d[tau] = running > 0 ? (s * tau) / running : 1;
    }
    const minima: Array<{ lag: number; v: number }> = [];
    for (let tau = minLag; tau <= maxLag; tau++) {
      if (d[tau]! < d[tau - 1]! && d[tau]! <= d[tau + 1]!) minima.push({ lag: refineLag(d, tau), v: d[tau]! });
    }
    let yinPick = minima.find((m) => m.v < o.yinThreshold);
    if (!yinPick && minima.length > 0) yinPick = minima.reduce((a, b) => (b.v < a.v ? b : a));
    const best = minima.slice().sort((a, b) => a.v - b.v).slice(0, MAX_CANDIDATES);
    if (yinPick && !best.includes(yinPick)) best.push(yinPick);
    // Lag prior measured from the shortest plausible period, so a subharmonic that YIN's threshold
    // happened to prefer still pays for being an octave down.
    const refLag = minima.find((m) => m.v < o.voicingThreshold)?.lag ?? yinPick?.lag ?? minLag;
    cands.push(best.map((m) => ({ f0Hz: sr / m.lag, cost: m.v + PRIOR_LOW_LAG_COST * Math.abs(Math.log2(m.lag / refLag)) })));
    periodicity[f] = yinPick ? Math.max(0, Math.min(1, 1 - yinPick.v)) : 0;
  }
  let gateDb = Math.max(maxDb - o.silenceRangeDb, -75);
  // With a distinct quiet floor (pauses), require voiced frames to stand 6 dB above it: a periodic
  // background (hum, buzz) is then not mistaken for voice.
  const sortedDb = Float64Array.from(energyDb).sort();
  const floorDb = sortedDb.length ? sortedDb[Math.floor(sortedDb.length * 0.1)]! : -120;
  if (maxDb - floorDb > 20) gateDb = Math.max(gateDb, floorDb + 6);
  for (let f = 0; f < numFrames; f++) {
    if (energyDb[f]! < gateDb) cands[f] = [];
    voicedProb[f] = energyDb[f]! < gateDb ? 0 : periodicity[f]!;
  }
  viterbi(cands, o, f0Hz);
  if (o.medianPriorCost > 0) {
    // Octave errors come in runs that Viterbi alone keeps; a prior around the first pass's median breaks them.
    const voiced = Array.from(f0Hz).filter((v) => v > 0).sort((a, b) => a - b);
    if (voiced.length >= 10) {
      const med = voiced[voiced.length >> 1]!;
      const biased = cands.map((cs) => cs.map((c) => ({ f0Hz: c.f0Hz, cost: c.cost + o.medianPriorCost * Math.max(0, Math.abs(Math.log2(c.f0Hz / med)) - 0.5) })));
      viterbi(biased, o, f0Hz);
    }
  }
  dropShortRuns(f0Hz, o.minVoicedFrames);
  return { frameMs: (hop * 1000) / sr, f0Hz, periodicity, voicedProb };
}

/** Two cascaded RBJ biquad low-passes (Q 0.707): 24 dB/oct above `cutHz`. */
function lowpass(x: Float32Array, cutHz: number, sr: number): Float32Array {
  const w = (2 * Math.PI * Math.min(cutHz, sr * 0.45)) / sr;
  const alpha = Math.sin(w) / (2 * Math.SQRT1_2);
  const c = Math.cos(w);
  const a0 = 1 + alpha;
  const b0 = (1 - c) / 2 / a0, b1 = (1 - c) / a0, b2 = b0, a1 = (-2 * c) / a0, a2 = (1 - alpha) / a0;
  let y = Float32Array.from(x);
  for (let pass = 0; pass < 2; pass++) {
    const out = new Float32Array(y.length);
    let x1 = 0, x2 = 0, y1 = 0, y2 = 0;
    for (let i = 0; i < y.length; i++) {
      const v = b0 * y[i]! + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
      x2 = x1; x1 = y[i]!; y2 = y1; y1 = v;
      out[i] = v;
    }
    y = out;
  }
  return y;
}

function refineLag(d: Float64Array, tau: number): number {
  const a = d[tau - 1]!, b = d[tau]!, c = d[tau + 1]!;
  const den = a - 2 * b + c;
  if (den <= 0) return tau;
  const shift = (0.5 * (a - c)) / den;
  return tau + Math.max(-0.5, Math.min(0.5, shift));
}

function viterbi(cands: Candidate[][], o: F0TrackerOptions, out: Float32Array): void {
  const n = cands.length;
  if (n === 0) return;
  // State 0 = unvoiced, states 1.. = candidates of the frame.
  const back: Int16Array[] = [];
  let prevCost = [o.voicingThreshold, ...cands[0]!.map((c) => c.cost)];
  back.push(new Int16Array(prevCost.length));
  for (let f = 1; f < n; f++) {
    const cur = cands[f]!;
    const prev = cands[f - 1]!;
    const cost: number[] = new Array(cur.length + 1);
    const bp = new Int16Array(cur.length + 1);
    for (let s = 0; s <= cur.length; s++) {
      const local = s === 0 ? o.voicingThreshold : cur[s - 1]!.cost;
      let bestC = Infinity;
      let bestP = 0;
      for (let p = 0; p <= prev.length; p++) {
        let t: number;
        if (s === 0 && p === 0) t = 0;
        else if (s === 0 || p === 0) t = o.voicingSwitchCost;
        else t = o.octaveJumpCost * Math.abs(Math.log2(cur[s - 1]!.f0Hz / prev[p - 1]!.f0Hz));
        const c = prevCost[p]! + t;
        if (c < bestC) { bestC = c; bestP = p; }
      }
      cost[s] = bestC + local;
      bp[s] = bestP;
    }
    back.push(bp);
    prevCost = cost;
  }
  let s = 0;
  for (let i = 1; i < prevCost.length; i++) if (prevCost[i]! < prevCost[s]!) s = i;
  for (let f = n - 1; f >= 0; f--) {
    out[f] = s === 0 ? 0 : cands[f]![s - 1]!.f0Hz;
    s = back[f]![s]!;
  }
}

function dropShortRuns(f0: Float32Array, minRun: number): void {
  let i = 0;
  while (i < f0.length) {
    if (f0[i] === 0) { i++; continue; }
    let j = i;
    while (j < f0.length && f0[j]! > 0) j++;
    if (j - i < minRun) f0.fill(0, i, j);
    i = j;
  }
}
