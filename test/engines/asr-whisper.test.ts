import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { MonoAudio } from '../../src/audio/pcm.ts';
import { EngineUnavailableError, ModelError } from '../../src/core/errors.ts';
import { createAsrEngine, listAsrEngines } from '../../src/engines/asr/registry.ts';
import { WhisperEngine } from '../../src/engines/asr/whisper/engine.ts';
import { asrStructuralConformance } from './asr.conformance.ts';
import type { FixtureTokenizer } from './whisper/fixture-tokenizer.ts';
import { writeWhisperFixture, type WhisperFixture } from './whisper/fixture-models.ts';

const made: WhisperFixture[] = [];
function fixture(...args: Parameters<typeof writeWhisperFixture>): WhisperFixture {
  const f = writeWhisperFixture(...args);
  made.push(f);
  return f;
}
afterAll(() => {
  for (const f of made) rmSync(f.cacheDir, { recursive: true, force: true });
});

/** "<|0.00|> Hello, world<|1.00|><|1.00|> the ship is ready.<|2.50|>" */
const HELLO_SHIP = (t: FixtureTokenizer) => [t.ts(0), t.id('ĠHello'), t.id(','), t.id('Ġworld'), t.ts(1), t.ts(1), t.id('Ġthe'), t.id('Ġship'), t.id('Ġis'), t.id('Ġready'), t.id('.'), t.ts(2.5), t.id('<|endoftext|>')];

/** Two segments then one cut off by the end: the next window must resume at 5.00 s. */
const RESUMING = (t: FixtureTokenizer) => [t.ts(0), t.id('ĠHello'), t.id('Ġworld'), t.ts(2), t.ts(2), t.id('Ġthe'), t.id('Ġship'), t.ts(5), t.ts(5), t.id('Ġboat'), t.id('<|endoftext|>')];

/** Speech-like bursts for the energy VAD: 120 Hz harmonics with 4 Hz syllable modulation. */
function speechLike(seconds = 1.5): MonoAudio {
  const n = Math.round(seconds * 16000);
  const samples = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / 16000;
    let v = 0;
    for (let h = 1; h <= 8; h++) v += Math.sin(2 * Math.PI * 120 * h * t) / h;
    samples[i] = 0.15 * v * (0.6 + 0.4 * Math.sin(2 * Math.PI * 4 * t));
  }
  return { samples, sampleRateHz: 16000 };
}

function sharesByChars(startMs: number, endMs: number, words: string[]): Array<[string, number, number]> {
  const total = words.reduce((a, w) => a + w.length, 0);
  let done = 0;
  return words.map((w) => {
    const s = startMs + ((endMs - startMs) * done) / total;
    done += w.length;
    return [w, s, startMs + ((endMs - startMs) * done) / total];
  });
}

