// Unsupervised per-speaker MLLR adaptation of pocketsphinx (issue #17 item 2): the recognizer's own
// first-pass words (confidence-filtered) are the transcript; Debian's sphinxtrain accumulates
// statistics (bw) and solves one global mean transform (mllr_solve), which a decoder then loads with
// `-mllr FILE`. Runs beside the phrase path (child processes in a temp dir), never on it.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineError, EngineUnavailableError, InvalidStateError } from '../../core/errors.ts';
import { decodeS3GaussianCounts, decodeS3Gaussians, encodeS3MixtureWeights, readSendump, sendumpToMixtureWeights, vectorOffset, type S3GaussianCounts, type S3VectorArray } from './sendump.ts';
import type { AsrWord } from './types.ts';

export interface MllrOptions {
  /** Acoustic model directory (needs means, variances, transition_matrices, mdef, feat.params, noisedict, sendump). */
  hmm: string;
  /** Pronunciation dictionary (lower-case words, as pocketsphinx's). */
  dict: string;
  /**
   * Also scale the variances (one diagonal factor per feature component, estimated from bw's counts
   * around the MLLR-adapted means; pocketsphinx multiplies each variance by it). mllr_solve itself
   * writes factors of 1. Default false.
   */
  adaptVariances: boolean;
  /** Words whose posterior is below this are not adapted on. Default 0 (every word). */
  minConfidence: number;
  /** Estimate the full 39×39-per-stream matrix (true) or only the bias (mllr_solve -mllrmult no). Default true. */
  fullMatrix: boolean;
  /** A pause longer than this between two kept words ends a segment; shorter ones become `<sil>`. Default 300. */
  maxGapMs: number;
  /** Audio kept before the first and after the last word of a segment. Default 50. */
  paddingMs: number;
  /** Segments with fewer words are dropped (too short to align reliably). Default 2. */
  minSegmentWords: number;
  /** Less kept speech than this: no transform (the default model is used). Default 3. */
  minSpeechSec: number;
  /** sphinxtrain tools directory (Debian sphinxtrain). Default /usr/lib/sphinxtrain. */
  sphinxtrainDir: string;
  /** Per child process; bw retries missing feature files for minutes, so a bound matters. Default 120000. */
  timeoutMs: number;
}

export const DEFAULT_MLLR_OPTIONS: Readonly<MllrOptions> = Object.freeze({
  hmm: '/usr/share/pocketsphinx/model/en-us/en-us',
  dict: '/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict',
  minConfidence: 0,
  adaptVariances: false,
  fullMatrix: true,
  maxGapMs: 300,
  paddingMs: 50,
  minSegmentWords: 2,
  minSpeechSec: 3,
  sphinxtrainDir: '/usr/lib/sphinxtrain',
  timeoutMs: 120_000,
});

/** One utterance to adapt on: 16 kHz PCM and its first-pass words (ms from the start of `pcm`). */
export interface AdaptationUtterance {
  id: string;
  pcm: Int16Array;
  words: readonly AsrWord[];
}

/** A transform file and what it was estimated from. */
export interface MllrTransform {
  /** Pass as decoderFlags `-mllr`. Lives until the adapter is closed. */
  path: string;
  /** Seconds of audio in the kept segments. */
  speechSec: number;
  segments: number;
  words: number;
  /** Wall time of feature extraction + bw + mllr_solve (ms). */
  durationMs: number;
}

/** An adaptation segment: a run of kept words cut out of one utterance. */
export interface AdaptationSegment {
  utteranceId: string;
  startSample: number;
  endSample: number;
  /** bw transcript words (lower case, `<sil>` for inner pauses). */
  words: string[];
}

const SAMPLES_PER_MS = 16;

