import { resample, WavStreamWriter } from '../audio/index.ts';
import type { Frame } from '../codec/frame/index.ts';
import { DecodeError } from '../core/errors.ts';
import { createTtsEngine } from '../engines/tts/registry.ts';
import { phraseCodecFactory, profileHashOf } from './codecs.ts';
import { receiveFrames, type ReceivedPhrase, type ReceiverReport } from './receiver.ts';
import { phraseRenderer, timbrePostProcess } from './render.ts';
import { readStcFile } from './stc-file.ts';

export interface DecodeFileOptions {
  /** TTS engine id of the registry, or 'auto'. */
  tts: string;
  outputRateHz: number;
  useProsody: boolean;
  useSpeaker: boolean;
  /** Neural model cache folder for neural voices (CLI `--model-dir`). */
  modelDir?: string;
  onWarning?: (message: string) => void;
  onPhrase?: (phrase: ReceivedPhrase) => void;
}

/**
 * `stcts decode`: a .stc file to a WAV file, written progressively. A file of which not one frame
 * decodes is refused with that frame's DecodeError before any output is created (it is not a .stc
 * stream, or not one this version reads); single corrupt frames are skipped with a warning.
 */
export async function decodeStcFile(input: string, output: string, options: DecodeFileOptions): Promise<ReceiverReport> {
  const { items } = await readStcFile(input);
  const first = items[0];
  if (first && !first.ok && items.every((it) => !it.ok)) {
    throw new DecodeError(first.error.code, `${input}: no frame could be decoded (${first.error.message}); is it a .stc stream?`);
  }
  const tts = await createTtsEngine(options.tts, options.modelDir ? { modelDir: options.modelDir } : {});
  const sink = await WavStreamWriter.create(output, options.outputRateHz);
  try {
    async function* frames(): AsyncIterable<Frame | DecodeError> {
      for (const it of items) yield it.ok ? it.frame : it.error;
    }
    const report = await receiveFrames(frames(), sink, options.outputRateHz, {
      codecFor: await phraseCodecFactory(),
      tts,
      render: phraseRenderer(tts, { useProsody: options.useProsody, useSpeaker: options.useSpeaker }),
      postProcess: timbrePostProcess({ useProsody: options.useProsody, useSpeaker: options.useSpeaker }),
      resample,
      hashProfile: profileHashOf,
      onPhrase: options.onPhrase,
    }, options.onWarning);
    return report;
  } finally {
    await sink.close();
    await tts.close();
  }
}
