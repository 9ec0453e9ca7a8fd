import { resolve } from 'node:path';
import { UsageError } from '../core/errors.ts';
import { listAsrEngines } from '../engines/asr/registry.ts';
import { listSpeakerEncoders } from '../engines/speaker/neural/index.ts';
import { listTtsEngines } from '../engines/tts/registry.ts';
import { stringFlag, type ParsedArgs } from './args.ts';

/** Usage lines shared by the commands that pick engines (issue #9). */
export const ENGINE_FLAGS_USAGE = `  --asr ID        ASR engine (default pocketsphinx; neural ones need 'stcts models fetch ID')
  --tts ID        TTS engine (default auto: HTS when installed, else flite)
  --speaker-encoder ID  neural speaker encoder for the speaker channel (default none; 'stcts models list')
  --model-dir DIR neural model cache (default $STCTS_MODEL_DIR, else ~/.cache/stcts/models)`;

/** `--asr ID`, checked against the ASR registry (so new engines need no CLI change). */
export function asrEngineFlag(p: ParsedArgs, name = 'asr'): string | undefined {
  const v = stringFlag(p, name);
  if (v === undefined) return undefined;
  const ids = listAsrEngines().map((e) => e.id);
  if (!ids.includes(v)) throw new UsageError(`--${name}: unknown ASR engine '${v}' (available: ${ids.join(', ')})`);
  return v;
}

/** `--tts ID` ('auto' or any id of the TTS registry). */
export function ttsEngineFlag(p: ParsedArgs, name = 'tts'): string | undefined {
  const v = stringFlag(p, name);
  if (v === undefined) return undefined;
  const ids = ['auto', ...listTtsEngines().map((e) => e.id)];
  if (!ids.includes(v)) throw new UsageError(`--${name}: unknown TTS engine '${v}' (available: ${ids.join(', ')})`);
  return v;
}

/**
 * `--speaker-encoder ID`: a speaker-encoder model of the manifest (issue #9), or 'none' (the
 * default: DSP profile only). Whether its weights are installed is checked when it loads.
 */
export function speakerEncoderFlag(p: ParsedArgs, name = 'speaker-encoder'): string | undefined {
  const v = stringFlag(p, name);
  if (v === undefined || v === 'none') return undefined;
  const ids = listSpeakerEncoders().map((e) => e.id);
  if (!ids.includes(v)) throw new UsageError(`--${name}: unknown speaker encoder '${v}' (available: none, ${ids.join(', ')})`);
  return v;
}

/**
 * `--model-dir DIR`: the neural model cache for this run. Exported as STCTS_MODEL_DIR too, so every
 * engine that resolves its files through `resolveModel()` sees it, whatever options it takes.
 */
export function modelDirFlag(p: ParsedArgs): string | undefined {
  const v = stringFlag(p, 'model-dir');
  if (v === undefined) return undefined;
  const dir = resolve(v);
  process.env.STCTS_MODEL_DIR = dir;
  return dir;
}
