import { describe, expect, it } from 'vitest';
import { detectPauses, frameEnergyDb, SpeakerF0Normalizer, syllableNuclei, trackF0, wordsPerSecond } from '../../../src/engines/prosody/index.ts';

const SR = 16000;
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}
/** Glottal-like pulse train: each period a decaying resonance at 700 Hz, F0 given per sample. */
function pulseTrain(f0At: (tSec: number) => number, durationSec: number, amp = 0.5): Float32Array {
  const n = Math.round(durationSec * SR);
  const x = new Float32Array(n);
  let phase = 0;
  let lastPulse = -1e9;
  for (let i = 0; i < n; i++) {
    phase += f0At(i / SR) / SR;
    if (phase >= 1) { phase -= 1; lastPulse = i; }
    const t = (i - lastPulse) / SR;
    x[i] = amp * Math.exp(-t * 600) * Math.sin(2 * Math.PI * 700 * t) + amp * 0.5 * Math.exp(-t * 300) * Math.sin(2 * Math.PI * 250 * t);
  }
  return x;
}
function errorsSemitones(f0: Float32Array, truth: (i: number) => number, from: number, to: number): { voicedFrac: number; medianAbsSt: number; grossFrac: number } {
  const errs: number[] = [];
  let voiced = 0, gross = 0;
  for (let i = from; i < to; i++) {
    if (f0[i]! > 0) {
      voiced++;
      const e = Math.abs(12 * Math.log2(f0[i]! / truth(i)));
      errs.push(e);
      if (e > 1) gross++;
    }
  }
  errs.sort((a, b) => a - b);
  return { voicedFrac: voiced / (to - from), medianAbsSt: errs[errs.length >> 1] ?? Infinity, grossFrac: voiced ? gross / voiced : 1 };
}

describe('trackF0', () => {
  it('a 220 Hz sine: ≥ 95 % frames voiced, median error < 0.05 semitone', () => {
    const x = new Float32Array(SR).map((_, i) => 0.5 * Math.sin((2 * Math.PI * 220 * i) / SR));
    const t = trackF0({ samples: x, sampleRateHz: SR });
    expect(t.frameMs).toBe(10);
    expect(t.f0Hz.length).toBe(100);
    const e = errorsSemitones(t.f0Hz, () => 220, 5, 95);
    expect(e.voicedFrac).toBeGreaterThanOrEqual(0.95);
    expect(e.medianAbsSt).toBeLessThan(0.05);
    expect(e.grossFrac).toBe(0);
  });

  it('a 120 Hz pulse train with ±1 semitone 5 Hz vibrato: no gross (>1 st) errors, median < 0.2 st', () => {
    const f = (t: number) => 120 * 2 ** (Math.sin(2 * Math.PI * 5 * t) / 12);
    const x = pulseTrain(f, 1.5);
    const tr = trackF0({ samples: x, sampleRateHz: SR });
    const e = errorsSemitones(tr.f0Hz, (i) => f(i / 100), 5, 145);
    expect(e.voicedFrac).toBeGreaterThan(0.95);
    expect(e.grossFrac).toBe(0);
    expect(e.medianAbsSt).toBeLessThan(0.2);
  });

  it('octave bait: missing fundamental (harmonics 2–6 of 140 Hz) and alternating pulse amplitudes stay at the true F0', () => {
    const n = SR;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) for (let h = 2; h <= 6; h++) x[i] += (0.3 / h) * Math.sin((2 * Math.PI * 140 * h * i) / SR + h);
    const e1 = errorsSemitones(trackF0({ samples: x, sampleRateHz: SR }).f0Hz, () => 140, 5, 95);
    expect(e1.voicedFrac).toBeGreaterThan(0.9);
    expect(e1.grossFrac).toBe(0);
    // A 200 Hz train whose every other pulse is 10 % weaker: strict period is 10 ms, perceived 200 Hz.
    const y = pulseTrain(() => 200, 1);
    for (let i = 0; i < y.length; i++) if (Math.floor((i * 200) / SR) % 2 === 1) y[i] *= 0.9;
    const e2 = errorsSemitones(trackF0({ samples: y, sampleRateHz: SR }).f0Hz, () => 200, 5, 95);
    expect(e2.grossFrac).toBeLessThan(0.05);
  });

  it('white noise is unvoiced (≥ 90 % of frames)', () => {
    const r = rng(7);
    const x = new Float32Array(SR).map(() => (r() * 2 - 1) * 0.3);
    const t = trackF0({ samples: x, sampleRateHz: SR });
    const voiced = t.f0Hz.filter((v) => v > 0).length;
    expect(voiced / t.f0Hz.length).toBeLessThan(0.1);
  });

  it('silence between two voiced stretches is unvoiced; a female-range 300 Hz stretch is tracked', () => {
    const a = pulseTrain(() => 300, 0.5);
    const x = new Float32Array(SR * 1.5);
    x.set(a, 0);
    x.set(a, SR);
    const t = trackF0({ samples: x, sampleRateHz: SR });
    for (let i = 60; i < 95; i++) expect(t.f0Hz[i]).toBe(0);
    expect(errorsSemitones(t.f0Hz, () => 300, 5, 45).grossFrac).toBe(0);
  });
});

describe('energy, pauses, rate, normalizer', () => {
  it('frameEnergyDb reads −3 dB for a full-scale sine and −120 for silence', () => {
    const x = new Float32Array(SR);
    for (let i = 0; i < SR / 2; i++) x[i] = Math.sin((2 * Math.PI * 1000 * i) / SR);
    const e = frameEnergyDb({ samples: x, sampleRateHz: SR });
    expect(e[20]).toBeCloseTo(-3.01, 1);
    expect(e[80]).toBe(-120);
  });
  it('detectPauses finds a 300 ms gap', () => {
    const e = new Float32Array(200).fill(-20);
    e.fill(-90, 100, 130);
    expect(detectPauses(e)).toEqual([{ startMs: 1000, endMs: 1300 }]);
  });
  it('syllableNuclei counts 4 bursts of a 4 Hz amplitude-modulated voiced signal', () => {
    const x = pulseTrain(() => 130, 1);
    for (let i = 0; i < x.length; i++) x[i] *= 0.55 - 0.45 * Math.cos(2 * Math.PI * 4 * (i / SR));
    const f0 = trackF0({ samples: x, sampleRateHz: SR }).f0Hz;
    const nuclei = syllableNuclei(frameEnergyDb({ samples: x, sampleRateHz: SR }), f0);
    expect(nuclei.length).toBe(4);
  });
  it('wordsPerSecond and the normalizer', () => {
    expect(wordsPerSecond([{ startMs: 0, endMs: 400 }, { startMs: 500, endMs: 1000 }])).toBe(2);
    const n = new SpeakerF0Normalizer();
    n.update(new Float32Array([100, 0, 400, 200]));
    const s = n.state;
    expect(2 ** s.meanLog2).toBeCloseTo(200, 6);
    expect(s.count).toBe(3);
    expect(s.stdLog2).toBeCloseTo(1, 6);
    expect(n.semitones(400)).toBeCloseTo(12, 6);
  });
});
