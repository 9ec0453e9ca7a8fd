import { UsageError } from '../../../core/errors.ts';
import { hzToMel, nextPowerOfTwo, powerSpectrum } from '../../../audio/spectrum/index.ts';

/**
 * Kaldi `compute-fbank-feats` / `torchaudio.compliance.kaldi.fbank` with the settings WeSpeaker,
 * 3D-Speaker and sherpa-onnx speaker encoders are trained with (dither 0, snip_edges true, power
 * spectrum, no energy term; Povey window by default, Hamming for WeSpeaker), followed by the
 * utterance mean normalization those encoders apply before the network.
 */
export interface KaldiFbankOptions {
  /** Sample rate of the input, Hz. Default 16000. */
  sampleRateHz: number;
  /** Frame length, ms. Default 25 (400 samples at 16 kHz). */
  frameLengthMs: number;
  /** Frame shift, ms. Default 10 (160 samples at 16 kHz). */
  frameShiftMs: number;
  /** Number of triangular mel bins. Default 80. */
  numMelBins: number;
  /** Lowest mel-bank edge, Hz. Default 20. */
  lowFreqHz: number;
  /** Highest mel-bank edge, Hz; ≤ 0 means Nyquist + value (Kaldi convention). Default 0. */
  highFreqHz: number;
  /** Analysis window: Kaldi's default `povey` (3D-Speaker, sherpa-onnx) or `hamming` (WeSpeaker), or `hann`. Default povey. */
  windowType: FbankWindowType;
  /** Pre-emphasis coefficient. Default 0.97. */
  preemphasis: number;
  /** Subtract each frame's mean before pre-emphasis. Default true. */
  removeDcOffset: boolean;
  /** Subtract the per-bin mean over the utterance (CMN, as WeSpeaker does). Default true. */
  meanNormalize: boolean;
}

export const DEFAULT_KALDI_FBANK_OPTIONS: Readonly<KaldiFbankOptions> = Object.freeze({
  sampleRateHz: 16000,
  frameLengthMs: 25,
  frameShiftMs: 10,
  numMelBins: 80,
  lowFreqHz: 20,
  highFreqHz: 0,
  windowType: 'povey',
  preemphasis: 0.97,
  removeDcOffset: true,
  meanNormalize: true,
});

/** Window shapes of Kaldi's feature extraction. */
export type FbankWindowType = 'povey' | 'hamming' | 'hann';

/** Floor of the mel energies before the log: torch.finfo(float32).eps, as torchaudio uses. */
export const FBANK_LOG_FLOOR = 1.1920928955078125e-7;

/** Log-mel features, row-major `numFrames × numBins` (the layout of an ONNX `[1, T, 80]` tensor). */
export interface FbankFeatures {
  data: Float32Array;
  numFrames: number;
  numBins: number;
}

/** Frames Kaldi makes with snip_edges = true: 1 + ⌊(N − window) / shift⌋, 0 when N < window. */
export function kaldiFrameCount(numSamples: number, windowSamples: number, shiftSamples: number): number {
  return numSamples < windowSamples ? 0 : 1 + Math.floor((numSamples - windowSamples) / shiftSamples);
}

/** Povey window: a symmetric Hann window raised to 0.85 (Kaldi's default). */
export function poveyWindow(length: number): Float64Array {
  return kaldiWindow('povey', length);
}

/** Kaldi's symmetric windows (cosine argument 2πi/(N−1)). */
export function kaldiWindow(type: FbankWindowType, length: number): Float64Array {
  const w = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const c = Math.cos((2 * Math.PI * i) / (length - 1));
    w[i] = type === 'hamming' ? 0.54 - 0.46 * c : type === 'hann' ? 0.5 - 0.5 * c : (0.5 - 0.5 * c) ** 0.85;
  }
  return w;
}

/**
 * Kaldi mel filterbank: triangles linear on the mel scale (not in Hz), over the FFT bins 0..n/2−1
 * (the Nyquist bin gets weight 0, as in Kaldi). One row of n/2+1 weights per bin.
 * Kaldi's scale is 1127·ln(1 + f/700); {@link hzToMel} is 2595·log10(1 + f/700), the same curve
 * times a constant, and the triangles are ratios of mel differences, so the weights are identical.
 */
