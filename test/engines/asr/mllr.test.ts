import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { DecodeError } from '../../../src/core/errors.ts';
import { toPcm16k } from '../../../src/audio/resample.ts';
import { transcribeAudio } from '../../../src/engines/asr/index.ts';
import { adaptationSegments, DEFAULT_MLLR_OPTIONS, formatMllrTransform, MllrAdapter, parseMllrTransform, varianceScales } from '../../../src/engines/asr/mllr.ts';
import { defaultPocketsphinxOptions, PocketsphinxEngine } from '../../../src/engines/asr/pocketsphinx.ts';
import { decodeS3MixtureWeights, encodeS3MixtureWeights, rawMixtureSums, readSendump, sendumpToMixtureWeights } from '../../../src/engines/asr/sendump.ts';
import type { AsrWord } from '../../../src/engines/asr/types.ts';
import { wordErrorRate } from '../../../src/eval/wer.ts';
import { festivalSpeech } from '../asr.conformance.ts';
import { describeWith, FESTIVAL, file, POCKETSPHINX_ADDON, POCKETSPHINX_MODEL } from '../../fixtures/components.ts';

const HMM = '/usr/share/pocketsphinx/model/en-us/en-us';
const SENDUMP = file('the pocketsphinx en-us acoustic model (Debian pocketsphinx-en-us)', `${HMM}/sendump`);
const SPHINXTRAIN = file('sphinxtrain bw/mllr_solve (Debian sphinxtrain)', '/usr/lib/sphinxtrain/mllr_solve', 'apt-get install sphinxtrain');

const word = (w: string, startMs: number, endMs: number, confidence = 1): AsrWord => ({ word: w, startMs, endMs, confidence });
const segOpts = { minConfidence: 0.5, maxGapMs: 300, paddingMs: 50, minSegmentWords: 2 };

it('adaptation segments: low-confidence words and long pauses split runs; short pauses become <sil>', () => {
  const pcm = new Int16Array(16 * 5000);
  const words = [word('THE', 100, 300), word('SHIP', 300, 600), word('IS', 650, 800), word('XX', 800, 900, 0.2), word('READY', 900, 1200), word('NOW', 1200, 1500), word('GO', 2000, 2300)];
  const segs = adaptationSegments({ id: 'u', pcm, words }, segOpts);
  expect(segs.map((s) => s.words)).toEqual([['the', 'ship', '<sil>', 'is'], ['ready', 'now']]);
  expect(segs[0]).toMatchObject({ utteranceId: 'u', startSample: 16 * 50, endSample: 16 * 850 });
  // A lone word ("GO", after a 500 ms pause) is below minSegmentWords and is dropped.
  expect(adaptationSegments({ id: 'u', pcm, words: [word('GO', 0, 200)] }, segOpts)).toEqual([]);
  // Padding never leaves the utterance.
  expect(adaptationSegments({ id: 'u', pcm: new Int16Array(16 * 1000), words: [word('A', 0, 400), word('B', 400, 990)] }, segOpts)[0]).toMatchObject({ startSample: 0, endSample: 16000 });
});

it('variance factors: the adapted-mean residual variance over the prior variance, from Σγ, Σγx, Σγx²', () => {
  // One codebook, one stream of 2 components, one density; prior mean (0, 0), variance (1, 4).
  const x = [[1, 3], [3, -1], [2, 1], [2, 5]];
  const mean = { nCodebook: 1, nDensity: 1, veclen: [2], data: Float32Array.of(0, 0) };
  const vars = { ...mean, data: Float32Array.of(1, 4) };
  const sum = (f: (v: number[]) => number) => x.reduce((a, v) => a + f(v), 0);
  const counts = {
    means: { ...mean, data: Float32Array.of(sum((v) => v[0]!), sum((v) => v[1]!)) },
    vars: { ...mean, data: Float32Array.of(sum((v) => v[0]! ** 2), sum((v) => v[1]! ** 2)) },
    pass2var: false,
    dnom: Float32Array.of(x.length),
  };
  // The transform moves the mean to the sample mean (2, 2): residual variances 0.5 and 5.
  const t = parseMllrTransform(formatMllrTransform({ streams: [{ A: [[1, 0], [0, 1]], b: [2, 2], h: [1, 1] }] }));
  const h = varianceScales(counts, mean, vars, t, 0);
  expect(h[0]).toBeCloseTo(0.5, 5);
  expect(h[1]).toBeCloseTo(5 / 4, 5);
  // Around the unadapted mean (0, 0) the residuals are larger; the factor is clamped at 4.
  const far = varianceScales({ ...counts, vars: { ...mean, data: Float32Array.of(400, 4) } }, mean, vars, { streams: [{ A: [[1, 0], [0, 1]], b: [0, 0], h: [1, 1] }] }, 0);
  expect(far).toEqual([4, 0.25]);
  expect(() => parseMllrTransform('2 1')).toThrow(expect.objectContaining({ code: 'mllr_transform_malformed' }));
});

