import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeWavFile, type MonoAudio } from '../../src/audio/index.ts';
import { decodeFrameStream, FrameStreamWriter, type Frame, type SpeakerProfilePayload } from '../../src/codec/frame/index.ts';
import { SessionDecoder, type SessionEvent, type SpeakerEmbedding } from '../../src/codec/session/index.ts';
import { COMPACT_PROFILE_BYTES, encoderHashOf, profileHash, speakerContentHash } from '../../src/codec/speaker/index.ts';
import type { TextModel } from '../../src/codec/text/index.ts';
import type { AsrResult } from '../../src/engines/asr/types.ts';
import { loadManifest, type ModelEntry } from '../../src/engines/models/index.ts';
import { createSpeakerEncoder, type SpeakerEncoder } from '../../src/engines/speaker/neural/index.ts';
import { cosineDistance, type SenderAnalysisOptions } from '../../src/pipeline/analysis.ts';
import { loadDefaultTextModel, phraseCodecFactory, profileHashOf, senderPipeline } from '../../src/pipeline/codecs.ts';
import { formatInspection, inspectStc } from '../../src/pipeline/inspect.ts';
import { senderFrames } from '../../src/pipeline/sender.ts';
import { writeOnnxModel, type OnnxGraphSpec } from '../fixtures/onnx/builder.ts';
import { seeded } from '../fixtures/seeded.ts';

const SR = 16000;
const BIN = fileURLToPath(new URL('../../bin/stcts.js', import.meta.url));
const cache = mkdtempSync(join(tmpdir(), 'stcts-spk-emb-'));
const real = loadManifest().models.find((m) => m.engine === 'speaker-encoder')!;
let model: TextModel;
let encoder: SpeakerEncoder;

/**
 * A speaker "network" whose output depends on the voice: per-bin variance of the CMN'd fbank over
 * time, centred across bins (so the common level cancels), then a seeded 80 × 256 projection.
 */
function fixtureSpec(): OnnxGraphSpec {
  const rnd = seeded(42);
  return {
    inputs: [{ name: 'feats', elemType: 'float32', shape: ['B', 'T', 80] }],
    outputs: [{ name: 'embs', elemType: 'float32', shape: ['B', 256] }],
    nodes: [
      { opType: 'Mul', inputs: ['feats', 'feats'], outputs: ['sq'] },
      { opType: 'ReduceMean', inputs: ['sq'], outputs: ['var'], attributes: { axes: [1], keepdims: 0 } },
      { opType: 'ReduceMean', inputs: ['var'], outputs: ['m'], attributes: { axes: [1], keepdims: 1 } },
      { opType: 'Sub', inputs: ['var', 'm'], outputs: ['c'] },
      { opType: 'MatMul', inputs: ['c', 'w'], outputs: ['embs'] },
    ],
    initializers: [{ name: 'w', elemType: 'float32', dims: [80, 256], data: Array.from({ length: 80 * 256 }, rnd) }],
  };
}

/** A voiced "speaker": harmonics of a slowly wobbling F0 with spectral slope 1/h^tilt, syllable-rate envelope. */
function voice(f0Hz: number, tilt: number, seconds: number, seed: number): MonoAudio {
  const r = seeded(seed);
  const samples = Float32Array.from({ length: Math.round(seconds * SR) }, (_, i) => {
    const t = i / SR;
    const f = f0Hz * (1 + 0.05 * Math.sin(2 * Math.PI * 0.7 * t + seed));
    let v = 0;
    for (let h = 1; h <= 20; h++) v += (Math.sin(2 * Math.PI * f * h * t) * 0.3) / h ** tilt;
    return v * (0.6 + 0.4 * Math.sin(2 * Math.PI * 3 * t + seed)) + 0.01 * r();
  });
  return { samples, sampleRateHz: SR };
}
const A = (seconds: number, seed: number) => voice(120, 1, seconds, seed);
const B = (seconds: number, seed: number) => voice(230, 0.6, seconds, seed);

/** Phrases laid out 0.5 s apart, each with one word per ~0.4 s (the ASR's view). */
async function* phrases(audios: MonoAudio[]): AsyncIterable<{ result: AsrResult; audio: MonoAudio }> {
  let at = 0;
  for (const [k, audio] of audios.entries()) {
    const ms = (audio.samples.length / SR) * 1000;
    const n = Math.max(1, Math.round(ms / 400));
    const words = Array.from({ length: n }, (_, i) => ({ word: `WORD${k}`, startMs: at + (i * ms) / n, endMs: at + ((i + 1) * ms) / n, confidence: 1 }));
    yield { result: { text: words.map((w) => w.word).join(' '), startMs: at, endMs: at + ms, words }, audio };
    at += ms + 500;
  }
}

