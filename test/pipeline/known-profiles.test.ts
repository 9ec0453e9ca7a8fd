import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FORMAT_VERSION, type Frame } from '../../src/codec/frame/index.ts';
import { SessionDecoder, SessionEncoder, Utf8PhraseCodec } from '../../src/codec/session/index.ts';
import { speakerContentHash } from '../../src/codec/speaker/index.ts';
import { profileHashOf } from '../../src/pipeline/codecs.ts';
import { outboxHooks } from '../../src/pipeline/live.ts';
import { OutboxJournal, ProfileStore } from '../../src/transport/journal/index.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('known speaker profiles across sessions (issue #16 item 5)', () => {
  it('a profile the peer acknowledged is stored under the hash its SpeakerRef names and its cache keys (embedding included); the next session sends only the reference', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stcts-known-'));
    dirs.push(dir);
    const profile = Uint8Array.from([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8]);
    const embedding = { coded: Uint8Array.from([7, 7, 7, 7]), dim: 8, encoderHash: 0x1234abcd };
    const hash = speakerContentHash(profile, embedding);
    const outbox = OutboxJournal.open(join(dir, 'outbox.journal'));
    const peerProfiles = ProfileStore.open(join(dir, 'peer-profiles.journal'));
    outbox.begin({ sessionId: 1, mode: 'balanced' });
    const hooks = outboxHooks(outbox, peerProfiles);
    const frame: Frame = { version: FORMAT_VERSION, sessionId: 1, seq: 0, time: 0, payload: { type: 'speakerProfile', id: 1, profile, embedding } };
    hooks.append!(frame);
    expect(peerProfiles.has(hash)).toBe(false); // not before the peer acknowledged it
    hooks.acked!({ type: 'ack', cumulative: 1, sack: 0n, nack: [] });
    outbox.close();
    peerProfiles.close();

    // A later session (a restarted sender): the store says the peer holds it.
    const known = ProfileStore.open(join(dir, 'peer-profiles.journal'));
    expect(known.has(hash)).toBe(true);
    const enc = new SessionEncoder(new Utf8PhraseCodec(), { sessionId: 2, knownProfileHashes: known });
    const frames = [enc.start(), enc.speaker(profile, hash, 0, embedding)!, ...enc.phrase({ startMs: 0, text: 'HELLO' })].map((a) => a.frame);
    expect(frames[1]!.payload).toEqual({ type: 'speakerRef', id: 1, profileHash: hash });
    known.close();

    // The receiver that kept the profile renders the speaker from its cache.
    const cache = new Map<number, Uint8Array>();
    new SessionDecoder(() => new Utf8PhraseCodec(), cache, profileHashOf).accept({ ...frame, sessionId: 9 });
    const dec = new SessionDecoder(() => new Utf8PhraseCodec(), cache, profileHashOf);
    const ev = frames.flatMap((f) => dec.accept(f)).find((e) => e.type === 'speaker');
    expect(ev).toMatchObject({ type: 'speaker', profile, cached: true });
  });
});
