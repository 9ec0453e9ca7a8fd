/** Autocorrelation LPC (Levinson–Durbin); returns a[0..order] with a[0] = 1, or undefined if unstable. */
export function lpc(frame: Float64Array, order: number): Float64Array | undefined {
  const r = new Float64Array(order + 1);
  for (let k = 0; k <= order; k++) {
    let s = 0;
    for (let i = k; i < frame.length; i++) s += frame[i]! * frame[i - k]!;
    r[k] = s;
  }
  if (!(r[0]! > 0)) return undefined;
  r[0] = r[0]! * (1 + 1e-9);
  const a = new Float64Array(order + 1);
  a[0] = 1;
  let err = r[0]!;
  for (let i = 1; i <= order; i++) {
    let acc = r[i]!;
    for (let j = 1; j < i; j++) acc += a[j]! * r[i - j]!;
    const k = -acc / err;
    const prev = a.slice();
    for (let j = 1; j < i; j++) a[j] = prev[j]! + k * prev[i - j]!;
    a[i] = k;
    err *= 1 - k * k;
    if (!(err > 0)) return undefined;
  }
  return a;
}

/** Peaks of the LPC envelope 1/|A(e^jω)| between loHz and hiHz (first `count`), Hz. */
export function formantsFromLpc(a: Float64Array, sampleRateHz: number, count = 3, loHz = 200, hiHz = 4000, points = 512): number[] {
  const env = new Float64Array(points);
  for (let p = 0; p < points; p++) {
    const w = (Math.PI * p) / points;
    let re = 0, im = 0;
    for (let k = 0; k < a.length; k++) { re += a[k]! * Math.cos(w * k); im -= a[k]! * Math.sin(w * k); }
    env[p] = -Math.log(re * re + im * im + 1e-300);
  }
  const out: number[] = [];
  for (let p = 1; p < points - 1 && out.length < count; p++) {
    const hz = (p * sampleRateHz) / (2 * points);
    if (hz < loHz || hz > hiHz) continue;
    if (env[p]! > env[p - 1]! && env[p]! >= env[p + 1]!) out.push(hz);
  }
  return out;
}

/** Neutral-tube (≈17.5 cm, adult male) formants the scale is measured against, Hz. */
export const NEUTRAL_FORMANTS_HZ: readonly number[] = Object.freeze([500, 1500, 2500]);
