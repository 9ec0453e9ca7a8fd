import { beforeAll, expect, it } from 'vitest';
import { DecodeError, EncodeError } from '../../../src/core/errors.ts';
import { decodeMessage, messageProsodyCoder, MessageWriter, profileHash16, reassembleMessage, splitMessage, MessageIncompleteError, type MessageItem } from '../../../src/codec/message/index.ts';
import type { PhraseProsody } from '../../../src/codec/prosody/index.ts';
import { encodeCompactSpeakerProfile, encodeSpeakerProfile } from '../../../src/codec/speaker/index.ts';
import type { TextModel } from '../../../src/codec/text/index.ts';
import { loadDefaultTextModel } from '../../../src/pipeline/codecs.ts';
import { describeWith, TEXT_MODEL } from '../../fixtures/components.ts';
import { errorCodeOf } from '../../fixtures/errors.ts';

const profile = (medianF0Hz: number) => encodeSpeakerProfile({ medianF0Hz, f0RangeSemitones: 8, formantScale: 1, spectralTiltDbPerOctave: -6, hnrDb: 10, melCepstrumMean: new Array(12).fill(0.25), syllablesPerSecond: 4 });
const prosody = (levelQ: number, words: number): PhraseProsody => ({ mode: 'balanced', levelQ, rateQ: 1, dctQ: [3, -1, 0, 1, 0, 0], pauseQ: new Array(Math.max(0, words - 1)).fill(0) });

export const PHRASES = [
  { startMs: 300, text: 'THE SHIP WILL REACH THE HARBOUR AT SEVEN' },
  { startMs: 4100, text: 'KEEP THE RADIO ON CHANNEL SIXTEEN' },
  { startMs: 7800, text: 'WE HAVE FUEL FOR TWO DAYS' },
];

/** A message written as the sender pipeline writes one: profile first, then phrases with prosody. */
function writeMessage(model: TextModel, byHash: boolean, f0Hz = 110): { bytes: Uint8Array; profile: Uint8Array } {
  const coder = messageProsodyCoder('balanced');
  const w = new MessageWriter(model, 'balanced', coder);
  const p = profile(f0Hz);
  w.speaker(p, byHash);
  PHRASES.forEach((ph, i) => w.phrase({ ...ph, prosody: prosody(-1 + i, ph.text.split(' ').length) }));
  return { bytes: w.finish(), profile: p };
}

const phrases = (items: MessageItem[]) => items.flatMap((i) => (i.type === 'phrase' ? [i] : []));