/** Cuts runs of confident, closely spaced words into segments (pure; exported for tests). */
export function adaptationSegments(utt: AdaptationUtterance, o: Pick<MllrOptions, 'minConfidence' | 'maxGapMs' | 'paddingMs' | 'minSegmentWords'>): AdaptationSegment[] {
  const out: AdaptationSegment[] = [];
  let run: AsrWord[] = [];
  const flush = () => {
    if (run.length >= o.minSegmentWords) {
      const words: string[] = [];
      for (const [i, w] of run.entries()) {
        if (i > 0 && w.startMs - run[i - 1]!.endMs > 10) words.push('<sil>');
        words.push(w.word.toLowerCase());
      }
      const startSample = Math.max(0, Math.round((run[0]!.startMs - o.paddingMs) * SAMPLES_PER_MS));
      const endSample = Math.min(utt.pcm.length, Math.round((run.at(-1)!.endMs + o.paddingMs) * SAMPLES_PER_MS));
      if (endSample > startSample) out.push({ utteranceId: utt.id, startSample, endSample, words });
    }
    run = [];
  };
  for (const w of utt.words) {
    if (w.confidence < o.minConfidence) {
      flush();
      continue;
    }
    if (run.length > 0 && w.startMs - run.at(-1)!.endMs > o.maxGapMs) flush();
    run.push(w);
  }
  flush();
  return out;
}

/** feat.params lines (`-name value`), as a flag map. */
function readFeatParams(hmm: string): Record<string, string> {
  const flags: Record<string, string> = {};
  for (const line of readFileSync(join(hmm, 'feat.params'), 'utf8').split('\n')) {
    const m = /^(-\S+)\s+(\S+)/.exec(line.trim());
    if (m) flags[m[1]!] = m[2]!;
  }
  return flags;
}

const FE_FLAGS = ['-lowerf', '-upperf', '-nfilt', '-transform', '-lifter', '-ncep', '-alpha', '-dither', '-wlen', '-nfft', '-frate', '-remove_dc'];
const FEAT_FLAGS = ['-feat', '-svspec', '-agc', '-cmn', '-varnorm', '-lda', '-ceplen'];

/**
 * Estimates per-key MLLR transforms with sphinx_fe, bw and mllr_solve. Owns one temp directory
 * (model files converted once: the sendump as `mixture_weights`, the binary mdef as text) and a
 * cache of transforms by key. `close()` removes it all; idempotent.
 */
export class MllrAdapter {
  readonly options: MllrOptions;
  private dir: string | undefined;
  private modelDir: string | undefined;
  private readonly cache = new Map<string, Promise<MllrTransform | undefined>>();
  private next = 0;
  private gaussians: { means: S3VectorArray; vars: S3VectorArray } | undefined;
  /** One adaptation at a time: the machine's cores belong to the live decoder first. */
  private busy: Promise<unknown> = Promise.resolve();

  constructor(options: Partial<MllrOptions> = {}) {
    this.options = { ...DEFAULT_MLLR_OPTIONS, ...options };
    const bin = this.options.sphinxtrainDir;
    for (const [what, path, pkg] of [
      ['bw', join(bin, 'bw'), 'sphinxtrain'],
      ['mllr_solve', join(bin, 'mllr_solve'), 'sphinxtrain'],
      ['sphinx_fe', '/usr/bin/sphinx_fe', 'sphinxbase-utils'],
      ['pocketsphinx_mdef_convert', '/usr/bin/pocketsphinx_mdef_convert', 'pocketsphinx'],
      ['the acoustic model sendump', join(this.options.hmm, 'sendump'), 'pocketsphinx-en-us'],
      ['the dictionary', this.options.dict, 'pocketsphinx-en-us'],
    ] as const) {
      if (!existsSync(path)) throw new EngineUnavailableError('mllr', `${what} not found at ${path}`, `apt-get install ${pkg}`);
    }
    this.dir = mkdtempSync(join(tmpdir(), 'stcts-mllr-'));
  }

  /** The transform for `key`, estimated once from `utts` (later calls with the same key reuse it). */
  transformFor(key: string, utts: readonly AdaptationUtterance[]): Promise<MllrTransform | undefined> {
    if (!this.dir) throw new InvalidStateError('MllrAdapter used after close()');
    let t = this.cache.get(key);
    if (!t) {
      t = this.busy.then(() => this.estimate(utts));
      this.busy = t.catch(() => {});
      this.cache.set(key, t);
      t.catch(() => this.cache.delete(key));
    }
    return t;
  }

