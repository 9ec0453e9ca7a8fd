import { beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../src/codec/frame/index.ts';
import type { PhraseProsody } from '../../src/codec/prosody/index.ts';
import { SessionDecoder, SessionEncoder } from '../../src/codec/session/index.ts';
import { encodeSpeakerProfile, profileHash } from '../../src/codec/speaker/index.ts';
import type { TextModel } from '../../src/codec/text/index.ts';
import { lmSenderPipeline, loadDefaultTextModel, phraseCodecFactory, profileHashOf, senderPipeline } from '../../src/pipeline/codecs.ts';

let model: TextModel;
beforeAll(async () => {
  model = await loadDefaultTextModel();
});

const profile = (medianF0Hz: number) => encodeSpeakerProfile({ medianF0Hz, f0RangeSemitones: 8, formantScale: 1, spectralTiltDbPerOctave: -6, hnrDb: 10, melCepstrumMean: new Array(12).fill(0), syllablesPerSecond: 4 });
const phrase = (levelQ: number): PhraseProsody => ({ mode: 'balanced', levelQ, rateQ: 0, dctQ: [2, -1, 0, 0, 0, 0], pauseQ: [0, 0, 0] }); // 4 words

describe('sender and receiver prosody prediction agree (every sender pipeline)', () => {
  const pipelines = {
    'senderPipeline (stcts encode/send/sim)': async () => (await senderPipeline('lm', 'balanced', model)).codec,
    'lmSenderPipeline (edge daemon calls)': async () => lmSenderPipeline(model, 'balanced').codec,
  };
  for (const [name, make] of Object.entries(pipelines)) {
    it(`${name}: levels decode as sent across speaker changes`, async () => {
      const enc = new SessionEncoder(await make(), { sessionId: 3, mode: 'balanced' });
      const frames: Frame[] = [enc.start().frame];
      // A low voice, two phrases, then a high voice: each profile re-anchors the level prediction.
      const sent = [[profile(105), [phrase(-2), phrase(-1)]], [profile(240), [phrase(14), phrase(15)]]] as const;
      let at = 0;
      for (const [bytes, phrases] of sent) {
        frames.push(enc.speaker(bytes, profileHash(bytes), at)!.frame);
        for (const p of phrases) frames.push(...enc.phrase({ startMs: (at += 2000), text: 'THE SHIP IS READY', prosody: p }).map((f) => f.frame));
      }
      const dec = new SessionDecoder(await phraseCodecFactory(model), new Map(), profileHashOf);
      const levels = frames.flatMap((f) => dec.accept(f)).flatMap((e) => (e.type === 'phrase' ? [(e.prosody as PhraseProsody).levelQ] : []));
      expect(levels).toEqual([-2, -1, 14, 15]);
    });
  }
});
