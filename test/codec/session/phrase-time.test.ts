import { describe, expect, it } from 'vitest';
import { RangeDecoder, RangeEncoder } from '../../../src/codec/range/index.ts';
import { LmPhraseCodec, SessionDecoder, SessionEncoder, type InbandProsodyCoder } from '../../../src/codec/session/index.ts';
import { decodePhraseGap, encodePhraseGap, PhraseClock } from '../../../src/codec/session/phrase-time.ts';
import { EncodeError } from '../../../src/core/errors.ts';
import { tinyModel } from '../text/tiny-model.ts';

describe('in-band phrase time', () => {
  it('round-trips any signed gap, small gaps in few bits', () => {
    const values = [0, 1, -1, 5, -5, 12, 15, 37, -200, 1000, 65_535, 2 ** 29, -(2 ** 29)];
    const enc = new RangeEncoder();
    enc.channel = 'time';
    const bits: number[] = [];
    for (const v of values) {
      const before = enc.infoBits.get('time') ?? 0;
      encodePhraseGap(enc, v);
      bits.push((enc.infoBits.get('time') ?? 0) - before);
    }
    const dec = new RangeDecoder(enc.finish());
    expect(values.map(() => decodePhraseGap(dec))).toEqual(values);
    dec.finish();
    // 0.5–1.5 s at 100 ms units (gap 5–15): at most 8 bits; a 2-byte envelope delta costs 16.
    expect(Math.max(bits[3]!, bits[5]!, bits[6]!)).toBeLessThanOrEqual(8);
    expect(() => encodePhraseGap(new RangeEncoder(), 0.5)).toThrow(EncodeError);
  });

  it('the clock predicts from the last reliable frame or the end of the last phrase, whichever is later', () => {
    const c = new PhraseClock();
    expect(c.predictedUnits).toBe(0);
    c.sawFrame(40);
    expect(c.predictedUnits).toBe(40);
    c.phrase(40, 25);
    expect(c.predictedUnits).toBe(65);
    c.sawFrame(100); // e.g. a SpeakerRef when a new speaker starts at 10 s
    expect(c.predictedUnits).toBe(100);
  });
});

/** Prosody stand-in whose "duration" is its value in ms. */
const durationProsody: InbandProsodyCoder<number> = {
  encode: (p, enc) => enc.encodeBits(p, 16),
  decode: (dec) => dec.decodeBits(16),
  durationMs: (p) => p ?? 0,
};

describe('session with in-band phrase times (LM coding)', () => {
  it('phrase starts survive the round trip to the time unit, with the text frames\' envelope time implied', () => {
    const model = tinyModel();
    const enc = new SessionEncoder(new LmPhraseCodec(model, durationProsody), { sessionId: 7, timeUnitMs: 100 });
    const phrases = [
      { startMs: 1230, text: 'the cat sat', prosody: 1500 },
      { startMs: 3400, text: 'on a mat', prosody: 1200 },
      { startMs: 3500, text: 'the dog', prosody: 900 }, // starts before the predicted end: negative gap
      { startMs: 60_000, text: 'the cat', prosody: 800 }, // a long silence
    ];
    const frames = [enc.start(), enc.speaker(Uint8Array.from([1, 2]), 9, 1230)!];
    for (const p of phrases) frames.push(...enc.phrase(p));
    frames.push(enc.end(61_000));
    const texts = frames.filter((f) => f.frame.payload.type === 'text');
    expect(new Set(texts.map((f) => f.frame.time)).size).toBe(1); // never advanced by text frames
    const dec = new SessionDecoder(() => new LmPhraseCodec(model, durationProsody));
    const got = frames.flatMap((f) => dec.accept(f.frame)).filter((e) => e.type === 'phrase');
    expect(got.map((e) => [e.text, e.startMs])).toEqual(phrases.map((p) => [p.text, Math.round(p.startMs / 100) * 100]));
    // The time channel is accounted (as its own channel) in the text frames' bits.
    expect(texts.every((f) => (f.channelBits.time ?? 0) > 0)).toBe(true);
  });
});