  private async prepareModel(): Promise<string> {
    if (this.modelDir) return this.modelDir;
    const hmm = this.options.hmm;
    const dir = join(this.dir!, 'model');
    await this.run('/bin/mkdir', ['-p', dir]);
    for (const f of ['means', 'variances', 'transition_matrices', 'noisedict', 'feat.params']) symlinkSync(join(hmm, f), join(dir, f));
    const mixw = sendumpToMixtureWeights(readSendump(new Uint8Array(readFileSync(join(hmm, 'sendump')))));
    writeFileSync(join(dir, 'mixture_weights'), encodeS3MixtureWeights(mixw));
    await this.run('/usr/bin/pocketsphinx_mdef_convert', ['-text', join(hmm, 'mdef'), join(dir, 'mdef.txt')]);
    this.modelDir = dir;
    return dir;
  }

  private async estimate(utts: readonly AdaptationUtterance[]): Promise<MllrTransform | undefined> {
    const o = this.options;
    const model = await this.prepareModel();
    const t0 = performance.now();
    const segments = utts.flatMap((u) => adaptationSegments(u, o));
    const speechSec = segments.reduce((s, g) => s + (g.endSample - g.startSample) / 16000, 0);
    if (speechSec < o.minSpeechSec) return undefined;
    const work = join(this.dir!, `t${this.next++}`);
    const acc = join(work, 'acc');
    await this.run('/bin/mkdir', ['-p', acc]);
    const pcmOf = new Map(utts.map((u) => [u.id, u.pcm]));
    const ids = segments.map((_, i) => `s${i}`);
    for (const [i, g] of segments.entries()) {
      const pcm = pcmOf.get(g.utteranceId)!.subarray(g.startSample, g.endSample);
      writeFileSync(join(work, `${ids[i]}.raw`), new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength));
    }
    writeFileSync(join(work, 'ids'), `${ids.join('\n')}\n`);
    writeFileSync(join(work, 'trans'), segments.map((g, i) => `<s> ${g.words.join(' ')} </s> (${ids[i]})\n`).join(''));
    const feat = readFeatParams(o.hmm);
    const fe = FE_FLAGS.filter((f) => feat[f] !== undefined).flatMap((f) => [f, feat[f]!]);
    // Silence frames stay (the segments are already cut at word edges; bw aligns every frame).
    await this.run('/usr/bin/sphinx_fe', [...fe, '-samprate', '16000', '-raw', 'yes', '-input_endian', 'little', '-remove_silence', 'no', '-c', join(work, 'ids'), '-di', work, '-ei', 'raw', '-do', work, '-eo', 'mfc']);
    for (const id of ids) if (!existsSync(join(work, `${id}.mfc`))) throw new EngineError('mllr_features', `sphinx_fe wrote no features for segment ${id}`);
    const featFlags = FEAT_FLAGS.filter((f) => feat[f] !== undefined && !(f === '-cmn' && feat[f] === 'live')).flatMap((f) => [f, feat[f]!]);
    await this.run(join(o.sphinxtrainDir, 'bw'), [
      '-hmmdir', model, '-moddeffn', join(model, 'mdef.txt'), '-mixwfn', join(model, 'mixture_weights'), '-ts2cbfn', '.ptm.',
      ...featFlags, '-dictfn', o.dict, '-fdictfn', join(model, 'noisedict'),
      '-ctlfn', join(work, 'ids'), '-lsnfn', join(work, 'trans'), '-cepdir', work, '-cepext', 'mfc', '-accumdir', acc, '-timing', 'no',
    ]);
    const out = join(work, 'mllr_matrix');
    await this.run(join(o.sphinxtrainDir, 'mllr_solve'), ['-meanfn', join(model, 'means'), '-varfn', join(model, 'variances'), '-outmllrfn', out, '-accumdir', acc, '-mllrmult', o.fullMatrix ? 'yes' : 'no']);
    if (!existsSync(out)) throw new EngineError('mllr_solve', 'mllr_solve wrote no transform (no usable adaptation data?)');
    if (o.adaptVariances) {
      const t = parseMllrTransform(readFileSync(out, 'utf8'));
      this.gaussians ??= { means: decodeS3Gaussians(new Uint8Array(readFileSync(join(o.hmm, 'means')))), vars: decodeS3Gaussians(new Uint8Array(readFileSync(join(o.hmm, 'variances')))) };
      const counts = decodeS3GaussianCounts(new Uint8Array(readFileSync(join(acc, 'gauden_counts'))));
      writeFileSync(out, formatMllrTransform({ streams: t.streams.map((st, f) => ({ ...st, h: varianceScales(counts, this.gaussians!.means, this.gaussians!.vars, t, f) })) }));
    }
    for (const id of ids) for (const ext of ['raw', 'mfc']) rmSync(join(work, `${id}.${ext}`), { force: true });
    return { path: out, speechSec, segments: segments.length, words: segments.reduce((s, g) => s + g.words.filter((w) => w !== '<sil>').length, 0), durationMs: performance.now() - t0 };
  }

  private run(cmd: string, args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(cmd, args, { timeout: this.options.timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) reject(new EngineError('mllr_tool_failed', `${cmd} failed: ${String(stderr).split('\n').filter((l) => /ERROR|FATAL/.test(l)).slice(-3).join(' | ') || err.message}`, { cmd }, { cause: err }));
        else resolve(String(stdout));
      });
    });
  }

  /** Removes the temp directory (transform files included). Idempotent. */
  async close(): Promise<void> {
    const dir = this.dir;
    this.dir = undefined;
    await this.busy;
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** One global pocketsphinx `-mllr` transform: per stream, mean' = A·mean + b and var' = var·h. */
export interface MllrTransformFile {
  streams: Array<{ A: number[][]; b: number[]; h: number[] }>;
}

/** Parses mllr_solve's output (one class: `1 nStreams` then per stream its length, A, b, h). */
export function parseMllrTransform(text: string): MllrTransformFile {
  const nums = text.trim().split(/\s+/).map(Number);
  let i = 0;
  const take = () => {
    if (i >= nums.length || !Number.isFinite(nums[i])) throw new EngineError('mllr_transform_malformed', `MLLR transform: bad or missing number at token ${i}`);
    return nums[i++]!;
  };
  if (take() !== 1) throw new EngineError('mllr_transform_malformed', 'MLLR transform: only one regression class is supported');
  const nStreams = take();
  const streams = Array.from({ length: nStreams }, () => {
    const n = take();
    const A = Array.from({ length: n }, () => Array.from({ length: n }, take));
    return { A, b: Array.from({ length: n }, take), h: Array.from({ length: n }, take) };
  });
  return { streams };
}

export function formatMllrTransform(t: MllrTransformFile): string {
  const lines = ['1', String(t.streams.length)];
  for (const s of t.streams) lines.push(String(s.b.length), ...s.A.map((r) => r.join(' ')), s.b.join(' '), s.h.join(' '));
  return `${lines.join('\n')}\n`;
}

/** Variance factors are kept in this range: a few seconds of speech cannot support more. */
const MIN_VAR_SCALE = 0.25;
const MAX_VAR_SCALE = 4;

/**
 * Global diagonal variance adaptation (Gales & Woodland 1996, one class): for stream `f`,
 * h_l = Σ_g Σ_t γ_g(t) (x_l − μ̂_gl)² / σ²_gl ÷ Σ_g Σ_t γ_g(t), with μ̂ the MLLR-adapted means,
 * from bw's sufficient statistics (Σγ, Σγx, Σγx²). Clamped to [0.25, 4].
 */
export function varianceScales(counts: S3GaussianCounts, means: S3VectorArray, vars: S3VectorArray, t: MllrTransformFile, f: number): number[] {
  if (!counts.means || !counts.vars || counts.pass2var) throw new EngineError('mllr_counts', 'variance adaptation needs bw counts with means and Σγx² (no -2passvar)');
  const n = means.veclen[f]!;
  const { A, b } = t.streams[f]!;
  const num = new Float64Array(n);
  let den = 0;
  const nFeat = means.veclen.length;
  for (let cb = 0; cb < means.nCodebook; cb++) {
    for (let d = 0; d < means.nDensity; d++) {
      const g = counts.dnom[(cb * nFeat + f) * means.nDensity + d]!;
      if (!(g > 1e-6)) continue;
      const off = vectorOffset(means, cb, f, d);
      for (let l = 0; l < n; l++) {
        let mu = b[l]!;
        for (let m = 0; m < n; m++) mu += A[l]![m]! * means.data[off + m]!;
        const sx = counts.means.data[off + l]!;
        const sxx = counts.vars.data[off + l]!;
        num[l] += Math.max(0, sxx - 2 * mu * sx + mu * mu * g) / vars.data[off + l]!;
      }
      den += g;
    }
  }
  return Array.from(num, (x) => (den > 0 ? Math.min(MAX_VAR_SCALE, Math.max(MIN_VAR_SCALE, x / den)) : 1));
}
