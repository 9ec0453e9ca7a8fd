import { describe, expect, it } from 'vitest';
import { LmPhraseCodec, checkTextModel, type InbandProsodyCoder } from '../../../src/codec/session/index.ts';
import { loadTextModel } from '../../../src/codec/text/index.ts';
import { DecodeError } from '../../../src/core/errors.ts';
import { describeWith, TEXT_MODEL } from '../../fixtures/components.ts';
import { errorCodeOf } from '../../fixtures/errors.ts';

/** A toy in-band prosody coder: one signed value in [-8, 7] as 4 raw bits. */
const toyProsody: InbandProsodyCoder<number> = {
  encode: (p, enc) => enc.encodeBits(p + 8, 4),
  decode: (dec) => dec.decodeBits(4) - 8,
};

describeWith('LmPhraseCodec with the real text model', [TEXT_MODEL], () => {
  it('round-trips text and in-band prosody across a session, and accounts bits per channel', async () => {
    const model = await loadTextModel();
    const tx = new LmPhraseCodec(model, toyProsody);
    const rx = new LmPhraseCodec(model, toyProsody);
    const phrases: Array<[string, number | undefined]> = [
      ['HELLO THERE HOW ARE YOU', -3],
      ['I AM FINE THANK YOU', 7],
      ['', undefined],
      ['THE SHIP IS TWELVE MILES NORTH OF THE HARBOUR', -8],
    ];
    for (const [text, prosody] of phrases) {
      const { coded, bitsByChannel } = tx.encode(text, prosody);
      tx.commit(text);
      const got = rx.decode(coded);
      rx.commit(got.text);
      expect({ text: got.text, prosody: got.prosody }).toEqual({ text, prosody });
      if (prosody !== undefined) expect(got.bitsByChannel.prosody).toBeCloseTo(bitsByChannel.prosody!, 6);
      if (prosody !== undefined) expect(bitsByChannel.prosody).toBeGreaterThanOrEqual(4);
      expect(coded.length * 8).toBeGreaterThanOrEqual(Math.floor((bitsByChannel.text ?? 0) + (bitsByChannel.prosody ?? 0)) - 8);
    }
  });

  it('refuses a stream coded with another model', async () => {
    const model = await loadTextModel();
    // By hash and by id: each must throw DecodeError model_mismatch (undefined = accepted).
    expect(errorCodeOf(() => checkTextModel(model, model.id, (model.hash + 1) >>> 0), DecodeError)).toBe('model_mismatch');
    expect(errorCodeOf(() => checkTextModel(model, 'other-model', model.hash), DecodeError)).toBe('model_mismatch');
    expect(errorCodeOf(() => checkTextModel(model, model.id, model.hash), DecodeError)).toBeUndefined();
  });
});
