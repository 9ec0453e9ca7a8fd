import { describe, expect, it } from 'vitest';
import type { MonoAudio } from '../../src/audio/index.ts';
import { initialProsodyState, LEVEL_STEP_ST, PhraseProsodyCoder } from '../../src/codec/prosody/index.ts';
import type { AsrResult } from '../../src/engines/asr/types.ts';
import { SenderAnalysis } from '../../src/pipeline/analysis.ts';
import { seeded } from '../fixtures/seeded.ts';

const SR = 16000;

/** Harmonic "voice" at f0Hz (a slow wobble), syllable-rate envelope, a little noise. */
function voice(f0Hz: number, seconds: number, seed: number): Float32Array {
  const r = seeded(seed);
  return Float32Array.from({ length: Math.round(seconds * SR) }, (_, i) => {
    const t = i / SR;
    const f = f0Hz * (1 + 0.03 * Math.sin(2 * Math.PI * 0.7 * t));
    let v = 0;
    for (let h = 1; h <= 12; h++) v += (Math.sin(2 * Math.PI * f * h * t) * 0.3) / h;
    return v * (0.6 + 0.4 * Math.sin(2 * Math.PI * 3 * t)) + 0.005 * r();
  });
}

/** `pad` ms of near-silence, then the voice, then `pad` ms again. */
function segment(f0Hz: number, seconds: number, padMs: number, seed: number): MonoAudio {
  const pad = (padMs * SR) / 1000;
  const v = voice(f0Hz, seconds, seed);
  const r = seeded(seed + 1);
  const samples = Float32Array.from({ length: v.length + 2 * pad }, (_, i) => (i >= pad && i < pad + v.length ? v[i - pad]! : 0.001 * r()));
  return { samples, sampleRateHz: SR };
}

const slice = (a: MonoAudio, fromMs: number, toMs: number): MonoAudio => ({ sampleRateHz: SR, samples: a.samples.slice((fromMs * SR) / 1000, (toMs * SR) / 1000) });

function result(startMs: number, endMs: number): AsrResult {
  const mid = (startMs + endMs) / 2;
  return { text: 'ONE TWO', startMs, endMs, words: [{ word: 'ONE', startMs, endMs: mid, confidence: 1 }, { word: 'TWO', startMs: mid, endMs, confidence: 1 }] };
}

const analyzer = () => new SenderAnalysis(new PhraseProsodyCoder(initialProsodyState(150, 'balanced'), true));

/** The phrase's level in Hz, from its quantized level (semitones re 100 Hz). */
const levelHz = (a: SenderAnalysis, audio: MonoAudio, r: AsrResult) => 100 * 2 ** ((a.analyzePhrase(audio, r, 'balanced').prosody!.levelQ * LEVEL_STEP_ST) / 12);

describe('SenderAnalysis.prepare (analysis ahead of recognition, issue #7)', () => {
  it('gives the phrase inside a prepared segment the same analysis as computing it on the phrase', async () => {
    // Stream times: the tentative segment starts at 5000 ms; the words span 5200–7200 ms.
    const seg = segment(120, 2, 200, 1);
    const phrase = slice(seg, 200, 2200);
    const r = result(5200, 7200);
    const plain = analyzer();
    await plain.updateSpeaker(phrase, r.startMs);
    const prepared = analyzer();
    prepared.prepare(seg, 5000);
    await prepared.updateSpeaker(phrase, r.startMs);
    expect(prepared.analyzePhrase(phrase, r, 'balanced').prosody).toEqual(plain.analyzePhrase(phrase, r, 'balanced').prosody);
    const a = plain.speakerProfile(), b = prepared.speakerProfile();
    expect(a?.bytes.length).toBeGreaterThan(0);
    expect(b?.hash).toBe(a!.hash);
    expect(Math.abs(levelHz(prepared, phrase, r) / 120 - 1)).toBeLessThan(0.05);
  });

  it('uses the prepared work only for phrases inside the segment', async () => {
    // A segment prepared from a 200 Hz voice: a phrase claimed inside it is analysed from that work…
    const seg = segment(200, 2, 200, 2);
    const other = slice(segment(110, 2, 200, 3), 200, 2200);
    const a = analyzer();
    a.prepare(seg, 0);
    expect(Math.abs(levelHz(a, other, result(200, 2200)) / 200 - 1)).toBeLessThan(0.05);
    // …one that is not inside it (ends later) is analysed from its own audio.
    const b = analyzer();
    b.prepare(seg, 0);
    expect(Math.abs(levelHz(b, other, result(600, 2600)) / 110 - 1)).toBeLessThan(0.05);
    // No stream time: never the prepared work. The profile is the one built from the phrase's own
    // (110 Hz) audio, not the one a phrase inside the prepared (200 Hz) segment gets.
    const c = analyzer();
    c.prepare(seg, 0);
    await c.updateSpeaker(other);
    const own = analyzer();
    await own.updateSpeaker(other);
    const inside = analyzer();
    inside.prepare(seg, 0);
    await inside.updateSpeaker(other, 200);
    expect(own.speakerProfile()!.hash).not.toBe(inside.speakerProfile()!.hash);
    expect(c.speakerProfile()!.hash).toBe(own.speakerProfile()!.hash);
  });

  it('decides a speaker change from the prepared probe once a profile is announced', async () => {
    const first = segment(110, 2.5, 200, 4);
    const second = segment(230, 2.5, 200, 5);
    for (const prepare of [false, true]) {
      const a = analyzer();
      await a.updateSpeaker(slice(first, 200, 2700), 200);
      const h1 = a.speakerProfile()!.hash;
      if (prepare) a.prepare(second, 10_000);
      await a.updateSpeaker(slice(second, 200, 2700), 10_200);
      expect(a.speakerProfile()!.hash).not.toBe(h1);
    }
  });
});
