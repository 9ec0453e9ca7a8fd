/**
 * Neural speaker encoders (issue #9): Kaldi fbank front end + an ONNX network from the model
 * manifest (e.g. WeSpeaker ResNet34), bring-your-own weights.
 */
import { UsageError } from '../../../core/errors.ts';
import { findModel, loadManifest, resolveModel, type ModelManifest } from '../../models/index.ts';
import type { NeuralSpeakerEncoderOptions } from './encoder.ts';
import type { SpeakerEncoder } from './types.ts';

export type { SpeakerEncoder } from './types.ts';
export { kaldiFbank, kaldiFrameCount, kaldiMelBanks, kaldiWindow, poveyWindow, DEFAULT_KALDI_FBANK_OPTIONS, FBANK_LOG_FLOOR, type KaldiFbankOptions, type FbankFeatures, type FbankWindowType } from './fbank.ts';

/** Options of {@link createSpeakerEncoder}. */
export interface SpeakerEncoderOptions extends Partial<NeuralSpeakerEncoderOptions> {
  /** Model cache folder (CLI `--model-dir`); default the `stcts models` cache. */
  modelDir?: string;
  /** Manifest to resolve ids from (default models/manifest.json; tests pass their own). */
  manifest?: ModelManifest;
}

/** Speaker encoders the manifest offers (entries with engine `speaker-encoder`). */
export function listSpeakerEncoders(manifest: ModelManifest = loadManifest()): Array<{ id: string; description: string }> {
  return manifest.models.filter((m) => m.engine === 'speaker-encoder').map((m) => ({ id: m.id, description: m.description }));
}

/**
 * Loads the speaker encoder `id` from the model cache. The caller owns it and must close() it.
 * Unknown id → UsageError listing the ids; weights not installed → EngineUnavailableError whose
 * remedy is `stcts models fetch ID`; a model with other tensors → ModelError `shape_mismatch`.
 */
export async function createSpeakerEncoder(id: string, options: SpeakerEncoderOptions = {}): Promise<SpeakerEncoder> {
  const { modelDir, manifest, ...encoderOptions } = options;
  const mf = manifest ?? loadManifest();
  const entry = findModel(id, mf);
  if (entry.engine !== 'speaker-encoder') {
    const known = listSpeakerEncoders(mf).map((e) => e.id).join(', ') || 'none';
    throw new UsageError(`model ${id} is a ${entry.engine} model, not a speaker encoder (speaker encoders: ${known})`);
  }
  const m = resolveModel(id, { cacheDir: modelDir, manifest: mf });
  const file = m.entry.files.find((f) => f.name.endsWith('.onnx'));
  if (!file) throw new UsageError(`model ${id} lists no .onnx file`);
  const { NeuralSpeakerEncoder } = await import('./encoder.ts');
  return NeuralSpeakerEncoder.create(m.entry, m.files[file.name]!, encoderOptions);
}
