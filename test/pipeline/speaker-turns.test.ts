import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resample, type MonoAudio } from '../../src/audio/index.ts';
import { initialProsodyState, PhraseProsodyCoder } from '../../src/codec/prosody/index.ts';
import { SessionEncoder, Utf8PhraseCodec } from '../../src/codec/session/index.ts';
import { UsageError } from '../../src/core/errors.ts';
import { bicChangeScore, CepstralGaussian } from '../../src/engines/speaker/index.ts';
import { createTtsEngine } from '../../src/engines/tts/registry.ts';
import type { TtsEngine, TtsRequest } from '../../src/engines/tts/types.ts';
import { SenderAnalysis } from '../../src/pipeline/analysis.ts';
import { DEFAULT_SPEAKER_TURN_OPTIONS, SpeakerTurnDetector } from '../../src/pipeline/speaker-turns.ts';
import { describeWith, HTS_ADDON, HTS_VOICE, program } from '../fixtures/components.ts';
import { seeded } from '../fixtures/seeded.ts';

/** n frames of a d-dimensional Gaussian with the given mean and per-dimension spread (seeded Box–Muller). */
function gaussian(seed: number, n: number, mean: number[], spread: number[]): CepstralGaussian {
  const r = seeded(seed);
  const u = () => (r() + 1) / 2; // [0, 1)
  const g = new CepstralGaussian(mean.length);
  for (let i = 0; i < n; i++) {
    g.add(mean.map((m, k) => m + spread[k]! * Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u())));
  }
  return g;
}

const D = 8;
const MEAN_A = [1, -2, 0.5, 0, 1, -1, 0.3, 0];
const MEAN_B = MEAN_A.map((m, k) => m + (k % 2 ? 3 : -3));
const SPREAD = Array.from({ length: D }, () => 1);

describe('BIC speaker-change score', () => {
  it('is small for two samples of one Gaussian and large for two different ones', () => {
    const a1 = gaussian(1, 300, MEAN_A, SPREAD);
    const a2 = gaussian(2, 300, MEAN_A, SPREAD);
    const b = gaussian(3, 300, MEAN_B, SPREAD);
    const lambda = DEFAULT_SPEAKER_TURN_OPTIONS.bicPenalty;
    expect(bicChangeScore(a1, a2)).toBeLessThan(1);
    expect(bicChangeScore(a1, b)).toBeGreaterThan(lambda + 2);
    // A covariance change alone (same mean) is a change too.
    expect(bicChangeScore(a1, gaussian(4, 300, MEAN_A, SPREAD.map((s, k) => (k < 4 ? 3 * s : s))))).toBeGreaterThan(lambda);
    expect(() => bicChangeScore(a1, new CepstralGaussian(4))).toThrow(UsageError);
  });

  it('merges statistics exactly (merge of halves = all frames)', () => {
    const r = seeded(9);
    const all = new CepstralGaussian(3);
    const h1 = new CepstralGaussian(3);
    const h2 = new CepstralGaussian(3);
    for (let i = 0; i < 100; i++) {
      const x = [r(), r() * 2, r() - r()];
      all.add(x);
      (i < 50 ? h1 : h2).add(x);
    }
    h1.merge(h2);
    expect(h1.n).toBe(100);
    expect(h1.logDetCovariance()).toBeCloseTo(all.logDetCovariance(), 9);
  });
});

describe('SpeakerTurnDetector', () => {
  it('A A B B A: one change to a new speaker, one return, no change inside a turn', () => {
    const det = new SpeakerTurnDetector<string>();
    det.add('A', gaussian(10, 200, MEAN_A, SPREAD));
    const decisions: string[] = [];
    const phrases: Array<[string, number[]]> = [['a', MEAN_A], ['b', MEAN_B], ['b', MEAN_B], ['a', MEAN_A]];
    phrases.forEach(([, mean], i) => {
      const p = gaussian(20 + i, 200, mean, SPREAD);
      const d = det.classify(p);
      decisions.push(d.kind);
      if (d.kind === 'same') det.accept(d.speaker, p);
      else if (d.kind === 'return') det.accept(d.speaker, d.model);
      else if (d.kind === 'new') det.add(`S${det.speakers + 1}`, d.model);
    });
    expect(decisions).toEqual(['same', 'new', 'same', 'return']);
    expect(det.currentSpeaker).toBe('A');
    expect(det.speakers).toBe(2);
  });

  it('look-back: two phrases that each pass as the current speaker but fail together start a turn one phrase late', () => {
    const near = MEAN_A.map((m, k) => m + (k % 2 ? 0.6 : -0.6));
    const run = (lookBack: boolean) => {
      const det = new SpeakerTurnDetector<string>({ bicPenalty: 1, lookBack });
      det.add('A', gaussian(10, 400, MEAN_A, SPREAD));
      const out: string[] = [];
      for (const seed of [41, 42]) {
        const p = gaussian(seed, 120, near, SPREAD);
        const d = det.classify(p);
        out.push(d.kind);
        if (d.kind === 'same') det.accept(d.speaker, p);
        else if (d.kind === 'new') {
          expect(d.model.n).toBe(240); // both phrases model the new speaker
          det.add('B', d.model);
        }
      }
      return out;
    };
    // Scores (λ units): 0.98 and 0.73 one by one, 1.50 together.
    expect(run(false)).toEqual(['same', 'same']);
    expect(run(true)).toEqual(['same', 'new']);
  });

  it('leaves short phrases untested and forgets the least recently heard speaker beyond maxSpeakers', () => {
    const det = new SpeakerTurnDetector<number>({ maxSpeakers: 2 });
    det.add(1, gaussian(30, 200, MEAN_A, SPREAD));
    expect(det.classify(gaussian(31, 20, MEAN_B, SPREAD)).kind).toBe('untested');
    det.add(2, gaussian(32, 200, MEAN_B, SPREAD));
    det.add(3, gaussian(33, 200, MEAN_B.map((m) => m + 4), SPREAD));
    expect(det.speakers).toBe(2);
    expect(det.classify(gaussian(34, 200, MEAN_A, SPREAD)).kind).toBe('new'); // speaker 1 was forgotten
    expect(() => new SpeakerTurnDetector({ bicPenalty: 0 })).toThrow(UsageError);
  });
});