async function send(audios: MonoAudio[], speakerEncoder?: SpeakerEncoder, analysis?: Partial<SenderAnalysisOptions>): Promise<{ frames: Frame[]; wire: Uint8Array[]; speakerBits: number }> {
  const { codec, analyzer } = await senderPipeline('lm', 'balanced', model, { ...(speakerEncoder ? { speakerEncoder } : {}), ...(analysis ? { analysis } : {}) });
  const writer = new FrameStreamWriter();
  const stats = { phrases: 0, bits: { text: 0, prosody: 0, speaker: 0, control: 0 } };
  const frames: Frame[] = [];
  const wire: Uint8Array[] = [];
  for await (const f of senderFrames(phrases(audios), codec, analyzer, { sessionId: 77, mode: 'balanced' }, stats)) {
    frames.push(f.frame);
    wire.push(writer.write(f.frame));
  }
  return { frames, wire, speakerBits: stats.bits.speaker };
}

const speakerFrames = (frames: Frame[]) => frames.filter((f) => f.payload.type === 'speakerProfile' || f.payload.type === 'speakerRef');
const profiles = (frames: Frame[]) => frames.map((f) => f.payload).filter((p): p is SpeakerProfilePayload => p.type === 'speakerProfile');

async function receive(frames: Frame[], decoder?: SessionDecoder<unknown>): Promise<SessionEvent<unknown>[]> {
  const dec = decoder ?? new SessionDecoder(await phraseCodecFactory(model), new Map(), profileHashOf);
  return frames.flatMap((f) => dec.accept(f));
}

beforeAll(async () => {
  model = await loadDefaultTextModel();
  const entry: ModelEntry = { ...real, id: 'spk-fixture', files: [{ ...real.files[0]!, name: 'encoder.onnx', sha256: null }] };
  writeOnnxModel(join(cache, 'spk-fixture', 'encoder.onnx'), fixtureSpec());
  encoder = await createSpeakerEncoder('spk-fixture', { modelDir: cache, manifest: { version: 1, models: [entry] } });
}, 60_000);
afterAll(async () => {
  await encoder?.close();
  rmSync(cache, { recursive: true, force: true });
});

