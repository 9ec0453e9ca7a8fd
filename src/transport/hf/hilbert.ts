/**
 * Streaming analytic signal of a real signal: the real part is the input delayed by the FIR's
 * group delay, the imaginary part its Hilbert transform (Blackman-windowed ideal FIR, 2/(πn) on
 * odd taps). 127 taps keep the ripple under ~0.1 dB from ~150 Hz to Fs/2 − 150 Hz, wider than any
 * SSB voice channel, so the FreeDV modems' 300–3000 Hz audio passes untouched.
 */
export const HILBERT_TAPS = 127;
/** Group delay of the analytic signal, samples. */
export const HILBERT_DELAY = (HILBERT_TAPS - 1) / 2;

function hilbertCoefficients(): Float64Array {
  const h = new Float64Array(HILBERT_TAPS);
  for (let n = 0; n < HILBERT_TAPS; n++) {
    const k = n - HILBERT_DELAY;
    if (k % 2 === 0) continue;
    const w = 0.42 - 0.5 * Math.cos((2 * Math.PI * n) / (HILBERT_TAPS - 1)) + 0.08 * Math.cos((4 * Math.PI * n) / (HILBERT_TAPS - 1));
    h[n] = (2 / (Math.PI * k)) * w;
  }
  return h;
}

export class AnalyticSignal {
  private readonly h = hilbertCoefficients();
  /** Taps that are not zero (every other one). */
  private readonly taps = [...this.h.keys()].filter((n) => this.h[n] !== 0);
  /** The last HILBERT_TAPS − 1 inputs, then the current block. */
  private history = new Float64Array(HILBERT_TAPS - 1);

  /** Writes the analytic signal of `x` (delayed by HILBERT_DELAY samples) into re/im. */
  process(x: ArrayLike<number>, re: Float64Array, im: Float64Array): void {
    const hist = this.history.length;
    const buf = new Float64Array(hist + x.length);
    buf.set(this.history);
    for (let i = 0; i < x.length; i++) buf[hist + i] = x[i]!;
    const h = this.h;
    const taps = this.taps;
    for (let i = 0; i < x.length; i++) {
      // buf[i + HILBERT_TAPS - 1] is x[i]; the FIR output at i uses buf[i .. i + TAPS - 1].
      let acc = 0;
      for (const n of taps) acc += h[n]! * buf[i + HILBERT_TAPS - 1 - n]!;
      im[i] = acc;
      re[i] = buf[i + HILBERT_TAPS - 1 - HILBERT_DELAY]!;
    }
    this.history = buf.slice(buf.length - hist);
  }
}
