import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DecodeError } from '../../../src/core/errors.ts';
import { RangeDecoder, RangeEncoder } from '../../../src/codec/range/index.ts';
import {
  DCT_COEFFS, PhraseProsodyCoder, decodePhraseProsody, decodeProsodyDetail, encodePhraseProsody, encodeProsodyDetail,
  hzToSt, initialProsodyState, quantizePhraseProsody, renderProsody, type PhraseAnalysis, type PhraseProsody, type ProsodyMode,
} from '../../../src/codec/prosody/index.ts';

const WORDS = ['the', 'birch', 'canoe', 'slid', 'on', 'the', 'smooth', 'planks'];

/** Synthetic phrase: words 300 ms each with a 100 ms gap after word 3, F0 falling 180→120 Hz with a rise on word 4. */
function phrase(bumpSt = 3): PhraseAnalysis {
  const words = WORDS.map((word, i) => ({ word, startMs: 100 + i * 300 + (i > 3 ? 100 : 0), endMs: 100 + i * 300 + 280 + (i > 3 ? 100 : 0) }));
  const end = words[words.length - 1]!.endMs + 100;
  const f0Hz = new Float32Array(end / 10);
  for (let f = 0; f < f0Hz.length; f++) {
    const t = f * 10;
    const inWord = words.find((w) => t >= w.startMs && t < w.endMs - 40);
    if (!inWord) continue;
    const u = (t - 100) / (end - 200);
    f0Hz[f] = 180 * (120 / 180) ** u * (inWord === words[4] ? 2 ** (bumpSt / 12) : 1);
  }
  return { words, f0Hz, f0FrameMs: 10 };
}

function roundTrip(p: PhraseProsody, wordCount: number, state = initialProsodyState()): { back: PhraseProsody; bits: number } {
  const enc = new RangeEncoder();
  encodePhraseProsody(p, enc, wordCount, state);
  const bits = enc.infoBits.get('prosody') ?? 0;
  const bytes = enc.finish();
  const dec = new RangeDecoder(bytes);
  const back = decodePhraseProsody(dec, wordCount, state);
  dec.finish();
  return { back, bits };
}

describe('phrase prosody coding', () => {
  it.each(['minimal', 'balanced', 'high'] as ProsodyMode[])('%s: quantized values round-trip exactly within the bit budget', (mode) => {
    const { prosody, detail } = quantizePhraseProsody(phrase(), mode, initialProsodyState());
    expect(prosody.dctQ.length).toBe(DCT_COEFFS[mode]);
    // Steady state of a session in this mode (a mode switch costs ~6 bits once).
    const { back, bits } = roundTrip(prosody, WORDS.length, { ...initialProsodyState(), lastMode: mode });
    expect(back).toEqual(prosody);
    // Caps for this 2.7 s phrase, including the first-phrase level jump from the 150 Hz prior.
    const cap = { minimal: 14, balanced: 34, high: 34 }[mode];
    expect(bits).toBeLessThan(cap);
    if (mode === 'high') {
      expect(detail).toBeDefined();
      const d = encodeProsodyDetail(detail!);
      expect(decodeProsodyDetail(d.coded, WORDS.length)).toEqual(detail);
    } else expect(detail).toBeUndefined();
  });

  it('negative and large values survive (escape path), property-based', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -200, max: 200 }), fc.integer({ min: -100, max: 100 }),
        fc.array(fc.integer({ min: -300, max: 300 }), { minLength: 6, maxLength: 6 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 5, maxLength: 5 }),
        (levelQ, rateQ, dctQ, pauseQ) => {
          const p: PhraseProsody = { mode: 'balanced', levelQ, rateQ, dctQ, pauseQ };
          expect(roundTrip(p, 6).back).toEqual(p);
        },
      ),
      { seed: 42, numRuns: 200 },
    );
    const d = { wordDurQ: [-40, 3, 0], wordF0Q: [-7, 25, -1] };
    expect(decodeProsodyDetail(encodeProsodyDetail(d).coded, 3)).toEqual(d);
  });

  it('the coder predicts from the previous phrase: a repeated phrase costs fewer bits, both sides stay in step', () => {
    const { prosody } = quantizePhraseProsody(phrase(), 'balanced', initialProsodyState(100));
    const tx = new PhraseProsodyCoder(initialProsodyState(100));
    const rx = new PhraseProsodyCoder(initialProsodyState(100));
    const text = WORDS.join(' ');
    const bits: number[] = [];
    for (let i = 0; i < 3; i++) {
      const enc = new RangeEncoder();
      tx.encode(prosody, enc, text);
      bits.push(enc.infoBits.get('prosody')!);
      const dec = new RangeDecoder(enc.finish());
      expect(rx.decode(dec, text)).toEqual(prosody);
      dec.finish();
      expect(rx.state).toEqual(tx.state);
    }
    expect(bits[1]!).toBeLessThan(bits[0]!);
  });

  it('a speaker change re-anchors the level prediction at the profile median F0 (both sides)', () => {
    const text = WORDS.join(' ');
    // The session started predicting 220 Hz (e.g. the previous speaker); this speaker is lower.
    const { prosody } = quantizePhraseProsody(phrase(), 'balanced', initialProsodyState(220));
    expect(Math.abs(prosody.levelQ - initialProsodyState(220).refLevelQ)).toBeGreaterThanOrEqual(4);
    const profileHz = 100 * 2 ** (prosody.levelQ / 12); // a profile whose median is this phrase's level
    const cost = (anchored: boolean) => {
      const tx = new PhraseProsodyCoder(initialProsodyState(220), true, () => profileHz);
      const rx = new PhraseProsodyCoder(initialProsodyState(220), true, () => profileHz);
      if (anchored) { tx.speakerChanged(new Uint8Array(1)); rx.speakerChanged(new Uint8Array(1)); }
      expect(rx.state).toEqual(tx.state);
      const enc = new RangeEncoder();
      tx.encode(prosody, enc, text);
      const dec = new RangeDecoder(enc.finish());
      expect(rx.decode(dec, text)).toEqual(prosody);
      return enc.infoBits.get('prosody')!;
    };
    expect(cost(true)).toBeLessThan(cost(false) - 2);
    // Without a profile reader the prediction stays where it was.
    const plain = new PhraseProsodyCoder(initialProsodyState(150));
    plain.speakerChanged(new Uint8Array(1));
    expect(plain.state).toEqual(initialProsodyState(150));
  });

  it('garbage → DecodeError', () => {
    expect(() => decodeProsodyDetail(new Uint8Array(200).fill(0xff), 3)).toThrow(DecodeError);
    expect(() => decodeProsodyDetail(new Uint8Array([1, 2, 3]), 1000)).toThrow(DecodeError);
    let threw = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const bytes = Uint8Array.from({ length: 12 }, (_, i) => (seed * 97 + i * 31) & 255);
      try { decodeProsodyDetail(bytes, 2); } catch (e) { expect(e).toBeInstanceOf(DecodeError); threw++; }
    }
    expect(threw).toBeGreaterThan(15);
  });
});

