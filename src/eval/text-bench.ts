import { existsSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { brotliCompressSync, constants as zlibConstants } from 'node:zlib';
import { AudioError, UsageError } from '../core/errors.ts';
import { TextCodingSession, decodeTextSegment, encodeTextSegment, loadTextModel } from '../codec/text/index.ts';

/** One corpus utterance as the text bench needs it. */
export interface TextBenchInput {
  id: string;
  speaker: string;
  transcript: string;
  durationSec: number;
}

export interface TextBenchUtterance extends TextBenchInput {
  words: number;
  chars: number;
  /** Whole bytes of the coded segment × 8. */
  bits: number;
  bitsPerChar: number;
  bps: number;
  brotli5Bps: number;
  brotli11Bps: number;
}

/** Totals of `stcts bench text` (field names are the `--json` contract). */
export interface TextBenchReport {
  textBps: number;
  bitsPerChar: number;
  bitsPerWord: number;
  brotli5Bps: number;
  brotli11Bps: number;
  /** Encode + decode throughput over the corpus, words per second (one core). */
  wordsPerSecond: number;
  modelLoadMs: number;
  rssMb: number;
  utterances: number;
  audioSeconds: number;
  modelId: string;
  modelHash: string;
  perUtterance: TextBenchUtterance[];
}

/** Duration of a PCM WAV from its header (fmt byte rate and data chunk size). */
export async function wavDurationSec(path: string): Promise<number> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(1 << 16);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    if (bytesRead < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
      throw new AudioError('not_wav', `${path} is not a RIFF/WAVE file`);
    }
    let off = 12;
    let byteRate = 0;
    while (off + 8 <= bytesRead) {
      const id = buf.toString('ascii', off, off + 4);
      const size = buf.readUInt32LE(off + 4);
      if (id === 'fmt ') byteRate = buf.readUInt32LE(off + 16);
      if (id === 'data') {
        if (!byteRate) break;
        const { size: fileSize } = await fh.stat();
        return Math.min(size, fileSize - off - 8) / byteRate;
      }
      off += 8 + size + (size & 1);
    }
    throw new AudioError('unsupported_format', `${path}: no fmt/data chunk in the first 64 KiB`);
  } finally {
    await fh.close();
  }
}

/**
 * Reads the corpus through src/eval/corpus.ts when it exists; otherwise reads the
 * transcripts.tsv layout (`id speaker sex transcript`) and WAV header durations itself.
 */
export async function readTextBenchCorpus(dir: string): Promise<TextBenchInput[]> {
  const corpusModule = new URL('./corpus.ts', import.meta.url);
  if (existsSync(corpusModule)) {
    const mod = (await import(corpusModule.href)) as { readCorpus(dir: string): Promise<Array<{ id: string; speaker: string; transcript: string; audioPath: string; durationSec?: number }>> };
    const utts = await mod.readCorpus(dir);
    return Promise.all(utts.map(async (u) => ({ id: u.id, speaker: u.speaker, transcript: u.transcript, durationSec: u.durationSec ?? (await wavDurationSec(u.audioPath)) })));
  }
  const tsv = join(dir, 'transcripts.tsv');
  if (!existsSync(tsv)) throw new UsageError(`${dir} has no transcripts.tsv`);
  const lines = (await readFile(tsv, 'utf8')).split('\n').filter((l) => l.trim() !== '');
  const out: TextBenchInput[] = [];
  for (const line of lines.slice(1)) {
    const [id, speaker, , transcript] = line.split('\t');
    if (!id || speaker === undefined || transcript === undefined) continue;
    out.push({ id, speaker, transcript, durationSec: await wavDurationSec(join(dir, `${id}.wav`)) });
  }
  return out;
}

/** Nominal speaking rate used to turn a plain sentence list into bit/s (the dev corpus averages ~2.9). */
export const NOMINAL_WORDS_PER_SECOND = 2.9;

/**
 * Reads one sentence per line as utterances of a single session (speaker 'text'), upper-cased like
 * the ASR's output; durations are nominal (words / NOMINAL_WORDS_PER_SECOND).
 */
export async function readSentenceList(path: string): Promise<TextBenchInput[]> {
  const lines = (await readFile(path, 'utf8')).split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  return lines.map((l, i) => {
    const transcript = l.toUpperCase().replace(/\s+/g, ' ');
    return { id: `line-${i + 1}`, speaker: 'text', transcript, durationSec: transcript.split(' ').length / NOMINAL_WORDS_PER_SECOND };
  });
}

