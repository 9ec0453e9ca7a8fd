import { messageProsodyCoder, MessageWriter } from '../../../src/codec/message/index.ts';
import type { PhraseProsody } from '../../../src/codec/prosody/index.ts';
import { encodeCompactSpeakerProfile } from '../../../src/codec/speaker/index.ts';
import type { TextModel } from '../../../src/codec/text/index.ts';

/** The voice message of the golden vectors (scripts/gen-message-vectors.ts): a compact profile and five phrases. */
export function sampleMessage(model: TextModel): Uint8Array {
  const w = new MessageWriter(model, 'balanced', messageProsodyCoder('balanced'));
  w.speaker(encodeCompactSpeakerProfile({ medianF0Hz: 118, f0RangeSemitones: 7.5, formantScale: 0.98, spectralTiltDbPerOctave: -6.5, hnrDb: 0, melCepstrumMean: [2.5, -1.25, 0.75, -1.5, 0.4, -0.6, 0.2, -0.2, 0, 0.4, -0.4, 0.2], syllablesPerSecond: 0 }), false);
  const phrases: Array<[number, string, PhraseProsody]> = [
    [300, 'THE SHIP WILL REACH THE HARBOUR AT SEVEN', { mode: 'balanced', levelQ: -1, rateQ: 1, dctQ: [4, -1, 1, 0, 0, -1], pauseQ: [0, 0, 0, 0, 0, 0, 0] }],
    [4200, 'KEEP THE RADIO ON CHANNEL SIXTEEN', { mode: 'balanced', levelQ: 0, rateQ: 0, dctQ: [3, 0, -1, 0, 1, 0], pauseQ: [0, 0, 1, 0, 0] }],
    [7900, 'WE HAVE FUEL FOR TWO MORE DAYS', { mode: 'balanced', levelQ: 1, rateQ: -1, dctQ: [5, -2, 0, 0, 0, 0], pauseQ: [0, 0, 0, 0, 0, 0] }],
    [11600, 'THE WIND IS FROM THE NORTH AT TWENTY KNOTS', { mode: 'balanced', levelQ: 0, rateQ: 0, dctQ: [2, 1, 0, -1, 0, 0], pauseQ: [0, 0, 0, 0, 0, 1, 0, 0] }],
    [15800, 'CALL THE COAST GUARD IF YOU DO NOT HEAR FROM US BY NOON', { mode: 'balanced', levelQ: -2, rateQ: 2, dctQ: [6, -1, 0, 1, 0, 0], pauseQ: [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0] }],
  ];
  for (const [startMs, text, prosody] of phrases) w.phrase({ startMs, text, prosody });
  return w.finish();
}

/** The id the vectors' multi-part forms carry. */
export const SAMPLE_MESSAGE_ID = 42;