describe('renderProsody', () => {
  it('balanced contour tracks the analysed contour: RMS error < 1.5 st on voiced frames, continuous, no zeros', () => {
    const a = phrase();
    const { prosody } = quantizePhraseProsody(a, 'balanced', initialProsodyState());
    const r = renderProsody(prosody, WORDS);
    expect(r.f0TimeBase).toBe('normalized');
    expect(r.wordDurationsMs!.length).toBe(WORDS.length);
    expect(r.pausesAfterMs![3]).toBeGreaterThan(0);
    for (const v of r.f0Hz) expect(v).toBeGreaterThan(40);
    for (let i = 1; i < r.f0Hz.length; i++) expect(Math.abs(hzToSt(r.f0Hz[i]!) - hzToSt(r.f0Hz[i - 1]!))).toBeLessThan(0.5);
    const span0 = a.words[0]!.startMs, span1 = a.words[a.words.length - 1]!.endMs;
    let se = 0, n = 0;
    for (let f = 0; f < a.f0Hz.length; f++) {
      if (!(a.f0Hz[f]! > 0)) continue;
      const u = (f * 10 - span0) / (span1 - span0);
      const j = Math.min(r.f0Hz.length - 1, Math.max(0, Math.floor(u * r.f0Hz.length)));
      se += (hzToSt(a.f0Hz[f]!) - hzToSt(r.f0Hz[j]!)) ** 2;
      n++;
    }
    expect(Math.sqrt(se / n)).toBeLessThan(1.5);
    // Rendered span ≈ analysed span (rate quantized to 1/8 octave, pauses to classes).
    expect(Math.abs(r.spanMs - (span1 - span0)) / (span1 - span0)).toBeLessThan(0.1);
  });

  // Bound: word-duration residual step 1/2 octave (±1/4 by rounding) plus the phrase rate step 1/8 octave (±1/16).
  it('high mode with detail reproduces word durations within 5/16 octave and lifts a raised word', () => {
    const a = phrase(8);
    const { prosody, detail } = quantizePhraseProsody(a, 'high', initialProsodyState());
    const r = renderProsody(prosody, WORDS, { detail });
    a.words.forEach((w, i) => expect(Math.abs(Math.log2(r.wordDurationsMs![i]! / (w.endMs - w.startMs)))).toBeLessThanOrEqual(1 / 4 + 1 / 16 + 0.001));
    expect(detail!.wordF0Q[4]).toBeGreaterThanOrEqual(1); // +8 st bump, partly already in the 6-term DCT
    const without = renderProsody(prosody, WORDS);
    expect(without.wordDurationsMs!.length).toBe(WORDS.length); // missing detail frame: the in-band rendering is still complete
    // Middle of word 4 on the normalized time axis: higher with the detail than without.
    const mid = (a.words[4]!.startMs + a.words[4]!.endMs) / 2 - a.words[0]!.startMs;
    const span = a.words[7]!.endMs - a.words[0]!.startMs;
    const at = (f: Float32Array) => f[Math.floor((mid / span) * f.length)]!;
    expect(at(r.f0Hz)).toBeGreaterThan(at(without.f0Hz));
  });

  it('minimal mode gives rate and a level+slope contour only', () => {
    const { prosody } = quantizePhraseProsody(phrase(), 'minimal', initialProsodyState());
    const r = renderProsody(prosody, WORDS);
    expect(r.wordDurationsMs).toBeUndefined();
    expect(r.f0Hz[0]!).toBeGreaterThan(r.f0Hz[r.f0Hz.length - 1]!); // falling
    expect(r.rate).toBeGreaterThan(0);
  });
});