describeWith('voice message container with the real text model', [TEXT_MODEL], () => {
  let model: TextModel;
  beforeAll(async () => {
    model = await loadDefaultTextModel();
  });

  it('round-trips text, prosody, starts and the profile', () => {
    const { bytes, profile: p } = writeMessage(model, false);
    const m = decodeMessage(bytes, model);
    expect(m.complete).toBe(true);
    expect(m.header.mode).toBe('balanced');
    expect(m.items[0]).toEqual({ type: 'profile', profile: p, byHash: false });
    const got = phrases(m.items);
    expect(got.map((g) => g.text)).toEqual(PHRASES.map((x) => x.text));
    expect(got.map((g) => g.startMs)).toEqual(PHRASES.map((x) => x.startMs));
    expect(got.map((g) => g.prosody?.levelQ)).toEqual([-1, 0, 1]);
    // 3 header bytes + 32 profile bytes + the phrases: far below a .stc session of the same.
    expect(bytes.length).toBeLessThan(3 + 32 + 40);
  });

  it('carries the 12-byte compact profile (issue #17) in 93 bits, exactly', () => {
    const compact = encodeCompactSpeakerProfile({ medianF0Hz: 130, f0RangeSemitones: 6, formantScale: 1.05, spectralTiltDbPerOctave: -7, hnrDb: 0, melCepstrumMean: [1.5, -2, 0.75, -1, 0.2, -0.4, 0.2, 0, -0.2, 0.4, -0.6, 0.2], syllablesPerSecond: 0 });
    const full = writeMessage(model, false).bytes;
    const w = new MessageWriter(model, 'balanced', messageProsodyCoder('balanced'));
    w.speaker(compact, false);
    PHRASES.forEach((ph, i) => w.phrase({ ...ph, prosody: prosody(-1 + i, ph.text.split(' ').length) }));
    const bytes = w.finish();
    expect(full.length - bytes.length).toBeGreaterThanOrEqual(8);
    const m = decodeMessage(bytes, model);
    expect(m.items[0]).toEqual({ type: 'profile', profile: compact, byHash: false });
    expect(phrases(m.items).map((g) => g.text)).toEqual(PHRASES.map((x) => x.text));
    expect(() => new MessageWriter(model, 'balanced', messageProsodyCoder('balanced')).speaker(new Uint8Array(12), false)).toThrow(EncodeError);
  });

  it('a known profile costs 2 bytes; the receiver resolves it (or warns without it)', () => {
    const full = writeMessage(model, false).bytes;
    const { bytes, profile: p } = writeMessage(model, true);
    // The full profile is coded in ~23 bytes (lossless), its hash in 2.
    expect(full.length - bytes.length).toBeGreaterThanOrEqual(18);
    const m = decodeMessage(bytes, model, { knownProfiles: new Map([[profileHash16(p), p]]) });
    expect(m.items[0]).toMatchObject({ type: 'profile', byHash: true, profile: p });
    expect(phrases(m.items).map((g) => g.prosody?.levelQ)).toEqual([-1, 0, 1]);
    expect(m.warnings).toEqual([]);
    const blind = decodeMessage(bytes, model);
    expect(blind.warnings.length).toBe(1);
    expect(phrases(blind.items).map((g) => g.text)).toEqual(PHRASES.map((x) => x.text));
  });

  it('decodes the phrases before a gap, and only those', () => {
    const { bytes } = writeMessage(model, false);
    const parts = splitMessage(bytes, 24, 5);
    expect(parts.length).toBeGreaterThan(2);
    const err = (() => {
      try {
        reassembleMessage(parts.filter((p) => p.index !== parts.length - 1));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(MessageIncompleteError);
    const inc = err as MessageIncompleteError;
    expect(inc.code).toBe('truncated');
    expect(inc.missingParts).toEqual([parts.length]);
    const m = decodeMessage(inc.prefix, model, { prefixOnly: true });
    expect(m.complete).toBe(false);
    const got = phrases(m.items);
    expect(got.length).toBeGreaterThanOrEqual(1);
    expect(got.length).toBeLessThan(PHRASES.length);
    expect(got.map((g) => g.text)).toEqual(PHRASES.slice(0, got.length).map((x) => x.text));
    // Without prefixOnly a cut message is an error, never a shorter transcript.
    expect(errorCodeOf(() => decodeMessage(inc.prefix, model), DecodeError)).toMatch(/truncated|malformed/);
  });

  it('refuses another model, another version, trailing bytes', () => {
    const { bytes } = writeMessage(model, false);
    const other = bytes.slice();
    other[2] ^= 1;
    expect(errorCodeOf(() => decodeMessage(other, model), DecodeError)).toBe('model_mismatch');
    const newer = bytes.slice();
    newer[0] = newer[0]! | 0x40;
    expect(errorCodeOf(() => decodeMessage(newer, model), DecodeError)).toBe('unsupported_version');
    const codec = bytes.slice();
    codec[0] = (codec[0]! & 0xc3) | (7 << 2);
    expect(errorCodeOf(() => decodeMessage(codec, model), DecodeError)).toBe('unsupported_version');
    const flags = bytes.slice();
    flags[1] = flags[1]! | 0xc0;
    expect(errorCodeOf(() => decodeMessage(flags, model), DecodeError)).toBe('unsupported_version');
    const longer = new Uint8Array([...bytes, 0x55]);
    expect(errorCodeOf(() => decodeMessage(longer, model), DecodeError)).toBe('malformed');
  });
});