/**
 * Sender speaker turns on synthesized speech: phrases of two voices (HTS slt, female, and flite
 * awb, male), A B A, go through SenderAnalysis and a SessionEncoder; the frames must be two
 * SpeakerProfiles and one SpeakerRef. And one voice whose pitch jumps by an octave between phrases
 * (statement / excited question) stays one speaker. (Measured scores, in units of the BIC penalty:
 * awb against slt 6.3–7.0, the same HTS voice 0.4–0.9, HTS at 120 or 240 Hz against it at 210 Hz
 * 0.7–1.8; the threshold is 3.25.)
 */
describeWith('sender speaker turns on synthesized voices', [program('festival'), HTS_VOICE, HTS_ADDON], () => {
  let hts: TtsEngine;
  let flite: TtsEngine;
  beforeAll(async () => {
    hts = await createTtsEngine('hts');
    flite = await createTtsEngine('flite');
  });
  afterAll(async () => {
    await hts?.close();
    await flite?.close();
  });

  const TEXTS = [
    'the boat left the harbour early in the morning',
    'we could see the lights of the town across the water',
    'nobody on board had slept much during the night',
    'the wind turned cold as we reached the open sea',
    'my brother told me to hold the rope and wait',
    'there was nothing to do but watch the waves',
  ];

  async function say(text: string, voice: Partial<TtsRequest>): Promise<MonoAudio> {
    const r = await (voice.voice === 'awb' ? flite : hts).synthesize({ text, ...voice });
    return resample(r, 16000);
  }

  /** Runs phrases through the sender's speaker analysis; returns the speaker frames it sends and each phrase's speaker id. */
  async function send(phrases: MonoAudio[]): Promise<{ kinds: string[]; ids: Array<number | undefined> }> {
    const analysis = new SenderAnalysis(new PhraseProsodyCoder(initialProsodyState(150, 'balanced'), true, () => undefined));
    const enc = new SessionEncoder(new Utf8PhraseCodec(), { sessionId: 7, mode: 'balanced' });
    enc.start();
    const kinds: string[] = [];
    const ids: Array<number | undefined> = [];
    let at = 0;
    let current: number | undefined;
    for (const p of phrases) {
      await analysis.updateSpeaker(p, at);
      const profile = analysis.speakerProfile();
      if (profile) {
        const f = enc.speaker(profile.bytes, profile.hash, at);
        if (f && (f.frame.payload.type === 'speakerProfile' || f.frame.payload.type === 'speakerRef')) {
          kinds.push(f.frame.payload.type);
          current = f.frame.payload.id;
        }
      }
      ids.push(current);
      at += (p.samples.length / 16000) * 1000 + 1000;
    }
    return { kinds, ids };
  }

  const VOICE_A: Partial<TtsRequest> = { f0MedianHz: 210, timbre: { allpassAlpha: 0.42 } };
  const VOICE_B: Partial<TtsRequest> = { voice: 'awb' };

  it('A A B B A A: two profiles and one SpeakerRef for the return', async () => {
    const voices = [VOICE_A, VOICE_A, VOICE_B, VOICE_B, VOICE_A, VOICE_A];
    const phrases = await Promise.all(TEXTS.map((t, i) => say(t, voices[i]!)));
    const { kinds, ids } = await send(phrases);
    expect(kinds).toEqual(['speakerProfile', 'speakerProfile', 'speakerRef']);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[0]);
    expect(ids[3]).toBe(ids[2]);
    expect(ids.slice(4)).toEqual([ids[0], ids[0]]);
  });

  it('one voice whose pitch jumps by an octave between phrases stays one speaker', async () => {
    const pitches = [120, 240, 130, 250, 115, 235];
    const phrases = await Promise.all(TEXTS.map((t, i) => say(t, { f0MedianHz: pitches[i]!, f0RangeSemitones: 8, timbre: { allpassAlpha: 0.42 } })));
    const { kinds } = await send(phrases);
    expect(kinds).toEqual(['speakerProfile']);
  });
});
