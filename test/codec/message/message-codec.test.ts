import { beforeAll, expect, it } from 'vitest';
import { DecodeError, EncodeError } from '../../../src/core/errors.ts';
import { decodeMessage, messageProsodyCoder, MessageWriter, profileHash16, profileRef, PROFILE_REF_BITS, reassembleMessage, splitMessage, uniqueProfileRef, MessageIncompleteError, type MessageItem } from '../../../src/codec/message/index.ts';
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
    // Starts: the pause before each phrase (start − predicted start, the previous phrase's rendered
    // end) within 1/8 of the one sent (src/codec/message/message-time.ts); the first is exact.
    expect(got[0]!.startMs).toBe(PHRASES[0]!.startMs);
    for (let i = 1; i < got.length; i++) {
      const predictedMs = got[i - 1]!.startMs + Math.round(got[i - 1]!.durationMs / 100) * 100;
      const sent = PHRASES[i]!.startMs - predictedMs;
      expect(sent).toBeGreaterThan(600); // long enough to be coarsened
      expect(Math.abs(got[i]!.startMs - PHRASES[i]!.startMs)).toBeLessThanOrEqual((sent + 100) / 8);
    }
    expect(got.map((g) => g.prosody?.levelQ)).toEqual([-1, 0, 1]);
    // 2 header bytes + 32 profile bytes + the phrases: far below a .stc session of the same.
    expect(bytes.length).toBeLessThan(2 + 32 + 40);
  });

  it('phrase starts do not drift over a long message: each within 1/8 of its pause of the sent start', () => {
    const w = new MessageWriter(model, 'balanced', messageProsodyCoder('balanced'));
    const coder = messageProsodyCoder('balanced');
    const sent: number[] = [];
    let at = 400;
    for (let i = 0; i < 20; i++) {
      const ph = PHRASES[i % 3]!;
      const p = prosody(0, ph.text.split(' ').length);
      sent.push(at);
      w.phrase({ startMs: at, text: ph.text, prosody: p });
      at += Math.round(coder.durationMs(p, ph.text) / 100) * 100 + 1700 + (i % 4) * 300; // pauses of 1.7–2.6 s
    }
    const got = phrases(decodeMessage(w.finish(), model).items);
    expect(got).toHaveLength(20);
    got.forEach((g, i) => expect(Math.abs(g.startMs - sent[i]!)).toBeLessThanOrEqual(i === 0 ? 0 : (2600 + 100) / 8));
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

  it('a known profile costs a 12-bit reference; the receiver resolves it (or warns without it)', () => {
    const full = writeMessage(model, false).bytes;
    const { bytes, profile: p } = writeMessage(model, true);
    // The full profile is coded in ~23 bytes (lossless), its reference in 12 bits.
    expect(full.length - bytes.length).toBeGreaterThanOrEqual(19);
    const m = decodeMessage(bytes, model, { knownProfiles: new Map([[profileHash16(p), p]]) });
    expect(m.items[0]).toMatchObject({ type: 'profile', byHash: true, profile: p });
    expect(phrases(m.items).map((g) => g.prosody?.levelQ)).toEqual([-1, 0, 1]);
    expect(m.warnings).toEqual([]);
    const blind = decodeMessage(bytes, model);
    expect(blind.warnings.length).toBe(1);
    expect(phrases(blind.items).map((g) => g.text)).toEqual(PHRASES.map((x) => x.text));
  });

  it('profile references are never resolved by guess: colliding references go in full or warn', () => {
    expect(PROFILE_REF_BITS).toBe(12);
    // Two profiles with the same 12-bit reference but different 16-bit keys (a deterministic search).
    const byRef = new Map<number, Uint8Array>();
    let pair: [Uint8Array, Uint8Array] | undefined;
    for (let f0 = 80; !pair && f0 < 400; f0 += 0.5) {
      for (let range = 2; !pair && range < 14; range += 0.5) {
        const q = encodeSpeakerProfile({ medianF0Hz: f0, f0RangeSemitones: range, formantScale: 1, spectralTiltDbPerOctave: -6, hnrDb: 10, melCepstrumMean: new Array(12).fill(0.25), syllablesPerSecond: 4 });
        const other = byRef.get(profileRef(q));
        if (other && profileHash16(other) !== profileHash16(q)) pair = [other, q];
        else byRef.set(profileRef(q), q);
      }
    }
    expect(pair).toBeDefined();
    const [a, b] = pair!;
    expect(profileRef(a)).toBe(profileRef(b));
    expect(profileRef(a)).toBe(profileHash16(a) & 0xfff);
    expect(uniqueProfileRef(a, [a, b])).toBe(false);
    expect(uniqueProfileRef(a, [a, profile(200)])).toBe(true);
    const write = (first: Uint8Array, firstByHash: boolean, second?: Uint8Array) => {
      const w = new MessageWriter(model, 'balanced', messageProsodyCoder('balanced'));
      const refs = [w.speaker(first, firstByHash)];
      w.phrase({ ...PHRASES[0]!, prosody: prosody(0, 8) });
      if (second) refs.push(w.speaker(second, true));
      w.phrase({ ...PHRASES[1]!, prosody: prosody(0, 6) });
      return { bytes: w.finish(), refs };
    };
    // A receiver holding both cannot tell which one a reference means: it says so and uses neither.
    const { bytes, refs } = write(a, true);
    expect(refs).toEqual([true]);
    const both = decodeMessage(bytes, model, { knownProfiles: new Map([[profileHash16(a), a], [profileHash16(b), b]]) });
    expect(both.items[0]).toMatchObject({ type: 'profile', byHash: true, profile: undefined, ref: profileRef(a) });
    expect(both.warnings).toHaveLength(1);
    expect(both.warnings[0]).toContain('2 profiles');
    expect(decodeMessage(bytes, model, { knownProfiles: new Map([[profileHash16(a), a]]) }).items[0]).toMatchObject({ profile: a, byHash: true });
    // A reference to b after a was sent in full would resolve to a: the writer sends b in full.
    const later = write(a, false, b);
    expect(later.refs).toEqual([false, false]);
    const m = decodeMessage(later.bytes, model);
    expect(m.items.filter((i) => i.type === 'profile')).toEqual([{ type: 'profile', profile: a, byHash: false }, { type: 'profile', profile: b, byHash: false }]);
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
    other[1] ^= 1; // model hash
    expect(errorCodeOf(() => decodeMessage(other, model), DecodeError)).toBe('model_mismatch');
    const older = bytes.slice();
    older[0] = older[0]! & ~0x40; // container version 1
    expect(errorCodeOf(() => decodeMessage(older, model), DecodeError)).toBe('unsupported_version');
    const newer = bytes.slice();
    newer[0] = newer[0]! | 0x30; // mode 3: a later container version
    expect(errorCodeOf(() => decodeMessage(newer, model), DecodeError)).toBe('unsupported_version');
    const codec = bytes.slice();
    codec[0] = codec[0]! | 0x03;
    codec[1] = codec[1]! | 0x80; // codec version 7
    expect(errorCodeOf(() => decodeMessage(codec, model), DecodeError)).toBe('unsupported_version');
    const flags = bytes.slice();
    flags[0] = flags[0]! | 0x0c;
    expect(errorCodeOf(() => decodeMessage(flags, model), DecodeError)).toBe('unsupported_version');
    const longer = new Uint8Array([...bytes, 0x55]);
    expect(errorCodeOf(() => decodeMessage(longer, model), DecodeError)).toBe('malformed');
  });
});
