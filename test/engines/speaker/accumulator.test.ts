import { describe, expect, it } from 'vitest';
import { InvalidStateError } from '../../../src/core/errors.ts';
import { isDifferentSpeaker, lpc, formantsFromLpc, speakerDistance, SpeakerProfileAccumulator } from '../../../src/engines/speaker/index.ts';

const SR = 16000;
/** Pulse train through three 2-pole resonators (formants × scale), F0 gliding ±3 st, 4 Hz syllabic AM. */
function voice(f0Hz: number, formantScale: number, seconds: number): Float32Array {
  const n = Math.round(seconds * SR);
  const src = new Float64Array(n);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const f = f0Hz * 2 ** ((3 * Math.sin(2 * Math.PI * 1 * (i / SR))) / 12);
    phase += f / SR;
    if (phase >= 1) { phase -= 1; src[i] = 1; }
  }
  let y = src;
  for (const [fHz, bw] of [[500, 80], [1500, 100], [2500, 120]] as const) {
    const fc = fHz * formantScale;
    const r = Math.exp((-Math.PI * bw) / SR);
    const a1 = 2 * r * Math.cos((2 * Math.PI * fc) / SR);
    const a2 = -r * r;
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = y[i]! + a1 * (out[i - 1] ?? 0) + a2 * (out[i - 2] ?? 0);
    y = out;
  }
  let peak = 0;
  for (const v of y) peak = Math.max(peak, Math.abs(v));
  return Float32Array.from(y, (v, i) => (0.5 * v / peak) * (0.6 - 0.4 * Math.cos(2 * Math.PI * 4 * (i / SR))));
}

describe('LPC formants', () => {
  it('recovers resonator frequencies within 6 %', () => {
    const x = voice(100, 1, 0.1);
    const frame = Float64Array.from(x.subarray(400, 800), (v, i) => v * (0.54 - 0.46 * Math.cos((2 * Math.PI * i) / 399)));
    const f = formantsFromLpc(lpc(frame, 18)!, SR);
    [500, 1500, 2500].forEach((t, i) => expect(Math.abs(f[i]! / t - 1)).toBeLessThan(0.06));
  });
});

describe('SpeakerProfileAccumulator', () => {
  it('measures median F0, range, formant scale and rate of a synthetic voice; refines incrementally', () => {
    const acc = new SpeakerProfileAccumulator();
    const x = voice(120, 1.0, 3);
    acc.add({ samples: x.subarray(0, SR), sampleRateHz: SR });
    const early = acc.profile();
    acc.add({ samples: x.subarray(SR), sampleRateHz: SR });
    const p = acc.profile();
    expect(acc.voicedMs).toBeGreaterThan(2500);
    expect(Math.abs(12 * Math.log2(p.medianF0Hz / 120))).toBeLessThan(0.5);
    expect(early.medianF0Hz).toBeGreaterThan(0);
    expect(p.f0RangeSemitones).toBeGreaterThan(4); // ±3 st glide → ~6 st between the 5th and 95th pct
    expect(p.f0RangeSemitones).toBeLessThan(7);
    expect(Math.abs(p.formantScale - 1)).toBeLessThan(0.08);
    expect(p.melCepstrumMean.length).toBe(12);
    expect(p.spectralTiltDbPerOctave).toBeLessThan(0); // resonators roll off above 2.5 kHz
    expect(p.hnrDb).toBeGreaterThan(5);
    expect(p.syllablesPerSecond).toBeGreaterThan(2.5);
    expect(p.syllablesPerSecond).toBeLessThan(5.5);
    acc.close();
    acc.close();
    expect(() => acc.add({ samples: x, sampleRateHz: SR })).toThrow(InvalidStateError);
  });

  it('tells a "female" voice (220 Hz, formants ×1.18) from a "male" one, and a voice from itself', () => {
    const prof = (f0: number, s: number, seconds = 2) => { const a = new SpeakerProfileAccumulator(); a.add({ samples: voice(f0, s, seconds), sampleRateHz: SR }); return a.profile(); };
    const m1 = prof(110, 1.0);
    const m2 = prof(112, 1.0, 2.5);
    const f = prof(220, 1.18);
    expect(f.formantScale / m1.formantScale).toBeGreaterThan(1.1);
    expect(isDifferentSpeaker(m1, f)).toBe(true);
    expect(isDifferentSpeaker(m1, m2)).toBe(false);
    expect(speakerDistance(m1, m1)).toBe(0);
  });
});
