import type { MonoAudio } from '../../audio/pcm.ts';
import { toPcm16k } from '../../audio/resample.ts';
import { UsageError } from '../../core/errors.ts';
import type { AsrEngine, AsrResult } from './types.ts';

/** Engine id → descriptor; `load()` is the only place that imports the implementation. */
const ASR_ENGINES: Record<string, { description: string; load(options?: Record<string, unknown>): Promise<AsrEngine> }> = {
  pocketsphinx: {
    description: 'pocketsphinx en-us (Debian), N-API addon; Silero VAD phrases (energy VAD fallback)',
    async load(options = {}) {
      const { PocketsphinxEngine, defaultPocketsphinxOptions } = await import('./pocketsphinx.ts');
      // Merged once here; the caller's object is never mutated.
      return new PocketsphinxEngine(Object.freeze({ ...defaultPocketsphinxOptions(), ...options }));
    },
  },
  'whisper-tiny.en': whisperDescriptor('whisper-tiny.en', 'Whisper tiny.en (ONNX, onnxruntime-node; weights via stcts models fetch whisper-tiny.en)'),
  'whisper-base.en': whisperDescriptor('whisper-base.en', 'Whisper base.en (ONNX, onnxruntime-node; weights via stcts models fetch whisper-base.en)'),
};

/** Whisper options: `Partial<WhisperOptions>` (`modelDir` overrides the model cache folder). */
function whisperDescriptor(modelId: string, description: string): { description: string; load(options?: Record<string, unknown>): Promise<AsrEngine> } {
  return {
    description,
    async load(options = {}) {
      const { WhisperEngine } = await import('./whisper/engine.ts');
      return WhisperEngine.create({ ...options, modelId });
    },
  };
}

/** Short names (as in issue #9's `--asr whisper-base`) for the English-only exports. */
const ASR_ALIASES: Readonly<Record<string, string>> = Object.freeze({ 'whisper-tiny': 'whisper-tiny.en', 'whisper-base': 'whisper-base.en' });

/** Engine ids, then aliases (described as such). */
export function listAsrEngines(): Array<{ id: string; description: string }> {
  return [
    ...Object.entries(ASR_ENGINES).map(([id, d]) => ({ id, description: d.description })),
    ...Object.entries(ASR_ALIASES).map(([id, target]) => ({ id, description: `alias of ${target}` })),
  ];
}

/**
 * Creates an engine; the caller owns it and must close() it. `options` are the engine's own
 * (for pocketsphinx: `Partial<PocketsphinxOptions>`: hmm, lm, dict, nbest, vad, vadId; for whisper-*:
 * `Partial<WhisperOptions>`: modelDir, language, maxTokens, vad, vadId, threads).
 * Throws `EngineUnavailableError` when the addon or models are missing (for Whisper it names
 * `stcts models fetch <id>`).
 */
export async function createAsrEngine(id = 'pocketsphinx', options: Record<string, unknown> = {}): Promise<AsrEngine> {
  const d = ASR_ENGINES[ASR_ALIASES[id] ?? id];
  if (!d) throw new UsageError(`unknown ASR engine '${id}' (available: ${listAsrEngines().map((e) => e.id).join(', ')})`);
  return d.load(options);
}

/** Transcribes a whole recording. */
export async function transcribeAudio(engine: AsrEngine, audio: MonoAudio): Promise<AsrResult[]> {
  const pcm = toPcm16k(audio);
  async function* chunks() {
    for (let i = 0; i < pcm.length; i += 1600) yield pcm.subarray(i, i + 1600);
  }
  const out: AsrResult[] = [];
  for await (const r of engine.transcribe(chunks())) out.push(r);
  return out;
}
