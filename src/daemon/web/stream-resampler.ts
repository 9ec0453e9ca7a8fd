/**
 * Streaming sample-rate conversion for the browser audio paths: WebRTC audio is 48 kHz, the
 * daemon's microphone input is 16 kHz. Chunks are 20 ms, so the batch resampler in
 * src/audio/resample.ts would click at every chunk edge; these keep filter state across chunks.
 */
import { besselI0, resample } from '../../audio/resample.ts';

/** Kaiser-windowed sinc low-pass, cut-off `cutoff` in cycles per sample, unit DC gain. */
function lowPass(taps: number, cutoff: number, beta = 8): Float64Array {
  const h = new Float64Array(taps);
  const mid = (taps - 1) / 2;
  let sum = 0;
  for (let i = 0; i < taps; i++) {
    const t = i - mid;
    const sinc = t === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * t) / (Math.PI * t);
    const r = t / (mid + 1);
    h[i] = sinc * (besselI0(beta * Math.sqrt(1 - r * r)) / besselI0(beta));
    sum += h[i] as number;
  }
  for (let i = 0; i < taps; i++) h[i] = (h[i] as number) / sum;
  return h;
}

/**
 * Converts a stream by an integer factor (48 kHz → 16 kHz is `down` 3, 16 kHz → 48 kHz is `up` 3)
 * with a polyphase FIR (~ 16 zero crossings each side, stop band ≈ −80 dB). Output length over a
 * whole stream = input length × factor (or ÷ factor); delay ≈ 16 output samples at the low rate.
 */
export class IntegerResampler {
  private readonly h: Float64Array;
  private history: Float32Array;
  private phase = 0;

  constructor(
    readonly direction: 'up' | 'down',
    readonly factor: number,
    zeroCrossings = 16,
  ) {
    if (!Number.isInteger(factor) || factor < 1) throw new RangeError(`resampling factor must be a positive integer, got ${factor}`);
    const taps = 2 * zeroCrossings * factor + 1;
    // Cut-off just below the low-rate Nyquist frequency, in units of the high rate.
    this.h = lowPass(taps, 0.45 / factor);
    this.history = new Float32Array(direction === 'down' ? taps - 1 : Math.ceil(taps / factor));
  }

  /** Converts the next chunk; any length. */
  process(input: Float32Array): Float32Array {
    return this.direction === 'down' ? this.down(input) : this.up(input);
  }

  private down(input: Float32Array): Float32Array {
    const M = this.factor;
    const h = this.h;
    const N = h.length;
    const buf = new Float32Array(this.history.length + input.length);
    buf.set(this.history);
    buf.set(input, this.history.length);
    // Output n is centred on buffer index p (newest tap); needs p - (N - 1) >= 0.
    const out: number[] = [];
    let p = N - 1 + this.phase;
    for (; p < buf.length; p += M) {
      let acc = 0;
      for (let k = 0; k < N; k++) acc += (h[k] as number) * (buf[p - k] as number);
      out.push(acc);
    }
    this.phase = p - buf.length;
    this.history = buf.slice(buf.length - (N - 1));
    return Float32Array.from(out);
  }

  private up(input: Float32Array): Float32Array {
    const L = this.factor;
    const h = this.h;
    const N = h.length;
    const H = this.history.length;
    const buf = new Float32Array(H + input.length);
    buf.set(this.history);
    buf.set(input, H);
    const out = new Float32Array(input.length * L);
    for (let n = 0; n < input.length; n++) {
      const newest = H + n;
      for (let r = 0; r < L; r++) {
        let acc = 0;
        // y[nL + r] = L · Σ_k h[kL + r] x[n − k]
        for (let k = 0; k * L + r < N; k++) acc += (h[k * L + r] as number) * (buf[newest - k] as number);
        out[n * L + r] = acc * L;
      }
    }
    this.history = buf.slice(buf.length - H);
    return out;
  }
}

/**
 * Any rate → a target rate, streaming when the ratio is an integer (the usual 16k/48k cases), chunk
 * by chunk otherwise (a small click per chunk is tolerable for other rates).
 */
export class RateConverter {
  private readonly stages = new Map<number, IntegerResampler | null>();
  constructor(readonly targetRateHz: number) {}

  process(samples: Float32Array, sampleRateHz: number): Float32Array {
    if (sampleRateHz === this.targetRateHz) return samples;
    let stage = this.stages.get(sampleRateHz);
    if (stage === undefined) {
      const hi = Math.max(sampleRateHz, this.targetRateHz);
      const lo = Math.min(sampleRateHz, this.targetRateHz);
      stage = hi % lo === 0 ? new IntegerResampler(sampleRateHz > this.targetRateHz ? 'down' : 'up', hi / lo) : null;
      this.stages.set(sampleRateHz, stage);
    }
    if (stage) return stage.process(samples);
    return resample({ samples, sampleRateHz }, this.targetRateHz).samples;
  }
}

/** Float [-1, 1] → signed 16-bit, clipped. */
export function floatToS16(samples: Float32Array): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const v = Math.round((samples[i] as number) * 32767);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

/** Signed 16-bit → float [-1, 1). */
export function s16ToFloat(pcm: Int16Array): Float32Array {
  const out = new Float32Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = (pcm[i] as number) / 32768;
  return out;
}