describeWith('sendump → S3 mixture_weights', [SENDUMP], () => {
  const sendump = readSendump(new Uint8Array(readFileSync(`${HMM}/sendump`)));

  it('has the model\'s shape: 3 streams × 128 densities × 5126 senones (mdef)', () => {
    expect([sendump.nFeat, sendump.nDensity, sendump.nSenone]).toEqual([3, 128, 5126]);
  });

  it('dequantized weights sum to ≈ 1 per mixture before renormalizing (the log scale is right) and to 1 after', () => {
    const raw = rawMixtureSums(sendump);
    expect(Math.min(...raw)).toBeGreaterThan(0.85);
    expect(Math.max(...raw)).toBeLessThan(1.02);
    // A wrong log base would be far off: base 1.001 (10× the exponent) gives sums ≪ 1.
    expect(Math.max(...rawMixtureSums(sendump, 1.001))).toBeLessThan(0.5);
    const m = sendumpToMixtureWeights(sendump);
    for (let r = 0; r < m.nMixw * m.nFeat; r += 97) {
      let s = 0;
      for (let d = 0; d < m.nDensity; d++) s += m.weights[r * m.nDensity + d]!;
      expect(s).toBeCloseTo(1, 5);
    }
  });

  it('keeps the ordering of the quantized values (smaller −log value = larger weight), transposed to senone-major', () => {
    const m = sendumpToMixtureWeights(sendump);
    const [sen, f, a, b] = [1234, 1, 5, 77];
    const va = sendump.values[(f * 128 + a) * 5126 + sen]!;
    const vb = sendump.values[(f * 128 + b) * 5126 + sen]!;
    const wa = m.weights[(sen * 3 + f) * 128 + a]!;
    const wb = m.weights[(sen * 3 + f) * 128 + b]!;
    expect(Math.sign(wa - wb)).toBe(Math.sign(vb - va));
  });

  it('S3 encoding round-trips and its checksum matches sphinxtrain\'s (checked on the model\'s own transition_matrices)', () => {
    const m = sendumpToMixtureWeights(sendump);
    const bytes = encodeS3MixtureWeights(m);
    const back = decodeS3MixtureWeights(bytes);
    expect([back.nMixw, back.nFeat, back.nDensity]).toEqual([5126, 3, 128]);
    let differing = 0;
    for (let i = 0; i < m.weights.length; i++) if (back.weights[i] !== m.weights[i]) differing++;
    expect(differing).toBe(0);
    const tmat = decodeS3MixtureWeights(new Uint8Array(readFileSync(`${HMM}/transition_matrices`)));
    expect([tmat.nMixw, tmat.nFeat, tmat.nDensity]).toEqual([42, 3, 4]);
    const corrupt = bytes.slice();
    corrupt[bytes.length - 100] ^= 0x40;
    expect(() => decodeS3MixtureWeights(corrupt)).toThrow(expect.objectContaining({ code: 'malformed' }));
    expect(() => decodeS3MixtureWeights(bytes.subarray(0, bytes.length - 8))).toThrow(DecodeError);
  });

  it('rejects a truncated or foreign file with typed errors', () => {
    const bytes = new Uint8Array(readFileSync(`${HMM}/sendump`));
    expect(() => readSendump(bytes.subarray(0, bytes.length - 1))).toThrow(expect.objectContaining({ code: 'truncated' }));
    expect(() => readSendump(new TextEncoder().encode('s3\nversion 1.0\nendhdr\n'))).toThrow(expect.objectContaining({ code: 'malformed' }));
  });
});

