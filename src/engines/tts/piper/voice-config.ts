import { readFileSync } from 'node:fs';
import { ModelError } from '../../../core/errors.ts';
import type { PhonemizedWord } from './phonemize.ts';

/** What the engine needs from a Piper voice's `.onnx.json`. */
export interface PiperVoiceConfig {
  /** Output sample rate, Hz (`audio.sample_rate`). */
  sampleRateHz: number;
  /** `inference.noise_scale` (default 0.667). */
  noiseScale: number;
  /** `inference.length_scale`: > 1 is slower (default 1). */
  lengthScale: number;
  /** `inference.noise_w` (default 0.8). */
  noiseW: number;
  /** Phoneme (one code point) → ids. Must hold `_` (pad), `^` (start) and `$` (end). */
  phonemeIdMap: ReadonlyMap<string, readonly number[]>;
  /** Number of speakers (> 1: the model takes a `sid` input). */
  numSpeakers: number;
  /** espeak voice the map was made for (informational, e.g. "en-us"). */
  espeakVoice: string;
}

const num = (v: unknown, fallback: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);

/** Parses a Piper voice config (JSON text). Throws ModelError `bad_model` naming what is wrong. */
export function parsePiperVoiceConfig(json: string, source = 'voice config'): PiperVoiceConfig {
  let raw: Record<string, any>;
  try {
    raw = JSON.parse(json) as Record<string, any>;
  } catch (err) {
    throw new ModelError('bad_model', `${source} is not valid JSON: ${(err as Error).message}`, { path: source });
  }
  const sampleRateHz = raw?.audio?.sample_rate;
  if (!Number.isInteger(sampleRateHz) || sampleRateHz < 8000 || sampleRateHz > 96000) {
    throw new ModelError('bad_model', `${source}: audio.sample_rate must be an integer in 8000..96000`, { path: source });
  }
  const mapRaw = raw.phoneme_id_map;
  if (typeof mapRaw !== 'object' || mapRaw === null) throw new ModelError('bad_model', `${source}: phoneme_id_map is missing`, { path: source });
  const map = new Map<string, number[]>();
  for (const [k, v] of Object.entries(mapRaw)) {
    const ids = Array.isArray(v) ? v : [v];
    if (!ids.every((x) => Number.isInteger(x) && x >= 0)) throw new ModelError('bad_model', `${source}: phoneme_id_map['${k}'] must be non-negative integer ids`, { path: source });
    map.set(k, ids as number[]);
  }
  for (const s of ['_', '^', '$']) if (!map.has(s)) throw new ModelError('bad_model', `${source}: phoneme_id_map has no '${s}'`, { path: source });
  const inf = raw.inference ?? {};
  return {
    sampleRateHz,
    noiseScale: num(inf.noise_scale, 0.667),
    lengthScale: num(inf.length_scale, 1),
    noiseW: num(inf.noise_w, 0.8),
    phonemeIdMap: map,
    numSpeakers: Math.max(1, num(raw.num_speakers, 1)),
    espeakVoice: typeof raw?.espeak?.voice === 'string' ? raw.espeak.voice : 'en-us',
  };
}

/** Reads and parses a `.onnx.json` voice config. */
export function loadPiperVoiceConfig(path: string): PiperVoiceConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ModelError('bad_model', `cannot read voice config ${path}: ${(err as Error).message}`, { path });
  }
  return parsePiperVoiceConfig(text, path);
}

/** Phoneme ids for the model plus the span of ids that belongs to each word. */
export interface PhonemeIds {
  ids: number[];
  /** Per input word: [first id, end id) in `ids`; an empty span (start = end) for silent words. */
  wordSpans: Array<[number, number]>;
  /** Code points not in the map (skipped, as Piper does). */
  missing: string[];
}

/**
 * Piper's id layout: `^ _ p₁ _ p₂ _ … pₙ _ $` with words joined by a space phoneme (`' '`) and
 * the pad `_` after every phoneme. Code points the map lacks are skipped and reported.
 */
export function phonemesToIds(words: readonly PhonemizedWord[], map: ReadonlyMap<string, readonly number[]>): PhonemeIds {
  const pad = map.get('_')!;
  const ids: number[] = [...map.get('^')!, ...pad];
  const wordSpans: Array<[number, number]> = [];
  const missing = new Set<string>();
  const push = (cp: string): boolean => {
    const got = map.get(cp);
    if (!got) {
      missing.add(cp);
      return false;
    }
    ids.push(...got, ...pad);
    return true;
  };
  let any = false;
  for (const w of words) {
    const cps = [...w.phonemes];
    if (cps.length > 0 && any) push(' ');
    const start = ids.length;
    for (const cp of cps) push(cp);
    wordSpans.push([start, ids.length]);
    if (ids.length > start) any = true;
  }
  ids.push(...map.get('$')!);
  return { ids, wordSpans, missing: [...missing] };
}