export function kaldiMelBanks(numBins: number, fftSize: number, sampleRateHz: number, lowFreqHz: number, highFreqHz: number): Float64Array[] {
  const nyquist = sampleRateHz / 2;
  const high = highFreqHz <= 0 ? nyquist + highFreqHz : highFreqHz;
  if (!Number.isInteger(numBins) || numBins < 1) throw new UsageError(`fbank: numMelBins ${numBins} must be a positive integer`);
  if (!(lowFreqHz >= 0 && high > lowFreqHz && high <= nyquist)) throw new UsageError(`fbank: bad mel band ${lowFreqHz}..${high} Hz`);
  const melLow = hzToMel(lowFreqHz);
  const melHigh = hzToMel(high);
  const delta = (melHigh - melLow) / (numBins + 1);
  const half = fftSize >> 1;
  const binHz = sampleRateHz / fftSize;
  const banks: Float64Array[] = [];
  for (let m = 0; m < numBins; m++) {
    const left = melLow + m * delta;
    const center = left + delta;
    const right = center + delta;
    const row = new Float64Array(half + 1);
    for (let k = 0; k < half; k++) {
      const mel = hzToMel(k * binHz);
      if (mel > left && mel < right) row[k] = mel <= center ? (mel - left) / (center - left) : (right - mel) / (right - center);
    }
    banks.push(row);
  }
  return banks;
}

/**
 * Kaldi-style log-mel filterbank features of 16-bit-scaled audio.
 * @param pcm Int16Array (used as is) or Float32Array in [-1, 1] (multiplied by 32768, as Kaldi and
 *   WeSpeaker see int16 values)
 * @returns `numFrames × numMelBins` features; zero frames when the input is shorter than one window
 */
export function kaldiFbank(pcm: Int16Array | Float32Array, options: Partial<KaldiFbankOptions> = {}): FbankFeatures {
  const o = { ...DEFAULT_KALDI_FBANK_OPTIONS, ...options };
  const win = Math.round((o.frameLengthMs * o.sampleRateHz) / 1000);
  const shift = Math.round((o.frameShiftMs * o.sampleRateHz) / 1000);
  if (win < 2 || shift < 1) throw new UsageError(`fbank: frame ${o.frameLengthMs} ms / shift ${o.frameShiftMs} ms too short`);
  const scale = pcm instanceof Int16Array ? 1 : 32768;
  const fftSize = nextPowerOfTwo(win);
  const banks = kaldiMelBanks(o.numMelBins, fftSize, o.sampleRateHz, o.lowFreqHz, o.highFreqHz);
  // Only the non-zero span of each triangle is summed.
  const spans = banks.map((row) => {
    let a = 0;
    while (a < row.length && row[a] === 0) a++;
    let b = row.length;
    while (b > a && row[b - 1] === 0) b--;
    return [a, b] as const;
  });
  if (o.windowType !== 'povey' && o.windowType !== 'hamming' && o.windowType !== 'hann') throw new UsageError(`fbank: unknown window type '${String(o.windowType)}'`);
  const window = kaldiWindow(o.windowType, win);
  const numFrames = kaldiFrameCount(pcm.length, win, shift);
  const data = new Float32Array(numFrames * o.numMelBins);
  const frame = new Float64Array(win);
  for (let f = 0; f < numFrames; f++) {
    const start = f * shift;
    let mean = 0;
    for (let i = 0; i < win; i++) {
      frame[i] = pcm[start + i]! * scale;
      mean += frame[i]!;
    }
    if (o.removeDcOffset) {
      mean /= win;
      for (let i = 0; i < win; i++) frame[i]! -= mean;
    }
    if (o.preemphasis !== 0) {
      // Kaldi: x[i] -= p·x[i−1] from the end, and x[0] -= p·x[0].
      for (let i = win - 1; i > 0; i--) frame[i] = frame[i]! - o.preemphasis * frame[i - 1]!;
      frame[0] = frame[0]! * (1 - o.preemphasis);
    }
    for (let i = 0; i < win; i++) frame[i] = frame[i]! * window[i]!;
    const power = powerSpectrum(frame, fftSize);
    const row = f * o.numMelBins;
    for (let m = 0; m < o.numMelBins; m++) {
      const w = banks[m]!;
      const [a, b] = spans[m]!;
      let e = 0;
      for (let k = a; k < b; k++) e += w[k]! * power[k]!;
      data[row + m] = Math.log(Math.max(e, FBANK_LOG_FLOOR));
    }
  }
  if (o.meanNormalize && numFrames > 0) {
    for (let m = 0; m < o.numMelBins; m++) {
      let s = 0;
      for (let f = 0; f < numFrames; f++) s += data[f * o.numMelBins + m]!;
      const mean = s / numFrames;
      for (let f = 0; f < numFrames; f++) data[f * o.numMelBins + m] = data[f * o.numMelBins + m]! - mean;
    }
  }
  return { data, numFrames, numBins: o.numMelBins };
}
