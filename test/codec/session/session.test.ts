import { describe, expect, it } from 'vitest';
import { decodeFrameStream, encodeFrameStream } from '../../../src/codec/frame/index.ts';
import { CODEC_VERSION, SessionDecoder, SessionEncoder, splitBits, Utf8PhraseCodec } from '../../../src/codec/session/index.ts';
import { DecodeError, InvalidStateError } from '../../../src/core/errors.ts';
import { errorCodeOf } from '../../fixtures/errors.ts';

const hash = (b: Uint8Array) => b.reduce((h, x) => (Math.imul(h, 31) + x) >>> 0, 7);

describe('session encoder/decoder', () => {
  it('round-trips phrases, speaker profile once then by reference', () => {
    const enc = new SessionEncoder(new Utf8PhraseCodec(), { sessionId: 99, mode: 'minimal', timeUnitMs: 40 });
    const profA = Uint8Array.from([1, 2, 3]);
    const profB = Uint8Array.from([4, 5, 6]);
    const frames = [
      enc.start(),
      enc.speaker(profA, hash(profA), 0)!,
      ...enc.phrase({ startMs: 120, text: 'HELLO WORLD' }),
      ...enc.phrase({ startMs: 4080, text: 'SECOND PHRASE' }),
      enc.speaker(profB, hash(profB), 8000)!,
      ...enc.phrase({ startMs: 8000, text: 'OTHER VOICE' }),
      enc.speaker(profA, hash(profA), 9000)!,
    ].map((a) => a.frame);
    // Same speaker again: nothing to send.
    expect(enc.speaker(profA, hash(profA), 9500)).toBeUndefined();
    frames.push(enc.end(12000).frame);
    const bytes = encodeFrameStream(frames);
    const dec = new SessionDecoder(() => new Utf8PhraseCodec(), new Map(), hash);
    const events = decodeFrameStream(bytes).flatMap((it) => (it.ok ? dec.accept(it.frame) : []));
    const phrases = events.filter((e) => e.type === 'phrase');
    expect(phrases.map((p) => [p.text, p.startMs, p.speakerId])).toEqual([
      ['HELLO WORLD', 120, 1],
      ['SECOND PHRASE', 4080, 1],
      ['OTHER VOICE', 8000, 2],
    ]);
    const speakers = events.filter((e) => e.type === 'speaker');
    expect(speakers.map((s) => s.id)).toEqual([1, 2, 1]);
    expect(frames.filter((f) => f.payload.type === 'speakerProfile')).toHaveLength(2);
    expect(frames.filter((f) => f.payload.type === 'speakerRef')).toHaveLength(1);
  });

  it('uses a cached profile for a SpeakerRef in a new session (reconnect)', () => {
    const cache = new Map<number, Uint8Array>();
    const prof = Uint8Array.from([9, 9, 9]);
    const first = new SessionEncoder(new Utf8PhraseCodec(), { sessionId: 1 });
    const d1 = new SessionDecoder(() => new Utf8PhraseCodec(), cache, hash);
    for (const a of [first.start(), first.speaker(prof, hash(prof), 0)!]) d1.accept(a.frame);
    const d2 = new SessionDecoder(() => new Utf8PhraseCodec(), cache, hash);
    d2.accept({ version: 1, sessionId: 2, seq: 0, time: 0, payload: { type: 'sessionHeader', codecVersion: CODEC_VERSION, mode: 'minimal', textModelId: 'utf8', textModelHash: 0, sampleRateHz: 16000, timeUnitMs: 20 } });
    const ev = d2.accept({ version: 1, sessionId: 2, seq: 1, time: 0, payload: { type: 'speakerRef', id: 1, profileHash: hash(prof) } });
    expect(ev[0]).toMatchObject({ type: 'speaker', cached: true, profile: prof });
  });

  it('names a speaker the receiver already holds by its hash only (knownProfileHashes), and the receiver renders it from its cache', () => {
    const known = Uint8Array.from([7, 7, 7, 7]);
    const fresh = Uint8Array.from([8, 8, 8, 8]);
    const enc = new SessionEncoder(new Utf8PhraseCodec(), { sessionId: 5, knownProfileHashes: new Set([hash(known)]) });
    const frames = [enc.start(), enc.speaker(known, hash(known), 0)!, ...enc.phrase({ startMs: 100, text: 'KNOWN VOICE' }), enc.speaker(fresh, hash(fresh), 2000)!, ...enc.phrase({ startMs: 2000, text: 'NEW VOICE' }), enc.speaker(known, hash(known), 4000)!];
    expect(frames.map((a) => a.frame.payload.type)).toEqual(['sessionHeader', 'speakerRef', 'text', 'speakerProfile', 'text', 'speakerRef']);
    expect(frames[1]!.channelBits).toEqual({ speaker: 0 });
    const dec = new SessionDecoder(() => new Utf8PhraseCodec(), new Map([[hash(known), known]]), hash);
    const speakers = frames.flatMap((a) => dec.accept(a.frame)).filter((e) => e.type === 'speaker');
    expect(speakers.map((s) => [s.id, [...s.profile]])).toEqual([[1, [...known]], [2, [...fresh]], [1, [...known]]]);
  });

  it('refuses a stream of another codec version (unsupported_version), naming both versions', () => {
    const dec = new SessionDecoder(() => new Utf8PhraseCodec());
    const header = { version: 1, sessionId: 2, seq: 0, time: 0, payload: { type: 'sessionHeader' as const, codecVersion: CODEC_VERSION + 1, mode: 'minimal' as const, textModelId: 'utf8', textModelHash: 0, sampleRateHz: 16000, timeUnitMs: 20 } };
    expect(errorCodeOf(() => dec.accept(header), DecodeError)).toBe('unsupported_version');
    // Its text is then skipped with a warning, never decoded with the wrong rules.
    const ev = dec.accept({ version: 1, sessionId: 2, seq: 1, time: 0, payload: { type: 'text', coding: 'utf8', coded: new Uint8Array([65]) } });
    expect(ev[0]!.type === 'warning' && ev[0]!.error.code).toBe('unsupported_version');
  });

  it('tells the phrase codec about speaker changes at the same stream point on both sides', () => {
    const log = (side: string[]) => class extends Utf8PhraseCodec {
      override commit(): void { side.push('phrase'); super.commit(); }
      speakerChanged(p: Uint8Array): void { side.push(`speaker ${p[0]}`); }
    };
    const tx: string[] = [], rx: string[] = [];
    const enc = new SessionEncoder(new (log(tx))(), { sessionId: 5 });
    const a = Uint8Array.from([1]), b = Uint8Array.from([2]);
    const frames = [enc.start(), enc.speaker(a, 1, 0)!, ...enc.phrase({ startMs: 0, text: 'X' }), enc.speaker(b, 2, 10)!, ...enc.phrase({ startMs: 10, text: 'Y' }), enc.speaker(a, 1, 20)!, ...enc.phrase({ startMs: 20, text: 'Z' })];
    const dec = new SessionDecoder(() => new (log(rx))(), new Map(), (p) => p[0]!);
    for (const f of frames) dec.accept(f.frame);
    expect(tx).toEqual(['speaker 1', 'phrase', 'speaker 2', 'phrase', 'speaker 1', 'phrase']);
    expect(rx).toEqual(tx);
  });

  it('warns instead of guessing when the text context differs', () => {
    const dec = new SessionDecoder(() => new Utf8PhraseCodec());
    dec.accept({ version: 1, sessionId: 2, seq: 0, time: 0, payload: { type: 'sessionHeader', codecVersion: CODEC_VERSION, mode: 'minimal', textModelId: 'utf8', textModelHash: 0, sampleRateHz: 16000, timeUnitMs: 20 } });
    const ev = dec.accept({ version: 1, sessionId: 2, seq: 1, time: 5, payload: { type: 'text', coding: 'utf8', coded: new Uint8Array([65]), contextSegments: 3 } });
    expect(ev[0]!.type).toBe('warning');
    expect(ev[0]!.type === 'warning' && ev[0]!.error.code).toBe('model_mismatch');
  });

  it('refuses phrases before start() and after end()', () => {
    const enc = new SessionEncoder(new Utf8PhraseCodec(), { sessionId: 1 });
    expect(() => enc.phrase({ startMs: 0, text: 'X' })).toThrowError(InvalidStateError);
    enc.start();
    enc.end(0);
    expect(() => enc.phrase({ startMs: 0, text: 'X' })).toThrowError(InvalidStateError);
  });

  it('splits whole payload bits by information content, exactly', () => {
    const s = splitBits(80, { text: 60.2, prosody: 9.9 });
    expect(s.text! + s.prosody!).toBe(80);
    expect(s.prosody).toBe(11);
  });
});
