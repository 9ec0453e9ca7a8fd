import { writeFile } from 'node:fs/promises';
import { randomInt } from 'node:crypto';
import { readWavFile, resample, sliceMs, toPcm16k, type MonoAudio } from '../audio/index.ts';
import { FrameStreamWriter, type CodecMode } from '../codec/frame/index.ts';
import { concatBytes } from '../core/bytes.ts';
import type { AsrEngine, AsrResult } from '../engines/asr/types.ts';
import { createAsrEngine } from '../engines/asr/registry.ts';
import type { SpeakerEncoder } from '../engines/speaker/neural/types.ts';
import { senderPipeline } from './codecs.ts';
import { senderFrames, type SenderStats } from './sender.ts';

export interface EncodeOptions {
  mode: CodecMode;
  coding: 'lm' | 'utf8';
  sessionId?: number;
  /** ASR engine id of the registry (default 'pocketsphinx'). */
  asr?: string;
  /** Options for that engine (e.g. `modelDir` for the neural ones). */
  asrOptions?: Record<string, unknown>;
  /**
   * Neural speaker encoder model id (issue #9, e.g. `wespeaker-resnet34`); default none (DSP profile
   * only). Its weights come from the model cache (`modelDir`); missing → EngineUnavailableError.
   */
  speakerEncoder?: string;
  /** Neural model cache folder (default $STCTS_MODEL_DIR, else ~/.cache/stcts/models). */
  modelDir?: string;
}

export interface EncodeResult {
  bytes: number;
  audioSeconds: number;
  bitsPerSecond: number;
  phrases: number;
  /** Wire bits by stream; overhead = framing, header, End, rounding. */
  bits: { text: number; prosody: number; speaker: number; overhead: number };
  transcript: string;
  asr: AsrResult[];
  stream: Uint8Array;
}

/** Streams 16 kHz PCM to the recognizer in 100 ms chunks, reporting progress. */
async function* chunks(pcm: Int16Array, onProgress?: (f: number) => void): AsyncIterable<Int16Array> {
  const step = 1600;
  for (let i = 0; i < pcm.length; i += step) {
    onProgress?.(i / pcm.length);
    yield pcm.subarray(i, i + step);
  }
  onProgress?.(1);
}

/**
 * Sender over a whole recording: ASR → phrases (+ prosody, speaker) → frames → bytes. The same
 * frames a live link would carry; the returned stream is a valid .stc file.
 */
export async function encodeAudio(audio: MonoAudio, asr: AsrEngine, options: EncodeOptions, progress?: { update(f: number, label?: string): void }, speakerEncoder?: SpeakerEncoder): Promise<EncodeResult> {
  const a16 = audio.sampleRateHz === 16000 ? audio : resample(audio, 16000);
  const pcm = toPcm16k(a16);
  const { codec, analyzer } = await senderPipeline(options.coding, options.mode, undefined, speakerEncoder ? { speakerEncoder } : {});
  const asrResults: AsrResult[] = [];
  async function* phrases() {
    for await (const result of asr.transcribe(chunks(pcm, (f) => progress?.update(f, 'recognizing')))) {
      asrResults.push(result);
      yield { result, audio: sliceMs(a16, result.startMs, result.endMs) };
    }
  }
  const stats: SenderStats = { phrases: 0, bits: { text: 0, prosody: 0, speaker: 0, control: 0 } };
  const writer = new FrameStreamWriter();
  const parts: Uint8Array[] = [];
  const durationMs = (a16.samples.length / 16000) * 1000;
  for await (const f of senderFrames(phrases(), codec, analyzer, { sessionId: options.sessionId ?? randomInt(1, 2 ** 31), mode: options.mode, endMs: () => durationMs }, stats)) {
    parts.push(writer.write(f.frame));
  }
  const stream = concatBytes(parts);
  const totalBits = stream.length * 8;
  const seconds = durationMs / 1000;
  return {
    bytes: stream.length,
    audioSeconds: seconds,
    bitsPerSecond: totalBits / seconds,
    phrases: stats.phrases,
    bits: { text: stats.bits.text, prosody: stats.bits.prosody, speaker: stats.bits.speaker, overhead: totalBits - stats.bits.text - stats.bits.prosody - stats.bits.speaker },
    transcript: asrResults.map((r) => r.text).join(' '),
    asr: asrResults,
    stream,
  };
}

/** `stcts encode`: WAV file in, .stc file out. */
export async function encodeWavFile(input: string, output: string, options: EncodeOptions, progress?: { update(f: number, label?: string): void }): Promise<EncodeResult> {
  const audio = await readWavFile(input);
  // The speaker encoder first: missing weights fail before the (slower) recognizer loads.
  const speakerEncoder = options.speakerEncoder ? await loadSpeakerEncoder(options.speakerEncoder, options.modelDir) : undefined;
  try {
    const asr = await createAsrEngine(options.asr ?? 'pocketsphinx', { ...(options.modelDir ? { modelDir: options.modelDir } : {}), ...options.asrOptions });
    try {
      const result = await encodeAudio(audio, asr, options, progress, speakerEncoder);
      await writeFile(output, result.stream);
      return result;
    } finally {
      await asr.close();
    }
  } finally {
    await speakerEncoder?.close();
  }
}

/**
 * Loads a neural speaker encoder by model id (the caller closes it). Weights not installed →
 * EngineUnavailableError whose remedy is `stcts models fetch ID`.
 */
export async function loadSpeakerEncoder(id: string, modelDir?: string): Promise<SpeakerEncoder> {
  const { createSpeakerEncoder } = await import('../engines/speaker/neural/index.ts');
  return createSpeakerEncoder(id, modelDir ? { modelDir } : {});
}