describeWith('MLLR transform from synthesized speech', [SENDUMP, SPHINXTRAIN, POCKETSPHINX_MODEL, POCKETSPHINX_ADDON, FESTIVAL], () => {
  it('estimates a global transform that pocketsphinx loads with -mllr and still decodes with', async () => {
    const text = 'THE WEATHER IS FINE TODAY AND THE SHIP IS READY TO SAIL WITH THE MORNING TIDE';
    const audio = festivalSpeech(text);
    const base = defaultPocketsphinxOptions();
    const engine = new PocketsphinxEngine(base);
    const words = await transcribeAudio(engine, audio).finally(() => engine.close());
    const adapter = new MllrAdapter({ minSpeechSec: 1 });
    try {
      const t = await adapter.transformFor('slt', [{ id: 'u', pcm: toPcm16k(audio), words: words.flatMap((r) => r.words) }]);
      expect(t).toBeDefined();
      expect(t!.speechSec).toBeGreaterThan(1);
      expect(t!.words).toBeGreaterThan(5);
      // pocketsphinx's -mllr layout: classes, streams, then per stream its length, A (n×n), b (n), h (n).
      const nums = readFileSync(t!.path, 'utf8').trim().split(/\s+/).map(Number);
      expect(nums.slice(0, 3)).toEqual([1, 3, 13]);
      expect(nums.length).toBe(2 + 3 * (1 + 13 * 13 + 13 + 13));
      expect(nums.every(Number.isFinite)).toBe(true);
      const withVar = new MllrAdapter({ minSpeechSec: 1, adaptVariances: true });
      try {
        const tv = await withVar.transformFor('slt', [{ id: 'u', pcm: toPcm16k(audio), words: words.flatMap((r) => r.words) }]);
        const h = parseMllrTransform(readFileSync(tv!.path, 'utf8')).streams.flatMap((s) => s.h);
        expect(h).toHaveLength(39);
        expect(h.some((v) => v !== 1)).toBe(true);
        expect(h.every((v) => v >= 0.25 && v <= 4)).toBe(true);
      } finally {
        await withVar.close();
      }
      // Same key: the cached transform, not a second estimate.
      expect(await adapter.transformFor('slt', [])).toBe(t);

      // The decoder really reads the file: a malformed transform makes it refuse to load.
      const badDir = mkdtempSync(join(tmpdir(), 'stcts-mllr-test-'));
      const bad = join(badDir, 'bad');
      writeFileSync(bad, '1 3 13 not-a-number\n');
      expect(() => new PocketsphinxEngine({ ...base, decoderFlags: { ...base.decoderFlags, '-mllr': bad } })).toThrow();
      rmSync(badDir, { recursive: true });
      const adapted = new PocketsphinxEngine({ ...base, decoderFlags: { ...base.decoderFlags, '-mllr': t!.path } });
      const hyp = (await transcribeAudio(adapted, audio).finally(() => adapted.close())).map((r) => r.text).join(' ');
      expect(wordErrorRate(text, hyp).wer).toBeLessThan(0.5);
      await adapter.close();
      expect(existsSync(t!.path)).toBe(false);
      await adapter.close();
      expect(() => adapter.transformFor('x', [])).toThrow(expect.objectContaining({ code: 'invalid_state' }));
    } finally {
      await adapter.close();
    }
  }, 120_000);

  it('gives no transform when too little speech is kept', async () => {
    const adapter = new MllrAdapter({ ...DEFAULT_MLLR_OPTIONS, minConfidence: 0.99 });
    try {
      const pcm = new Int16Array(16000);
      expect(await adapter.transformFor('k', [{ id: 'u', pcm, words: [word('A', 0, 300, 0.5), word('B', 300, 600, 0.5)] }])).toBeUndefined();
    } finally {
      await adapter.close();
    }
  });
});