describe('Whisper ASR engine with fixture models', () => {
  it('is registered under the manifest ids', () => {
    const ids = listAsrEngines().map((e) => e.id);
    expect(ids).toContain('whisper-tiny.en');
    expect(ids).toContain('whisper-base.en');
  });

  it('yields the scripted words with the scripted timestamps (word times shared by characters)', async () => {
    const f = fixture('whisper-base.en', HELLO_SHIP);
    const engine = (await createAsrEngine('whisper-base.en', { modelDir: f.cacheDir, manifest: f.manifest })) as WhisperEngine;
    try {
      expect(engine.id).toBe('whisper-base.en');
      const words = await engine.transcribePhrase(new Float32Array(5 * 16000));
      const want = [...sharesByChars(0, 1000, ['HELLO', 'WORLD']), ...sharesByChars(1000, 2500, ['THE', 'SHIP', 'IS', 'READY'])];
      expect(words.map((w) => w.word)).toEqual(want.map((w) => w[0]));
      words.forEach((w, i) => {
        expect(w.startMs).toBeCloseTo(want[i]![1], 6);
        expect(w.endMs).toBeCloseTo(want[i]![2], 6);
        expect(w.confidence).toBeGreaterThan(0.99);
        expect(w.confidence).toBeLessThanOrEqual(1);
      });
    } finally {
      await engine.close();
    }
  });

  it('stream: one result per VAD phrase, times relative to the stream start', async () => {
    const f = fixture('whisper-tiny.en', HELLO_SHIP);
    const engine = await createAsrEngine('whisper-tiny.en', { modelDir: f.cacheDir, manifest: f.manifest, vadId: 'energy' });
    try {
      // 1 s silence, 3 s of "speech", 1 s silence.
      const s = speechLike(3);
      const samples = new Float32Array(16000 + s.samples.length + 16000);
      samples.set(s.samples, 16000);
      const chunks = Int16Array.from(samples, (v) => Math.round(v * 32767));
      const results = [];
      for await (const r of engine.transcribe((async function* () {
        for (let i = 0; i < chunks.length; i += 1600) yield chunks.subarray(i, i + 1600);
      })())) results.push(r);
      expect(results).toHaveLength(1);
      const r = results[0]!;
      expect(r.text).toBe('HELLO WORLD THE SHIP IS READY');
      // The phrase starts at the speech onset minus the VAD's 150 ms padding.
      expect(r.startMs).toBeGreaterThan(800);
      expect(r.startMs).toBeLessThan(1000);
      expect(r.words[1]!.endMs - r.startMs).toBeCloseTo(1000, 6);
      expect(r.endMs - r.startMs).toBeCloseTo(2500, 6);
    } finally {
      await engine.close();
    }
  });

  it('long phrases: 30 s windows resume at the last complete segment\'s end', async () => {
    const f = fixture('whisper-base.en', RESUMING);
    const engine = await WhisperEngine.create({ modelId: 'whisper-base.en', modelDir: f.cacheDir, manifest: f.manifest });
    try {
      // 12.5 s: windows at 0, 5, 10 s (the last holds 2.5 s, so its second segment is cut to 2.5 s).
      const words = await engine.transcribePhrase(new Float32Array(12.5 * 16000));
      const win = (off: number, endSecond: number) => [...sharesByChars(off, off + 2000, ['HELLO', 'WORLD']), ...sharesByChars(off + 2000, off + endSecond, ['THE', 'SHIP'])];
      const want = [...win(0, 5000), ...win(5000, 5000), ...win(10000, 2500)];
      expect(words.map((w) => w.word)).toEqual(want.map((w) => w[0]));
      words.forEach((w, i) => {
        expect(w.startMs).toBeCloseTo(want[i]![1], 6);
        expect(w.endMs).toBeCloseTo(want[i]![2], 6);
      });
      // BOAT (never closed by a timestamp) is decoded again by the next window, never emitted.
      expect(words.some((w) => w.word === 'BOAT')).toBe(false);
      // A phrase longer than 30 s: windows of at most 30 s, still resuming at 5 s steps.
      const long = await engine.transcribePhrase(new Float32Array(45 * 16000));
      expect(long.filter((w) => w.word === 'HELLO').map((w) => w.startMs)).toEqual([0, 5000, 10000, 15000, 20000, 25000, 30000, 35000, 40000]);
    } finally {
      await engine.close();
    }
  });

  it('a model whose tensors differ from the manifest is a ModelError shape_mismatch', async () => {
    const f = fixture('whisper-base.en', HELLO_SHIP, { encoderMels: 128 });
    const err = await createAsrEngine('whisper-base.en', { modelDir: f.cacheDir, manifest: f.manifest }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as ModelError).code).toBe('shape_mismatch');
    // Logits shorter than the tokenizer's vocabulary: found at the first decoding step.
    const g = fixture('whisper-base.en', () => [], { decoderVocab: 40 });
    const engine = await WhisperEngine.create({ modelId: 'whisper-base.en', modelDir: g.cacheDir, manifest: g.manifest });
    try {
      const e2 = await engine.transcribePhrase(new Float32Array(16000)).then(() => undefined, (e: unknown) => e);
      expect(e2).toBeInstanceOf(ModelError);
      expect((e2 as ModelError).code).toBe('shape_mismatch');
    } finally {
      await engine.close();
    }
  });

  it('missing weights: one EngineUnavailableError naming stcts models fetch ID', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'stcts-nomodels-'));
    try {
      for (const id of ['whisper-base.en', 'whisper-tiny.en']) {
        const err = await createAsrEngine(id, { modelDir: empty }).then(() => undefined, (e: unknown) => e);
        expect(err).toBeInstanceOf(EngineUnavailableError);
        expect((err as EngineUnavailableError).code).toBe('engine_unavailable');
        expect((err as EngineUnavailableError).remedy).toBe(`stcts models fetch ${id}`);
        expect((err as Error).message).toContain(`stcts models fetch ${id}`);
      }
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    // One file missing is the same error.
    const f = fixture('whisper-base.en', HELLO_SHIP);
    rmSync(join(f.dir, 'decoder_model.onnx'));
    const err = await createAsrEngine('whisper-base.en', { modelDir: f.cacheDir, manifest: f.manifest }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(EngineUnavailableError);
    expect((err as Error).message).toContain('stcts models fetch whisper-base.en');
  });

  it('multilingual models are prompted with <|en|><|transcribe|>', async () => {
    const f = fixture('whisper-base.en', HELLO_SHIP, { multilingual: true });
    const engine = await WhisperEngine.create({ modelId: 'whisper-base.en', modelDir: f.cacheDir, manifest: f.manifest });
    try {
      expect(engine.tokenizer.promptIds(true)).toEqual([f.tok.id('<|startoftranscript|>'), f.tok.id('<|en|>'), f.tok.id('<|transcribe|>')]);
      // The fixture decoder's script starts after a 3-token prompt; a 1-token prompt would read other rows.
      expect((await engine.transcribePhrase(new Float32Array(3 * 16000))).map((w) => w.word).join(' ')).toBe('HELLO WORLD THE SHIP IS READY');
    } finally {
      await engine.close();
    }
    await expect(WhisperEngine.create({ modelId: 'whisper-base.en', modelDir: f.cacheDir, manifest: f.manifest, language: 'xx' })).rejects.toBeInstanceOf(ModelError);
  });
});

describe('Whisper ASR engine: structural conformance with fixture models', () => {
  const f = writeWhisperFixture('whisper-base.en', HELLO_SHIP);
  made.push(f);
  asrStructuralConformance(() => createAsrEngine('whisper-base.en', { modelDir: f.cacheDir, manifest: f.manifest, vadId: 'energy' }), () => speechLike(1.5));
});