describe('sender with a neural speaker encoder (issue #9)', () => {
  it('the fixture separates the two voices: same-voice phrases are close, the voices far apart', async () => {
    const [a1, a2, b1] = [await encoder.embed(A(1.5, 1).samples), await encoder.embed(A(1.2, 2).samples), await encoder.embed(B(1.5, 3).samples)];
    expect(cosineDistance(a1, a2)).toBeLessThan(0.3);
    expect(cosineDistance(a1, b1)).toBeGreaterThan(0.9);
  });

  it('same voice: one SpeakerProfile carrying the 64-byte embedding of the first speech, no other speaker frame', async () => {
    const { frames, wire, speakerBits } = await send([A(1.5, 1), A(1.2, 2), A(1.8, 3), A(1.3, 4)], encoder);
    expect(speakerFrames(frames)).toHaveLength(1);
    const p = profiles(frames)[0]!;
    expect(p.profile).toHaveLength(COMPACT_PROFILE_BYTES); // sessions send the compact profile (issue #17)
    expect(p.embedding).toMatchObject({ dim: 256, encoderHash: encoderHashOf('spk-fixture') });
    expect(p.embedding!.coded).toHaveLength(64);
    // The embedding is that of the first phrase (its 1.5 s reach the 800 ms of voiced speech).
    const received = (await receive(frames)).find((e) => e.type === 'speaker')!;
    const emb = (received as { embedding?: SpeakerEmbedding }).embedding!;
    expect(1 - cosineDistance(emb.vector, await encoder.embed(A(1.5, 1).samples))).toBeGreaterThan(0.9);
    // Wire size: 12 + 64 payload bytes + 18 of framing (item header 2, payload tag+len 2, id 2,
    // profile tag+len 2, embedding tag+len 2, encoder hash 5, dimension 3; time delta 0 here).
    const i = frames.findIndex((f) => f.payload.type === 'speakerProfile');
    expect(wire[i]!.length).toBeLessThanOrEqual(COMPACT_PROFILE_BYTES + 64 + 20);
    expect(wire[i]!.length).toBe(94);
    expect(speakerBits).toBe((COMPACT_PROFILE_BYTES + 64) * 8);
  });

  it('a different voice: a second SpeakerProfile; back to the first voice: only a SpeakerRef', async () => {
    const { frames } = await send([A(1.5, 1), A(1.2, 2), B(1.5, 3), B(1.2, 4), A(1.4, 5)], encoder);
    expect(speakerFrames(frames).map((f) => f.payload.type)).toEqual(['speakerProfile', 'speakerProfile', 'speakerRef']);
    const [p1, p2] = profiles(frames);
    const events = await receive(frames);
    const spk = events.filter((e) => e.type === 'speaker') as Array<Extract<SessionEvent<unknown>, { type: 'speaker' }>>;
    expect(spk.map((e) => e.id)).toEqual([1, 2, 1]);
    expect(cosineDistance(spk[0]!.embedding!.vector, spk[1]!.embedding!.vector)).toBeGreaterThan(0.6);
    expect(spk[2]!.embedding).toBe(spk[0]!.embedding);
    // The hash on the wire covers profile and embedding.
    const ref = frames.find((f) => f.payload.type === 'speakerRef')!.payload as { profileHash: number };
    expect(ref.profileHash).toBe(speakerContentHash(p1!.profile, p1!.embedding));
    expect(ref.profileHash).not.toBe(profileHash(p1!.profile));
    expect(spk[1]!.profileHash).toBe(speakerContentHash(p2!.profile, p2!.embedding));
    // Phrases are attributed to the right speaker.
    expect(events.filter((e) => e.type === 'phrase').map((e) => (e as { speakerId?: number }).speakerId)).toEqual([1, 1, 2, 2, 1]);
  });

  it('speaker changes follow the embedding, not the DSP distance', async () => {
    // DSP threshold that never fires: the embedding still finds the change.
    const neural = await send([A(1.5, 1), B(1.5, 3)], encoder, { dspChangeDistance: 1e9 });
    expect(profiles(neural.frames)).toHaveLength(2);
    // Embedding threshold that never fires (cosine distance ≤ 2): no change, whatever the DSP says.
    const never = await send([A(1.5, 1), B(1.5, 3)], encoder, { embeddingChangeDistance: 2 });
    expect(profiles(never.frames)).toHaveLength(1);
    // Without an encoder the DSP detector is what decides (and it does see these voices differ).
    const dsp = await send([A(1.5, 1), B(1.5, 3)]);
    expect(profiles(dsp.frames)).toHaveLength(2);
  });

  it('without an encoder nothing changes: no embedding, hash = profileHash(profile), 12-byte compact profile', async () => {
    const { frames, speakerBits } = await send([A(1.5, 1), A(1.2, 2)]);
    const [p] = profiles(frames);
    expect(p!.embedding).toBeUndefined();
    expect('embedding' in p!).toBe(false);
    expect(speakerBits).toBe(COMPACT_PROFILE_BYTES * 8);
    const spk = (await receive(frames)).find((e) => e.type === 'speaker') as Extract<SessionEvent<unknown>, { type: 'speaker' }>;
    expect(spk.profileHash).toBe(profileHash(p!.profile));
    expect(spk.embedding).toBeUndefined();
  });

  it('receiver: a reconnect with shared caches gets profile and embedding from a SpeakerRef alone', async () => {
    const { frames } = await send([A(1.5, 1), B(1.5, 3), A(1.4, 5)], encoder);
    const profileCache = new Map<number, Uint8Array>();
    const embeddingCache = new Map<number, SpeakerEmbedding>();
    const factory = await phraseCodecFactory(model);
    await receive(frames, new SessionDecoder(factory, profileCache, profileHashOf, embeddingCache));
    const ref = frames.find((f) => f.payload.type === 'speakerRef')!;
    const header = frames[0]!;
    const fresh = new SessionDecoder(factory, profileCache, profileHashOf, embeddingCache);
    fresh.accept(header);
    const [e] = fresh.accept({ ...ref, seq: 1 });
    expect(e).toMatchObject({ type: 'speaker', cached: true, id: 1 });
    expect((e as { embedding?: SpeakerEmbedding }).embedding?.dim).toBe(256);
    // Without the embedding cache the profile still works; the embedding is then unknown.
    const partial = new SessionDecoder(factory, profileCache, profileHashOf);
    partial.accept(header);
    const [e2] = partial.accept({ ...ref, seq: 1 });
    expect(e2).toMatchObject({ type: 'speaker', cached: true });
    expect((e2 as { embedding?: SpeakerEmbedding }).embedding).toBeUndefined();
  });

  it('inspect shows the embedding: dimension, encoder, first values, bytes', async () => {
    const { wire } = await send([A(1.5, 1), A(1.2, 2)], encoder);
    const bytes = Uint8Array.from(wire.flatMap((w) => [...w]));
    const report = await inspectStc(bytes, decodeFrameStream(bytes));
    const f = report.frames.find((x) => x.type === 'speakerProfile')!;
    const c = f.content as { embedding: { dim: number; bytes: number; first: number[]; coded: string; encoder: string } };
    expect(c.embedding).toMatchObject({ dim: 256, bytes: 64, encoder: 'unknown' });
    expect(c.embedding.first).toHaveLength(8);
    expect(c.embedding.coded).toMatch(/^[0-9a-f]{128}$/);
    expect(f.bits.speaker).toBe((COMPACT_PROFILE_BYTES + 64) * 8);
    expect(formatInspection(report)).toContain('"embedding":{"dim":256');
  });
});

function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('stcts encode --speaker-encoder', () => {
  it('missing weights: exit 1 and one message naming stcts models fetch ID; unknown id: usage error', async () => {
    const wav = join(cache, 'in.wav');
    await writeWavFile(wav, A(1, 1));
    const empty = join(cache, 'no-models');
    const r = await run(['encode', wav, '-o', join(cache, 'out.stc'), '--speaker-encoder', real.id, '--model-dir', empty, '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`stcts models fetch ${real.id}`);
    expect(r.stderr).toContain('engine_unavailable');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const u = await run(['encode', wav, '-o', join(cache, 'out.stc'), '--speaker-encoder', 'no-such-encoder']);
    expect(u.code).toBe(2);
    expect(u.stderr).toContain(real.id);
  }, 60_000);
});
