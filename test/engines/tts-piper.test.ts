import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EngineUnavailableError, ModelError, UsageError } from '../../src/core/errors.ts';
import { loadManifest } from '../../src/engines/models/index.ts';
import { DEFAULT_CMUDICT_PATH, PiperTtsEngine } from '../../src/engines/tts/piper/index.ts';
import { medianF0Hz } from '../../src/engines/tts/piper/pitch.ts';
import { createTtsEngine, listTtsEngines } from '../../src/engines/tts/registry.ts';
import { ttsStructuralConformance } from './tts.conformance.ts';
import {
  FIXTURE_INFERENCE, FIXTURE_SAMPLE_RATE_HZ, FIXTURE_SYMBOLS, SAMPLES_PER_ID, echoVoiceSpec, fixtureManifest, fixtureVoiceConfig,
  sineVoiceSpec, writeFixtureVoice, wrongInputSpec, wrongOutputSpec,
} from './tts-piper/fixtures.ts';

const cache = mkdtempSync(join(tmpdir(), 'stcts-piper-'));
afterAll(() => rmSync(cache, { recursive: true, force: true }));

// The Debian dictionary when installed; otherwise a tiny one (the letter-to-sound rules do the rest).
const lexiconPath = existsSync(DEFAULT_CMUDICT_PATH) ? DEFAULT_CMUDICT_PATH : join(cache, 'tiny.dict');
if (!existsSync(lexiconPath)) writeFileSync(lexiconPath, 'the DH AH\nradio R EY D IY OW\n');

const sineManifest = writeFixtureVoice(cache, 'piper-sine', sineVoiceSpec());
const echoManifest = writeFixtureVoice(cache, 'piper-echo', echoVoiceSpec());
const sine = () => PiperTtsEngine.create('piper-sine', { modelDir: cache, manifest: sineManifest, lexiconPath });
const durMs = (r: { samples: Float32Array; sampleRateHz: number }) => (r.samples.length / r.sampleRateHz) * 1000;

describe('Piper TTS with a fixture voice (structural conformance)', () => {
  ttsStructuralConformance(sine);
});

