import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { decodeWav, readWavFile, resample, type MonoAudio } from '../audio/index.ts';
import { EngineUnavailableError, StctsError } from '../core/errors.ts';

const run = promisify(execFile);

export type CorpusErrorCode = 'not_found' | 'malformed' | 'missing_audio';

export class CorpusError extends StctsError {
  declare readonly code: CorpusErrorCode;
  constructor(code: CorpusErrorCode, message: string) {
    super(code, message);
  }
}

export interface CorpusUtterance {
  id: string;
  speaker: string;
  sex?: 'F' | 'M';
  transcript: string;
  audioPath: string;
  durationSec: number;
}

/** Duration from the WAV header alone (no sample decode); FLAC: from `soxi`/`metaflac` if present, else decoded. */
async function durationOf(path: string): Promise<number> {
  if (path.endsWith('.wav')) {
    const bytes = new Uint8Array(await readFile(path));
    const a = decodeWav(bytes);
    return a.samples.length / a.sampleRateHz;
  }
  const a = await loadAudioFile(path);
  return a.samples.length / a.sampleRateHz;
}

/**
 * Reads a corpus directory: either `transcripts.tsv` (`id speaker sex transcript`, header row) with
 * `<id>.wav`, or the LibriSpeech layout (`SPEAKER/CHAPTER/SPEAKER-CHAPTER.trans.txt` with `.flac` or
 * `.wav` beside it). Order: file order (tsv) or sorted ids (LibriSpeech).
 */
export async function readCorpus(dir: string): Promise<CorpusUtterance[]> {
  if (!existsSync(dir)) throw new CorpusError('not_found', `corpus directory ${dir} does not exist`);
  const tsv = join(dir, 'transcripts.tsv');
  if (existsSync(tsv)) return readTsvCorpus(dir, tsv);
  const transFiles = await findTransFiles(dir);
  if (transFiles.length === 0) {
    throw new CorpusError('not_found', `${dir} has neither transcripts.tsv nor LibriSpeech */*/*.trans.txt files`);
  }
  const out: CorpusUtterance[] = [];
  for (const f of transFiles) {
    const lines = (await readFile(f, 'utf8')).split('\n');
    for (const [i, line] of lines.entries()) {
      if (!line.trim()) continue;
      const m = /^(\S+)\s+(.*)$/.exec(line.trim());
      if (!m) throw new CorpusError('malformed', `${f}:${i + 1}: expected "ID TRANSCRIPT"`);
      const id = m[1]!;
      const audioPath = [join(dirname(f), `${id}.flac`), join(dirname(f), `${id}.wav`)].find((p) => existsSync(p));
      if (!audioPath) throw new CorpusError('missing_audio', `${f}:${i + 1}: no ${id}.flac or ${id}.wav beside it`);
      out.push({ id, speaker: id.split('-')[0]!, transcript: m[2]!, audioPath, durationSec: await durationOf(audioPath) });
    }
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

async function readTsvCorpus(dir: string, tsv: string): Promise<CorpusUtterance[]> {
  const lines = (await readFile(tsv, 'utf8')).split(/\r?\n/);
  const header = (lines[0] ?? '').split('\t');
  const col = (name: string) => header.indexOf(name);
  if (col('id') < 0 || col('transcript') < 0) throw new CorpusError('malformed', `${tsv}:1: header must name columns id, speaker, sex, transcript`);
  const out: CorpusUtterance[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.trim()) continue;
    const cells = line.split('\t');
    const id = cells[col('id')]?.trim();
    const transcript = cells[col('transcript')]?.trim();
    if (!id || transcript === undefined) throw new CorpusError('malformed', `${tsv}:${i + 1}: missing id or transcript`);
    const audioPath = join(dir, `${id}.wav`);
    if (!existsSync(audioPath)) throw new CorpusError('missing_audio', `${tsv}:${i + 1}: ${basename(audioPath)} not found in ${dir}`);
    const sex = col('sex') >= 0 ? cells[col('sex')]?.trim().toUpperCase() : undefined;
    const u: CorpusUtterance = { id, speaker: col('speaker') >= 0 ? (cells[col('speaker')]?.trim() ?? id) : id, transcript, audioPath, durationSec: await durationOf(audioPath) };
    if (sex === 'F' || sex === 'M') u.sex = sex;
    out.push(u);
  }
  return out;
}

async function findTransFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const a of (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory())) {
    for (const b of (await readdir(join(dir, a.name), { withFileTypes: true })).filter((d) => d.isDirectory())) {
      for (const f of await readdir(join(dir, a.name, b.name))) if (f.endsWith('.trans.txt')) out.push(join(dir, a.name, b.name, f));
    }
  }
  return out.sort();
}

/** Reads a WAV, or a FLAC through Debian's `flac` tool. */
export async function loadAudioFile(path: string): Promise<MonoAudio> {
  if (!path.endsWith('.flac')) return readWavFile(path);
  try {
    const { stdout } = await run('flac', ['-d', '-c', '-s', path], { encoding: 'buffer', maxBuffer: 512 * 1024 * 1024 });
    return decodeWav(new Uint8Array(stdout));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new EngineUnavailableError('flac', 'FLAC audio needs the flac tool', 'apt-get install flac');
    throw err;
  }
}

/** The utterance's audio at 16 kHz mono. */
export async function loadUtteranceAudio(u: CorpusUtterance): Promise<MonoAudio> {
  const a = await loadAudioFile(u.audioPath);
  return a.sampleRateHz === 16000 ? a : resample(a, 16000);
}