const brotliBits = (text: string, quality: number): number =>
  brotliCompressSync(Buffer.from(text, 'utf8'), { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: quality } }).length * 8;

/**
 * Codes each transcript as one segment of one session per speaker (corpus order, each segment
 * committed after it is decoded), checks the round trip, and compares with per-utterance Brotli.
 */
export async function runTextBench(utts: TextBenchInput[], modelPath?: string): Promise<TextBenchReport> {
  const t0 = performance.now();
  const model = await loadTextModel(modelPath);
  const modelLoadMs = performance.now() - t0;
  const tx = new Map<string, TextCodingSession>();
  const rx = new Map<string, TextCodingSession>();
  const per: TextBenchUtterance[] = [];
  let codingMs = 0;
  for (const u of utts) {
    if (!tx.has(u.speaker)) {
      tx.set(u.speaker, new TextCodingSession(model));
      rx.set(u.speaker, new TextCodingSession(model));
    }
    const a = tx.get(u.speaker) as TextCodingSession;
    const b = rx.get(u.speaker) as TextCodingSession;
    const t1 = performance.now();
    const bytes = encodeTextSegment(a, u.transcript);
    const back = decodeTextSegment(b, bytes);
    codingMs += performance.now() - t1;
    if (back !== u.transcript) throw new Error(`text coder round trip failed on ${u.id}`);
    a.commit(u.transcript);
    b.commit(back);
    const bits = bytes.length * 8;
    const chars = u.transcript.length;
    per.push({
      ...u,
      words: u.transcript === '' ? 0 : u.transcript.split(/\s+/).length,
      chars,
      bits,
      bitsPerChar: chars ? bits / chars : 0,
      bps: bits / u.durationSec,
      brotli5Bps: brotliBits(u.transcript, 5) / u.durationSec,
      brotli11Bps: brotliBits(u.transcript, 11) / u.durationSec,
    });
  }
  const audioSeconds = per.reduce((s, u) => s + u.durationSec, 0);
  const sum = (f: (u: TextBenchUtterance) => number): number => per.reduce((s, u) => s + f(u), 0);
  const bits = sum((u) => u.bits);
  const words = sum((u) => u.words);
  return {
    textBps: bits / audioSeconds,
    bitsPerChar: bits / Math.max(1, sum((u) => u.chars)),
    bitsPerWord: bits / Math.max(1, words),
    brotli5Bps: sum((u) => u.brotli5Bps * u.durationSec) / audioSeconds,
    brotli11Bps: sum((u) => u.brotli11Bps * u.durationSec) / audioSeconds,
    wordsPerSecond: words / (codingMs / 1000),
    modelLoadMs,
    rssMb: process.memoryUsage().rss / 1e6,
    utterances: per.length,
    audioSeconds,
    modelId: model.id,
    modelHash: model.hash.toString(16).padStart(8, '0'),
    perUtterance: per,
  };
}

/** Human-readable table of a report. */
export function formatTextBench(r: TextBenchReport): string {
  const lines = [`${'id'.padEnd(20)} ${'words'.padStart(5)} ${'bits'.padStart(5)} ${'b/char'.padStart(6)} ${'bps'.padStart(6)} ${'br5bps'.padStart(7)} ${'br11bps'.padStart(7)}`];
  for (const u of r.perUtterance) {
    lines.push(`${u.id.padEnd(20)} ${String(u.words).padStart(5)} ${String(u.bits).padStart(5)} ${u.bitsPerChar.toFixed(2).padStart(6)} ${u.bps.toFixed(1).padStart(6)} ${u.brotli5Bps.toFixed(1).padStart(7)} ${u.brotli11Bps.toFixed(1).padStart(7)}`);
  }
  lines.push(
    '',
    `model ${r.modelId} #${r.modelHash}: loaded in ${r.modelLoadMs.toFixed(0)} ms, RSS ${r.rssMb.toFixed(0)} MB`,
    `${r.utterances} utterances, ${r.audioSeconds.toFixed(1)} s of audio`,
    `text: ${r.textBps.toFixed(2)} bit/s, ${r.bitsPerChar.toFixed(3)} bit/char, ${r.bitsPerWord.toFixed(2)} bit/word`,
    `brotli-5: ${r.brotli5Bps.toFixed(2)} bit/s   brotli-11: ${r.brotli11Bps.toFixed(2)} bit/s`,
    `speed: ${r.wordsPerSecond.toFixed(0)} words/s (encode + decode)`,
  );
  return lines.join('\n');
}