describe('Piper TTS engine', () => {
  it('feeds the model Piper ids and [noise, length, noise_w] scales', async () => {
    const tts = await PiperTtsEngine.create('piper-echo', { modelDir: cache, manifest: echoManifest, lexiconPath, normalize: false });
    try {
      const text = 'the radio';
      const want = tts.phonemeIds(text);
      const sym = (s: string) => FIXTURE_SYMBOLS.indexOf(s);
      expect(want).toEqual(['^', '_', 'ð', '_', 'ə', '_', ' ', '_', 'ɹ', '_', 'ˈ', '_', 'e', '_', 'ɪ', '_', 'd', '_', 'i', '_', 'o', '_', 'ʊ', '_', '$'].map(sym));
      for (const rate of [1, 2]) {
        const r = await tts.synthesize({ text, rate });
        expect(r.sampleRateHz).toBe(FIXTURE_SAMPLE_RATE_HZ);
        const got = Array.from(r.samples);
        expect(got.slice(0, -3).map((x) => Math.round(x * 1000))).toEqual(want);
        const scales = got.slice(-3);
        expect(scales[0]).toBeCloseTo(FIXTURE_INFERENCE.noise_scale, 5);
        expect(scales[1]).toBeCloseTo(FIXTURE_INFERENCE.length_scale / rate, 5);
        expect(scales[2]).toBeCloseTo(FIXTURE_INFERENCE.noise_w, 5);
      }
    } finally {
      await tts.close();
    }
  });

  it('output length follows the length scale; speechDurationMs and word durations set the total', async () => {
    const tts = await sine();
    try {
      const text = 'keep the radio open';
      const ids = tts.phonemeIds(text).length;
      const base = await tts.synthesize({ text });
      expect(base.samples.length).toBe(ids * SAMPLES_PER_ID);
      const slow = await tts.synthesize({ text, rate: 0.5 });
      expect(slow.samples.length).toBe(ids * SAMPLES_PER_ID * 2);
      const target = await tts.synthesize({ text, speechDurationMs: 3000 });
      expect(Math.abs(durMs(target) - 3000)).toBeLessThan(30);
      const want = [300, 600, 250, 900];
      const byWords = await tts.synthesize({ text, wordDurationsMs: want });
      expect(Math.abs(durMs(byWords) - 2050)).toBeLessThan(25);
    } finally {
      await tts.close();
    }
  });

  it('word times are proportional to phoneme ids; pauses insert exact silences', async () => {
    const tts = await sine();
    try {
      const r = await tts.synthesize({ text: 'keep the radio open' });
      const msPerId = (SAMPLES_PER_ID / FIXTURE_SAMPLE_RATE_HZ) * 1000;
      expect(r.words[0]!.startMs).toBeCloseTo(2 * msPerId, 6); // after ^ _
      const span = (w: { startMs: number; endMs: number }) => Math.round((w.endMs - w.startMs) / msPerId);
      // keep = k ˈ i ː p (5 phonemes × 2 ids), the = ð ə (2 × 2)
      expect(span(r.words[0]!)).toBe(10);
      expect(span(r.words[1]!)).toBe(4);
      const p = await tts.synthesize({ text: 'keep the radio open', pausesAfterMs: [0, 400, 0, 0] });
      const gap = p.words[2]!.startMs - p.words[1]!.endMs;
      expect(gap).toBeCloseTo(400 + 3 * msPerId, 6); // the pause plus `$` and the next chunk's `^ _`
      // the inserted silence is digital zero
      const mid = Math.round(((p.words[1]!.endMs + p.words[2]!.startMs) / 2000) * p.sampleRateHz);
      expect(p.samples.subarray(mid - 100, mid + 100).every((x) => x === 0)).toBe(true);
      expect(durMs(p) - durMs(r)).toBeGreaterThanOrEqual(399);
      for (let i = 1; i < p.words.length; i++) expect(p.words[i]!.startMs).toBeGreaterThanOrEqual(p.words[i - 1]!.endMs);
    } finally {
      await tts.close();
    }
  });

  it('moves the median F0 by resampling (duration kept), at most 6 semitones', async () => {
    const tts = await sine();
    try {
      const text = 'we sail at dawn and return before the storm';
      const base = await tts.synthesize({ text });
      const st = (hz: number) => 12 * Math.log2(hz);
      expect(Math.abs(st(medianF0Hz(base.samples, base.sampleRateHz)!) - st(220))).toBeLessThan(0.2);
      for (const [target, expected] of [[196, 196], [250, 250], [110, 220 * 2 ** (-6 / 12)]] as const) {
        const r = await tts.synthesize({ text, f0MedianHz: target });
        expect(Math.abs(st(medianF0Hz(r.samples, r.sampleRateHz)!) - st(expected))).toBeLessThan(0.2);
        expect(Math.abs(r.samples.length - base.samples.length)).toBeLessThan(base.samples.length * 0.01);
      }
      const contour = new Float32Array(100).fill(0).map((_, i) => (i % 3 ? 185 : 0));
      const c = await tts.synthesize({ text, f0Hz: contour, f0FrameMs: 10 });
      expect(Math.abs(st(medianF0Hz(c.samples, c.sampleRateHz)!) - st(185))).toBeLessThan(0.2);
    } finally {
      await tts.close();
    }
  });

  it('missing weights give one EngineUnavailableError naming stcts models fetch ID', async () => {
    const manifest = fixtureManifest(['piper-absent']);
    const err = await PiperTtsEngine.create('piper-absent', { modelDir: cache, manifest, lexiconPath }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineUnavailableError);
    expect((err as EngineUnavailableError).remedy).toBe('stcts models fetch piper-absent');
  });

  it('a model with other tensors, or a bad voice config, is a ModelError', async () => {
    for (const [id, spec] of [['piper-badin', wrongInputSpec()], ['piper-badout', wrongOutputSpec()]] as const) {
      const manifest = writeFixtureVoice(cache, id, spec);
      const err = await PiperTtsEngine.create(id, { modelDir: cache, manifest, lexiconPath }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelError);
      expect((err as ModelError).code).toBe('shape_mismatch');
    }
    const manifest = writeFixtureVoice(cache, 'piper-badcfg', sineVoiceSpec(), fixtureVoiceConfig({ phoneme_id_map: { a: [1] } }));
    const err = await PiperTtsEngine.create('piper-badcfg', { modelDir: cache, manifest, lexiconPath }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as ModelError).code).toBe('bad_model');
  });

  it('the registry lists the manifest Piper voices; missing weights name stcts models fetch ID', async () => {
    const ids = loadManifest().models.filter((m) => m.engine === 'piper').map((m) => m.id);
    expect(ids.length).toBeGreaterThan(0);
    const listed = listTtsEngines().map((e) => e.id);
    for (const id of ids) {
      expect(listed).toContain(id);
      const err = await createTtsEngine(id, { modelDir: join(cache, 'empty') }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EngineUnavailableError);
      expect((err as EngineUnavailableError).remedy).toBe(`stcts models fetch ${id}`);
    }
    await expect(createTtsEngine('piper-nope')).rejects.toBeInstanceOf(UsageError);
  });
});
