import { closeSync, existsSync, fdatasyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { decodeWav, readWavFile, WavStreamWriter } from '../audio/index.ts';
import type { CodecMode } from '../codec/frame/index.ts';
import { decodeMessage, profileHash16, type MessageChannelId } from '../codec/message/index.ts';
import type { TextModel } from '../codec/text/index.ts';
import { createTtsEngine } from '../engines/tts/registry.ts';
import type { TtsEngine } from '../engines/tts/types.ts';
import { loadDefaultTextModel } from '../pipeline/codecs.ts';
import { speakMessage } from '../pipeline/message-decode.ts';
import { encodeMessageAudio, messageAsr } from '../pipeline/message-encode.ts';
import { ProfileStore } from '../transport/journal/index.ts';

/** A recording coded for a message link: what the queue needs. */
export interface EncodedVoiceMessage {
  parts: Uint8Array[];
  /** Wire id the parts carry; null for a single-part message. */
  messageId: number | null;
  speechSeconds: number;
  transcript: string;
}

/** Recording (WAV bytes or a file path) → parts carrying `messageId`. */
export type VoiceMessageEncoder = (wav: Uint8Array | string, messageId: number) => Promise<EncodedVoiceMessage>;

/** Joined message → a WAV at `wavPath` (written whole or not at all); returns what was said. */
export type VoiceMessageDecoder = (message: Uint8Array, wavPath: string) => Promise<{ transcript: string; durationMs: number }>;

/** The real encoder: pocketsphinx ASR + the message container (src/pipeline/message-encode.ts). */
export function pipelineEncoder(o: { channel: MessageChannelId; mode: CodecMode; textModel?: TextModel }): VoiceMessageEncoder {
  return async (wav, messageId) => {
    const audio = typeof wav === 'string' ? await readWavFile(wav) : decodeWav(wav);
    const model = o.textModel ?? (await loadDefaultTextModel());
    const asr = await messageAsr({});
    try {
      const r = await encodeMessageAudio(audio, asr, { channel: o.channel, mode: o.mode, messageId }, model);
      return { parts: r.parts.map((p) => p.bytes), messageId: r.messageId ?? null, speechSeconds: r.audioSeconds, transcript: r.transcript };
    } finally {
      await asr.close();
    }
  };
}

/**
 * The real decoder: the message's phrases spoken by the TTS engine (`auto`) with their prosody and
 * the speaker's timbre. Profiles received in full are kept in `profilesPath` (a ProfileStore), so a
 * later message naming the speaker by hash is voiced as that speaker. {@link close} frees the engine.
 */
export function pipelineDecoder(o: { textModel?: TextModel; profilesPath: string; tts?: string }): VoiceMessageDecoder & { close(): Promise<void> } {
  let tts: Promise<TtsEngine> | undefined;
  let profiles: ProfileStore | undefined;
  const decode = async (message: Uint8Array, wavPath: string) => {
    const model = o.textModel ?? (await loadDefaultTextModel());
    profiles ??= ProfileStore.open(o.profilesPath);
    const known = new Map(profiles.hashes().map((h) => [h, profiles!.get(h)!]));
    const decoded = decodeMessage(message, model, { knownProfiles: known });
    for (const it of decoded.items) if (it.type === 'profile' && !it.byHash) profiles.add(profileHash16(it.profile), it.profile);
    const engine = await (tts ??= createTtsEngine(o.tts ?? 'auto'));
    const tmp = `${wavPath}.tmp`;
    const sink = await WavStreamWriter.create(tmp, 16000);
    const spoken = await speakMessage(decoded, engine, sink, { outputRateHz: 16000, useProsody: true, useSpeaker: true });
    renameSync(tmp, wavPath);
    const transcript = decoded.items.flatMap((i) => (i.type === 'phrase' ? [i.text] : [])).join(' ');
    return { transcript, durationMs: spoken.durationMs };
  };
  return Object.assign(decode, {
    async close() {
      profiles?.close();
      if (tts) await (await tts.catch(() => undefined))?.close();
    },
  });
}

/** A received message as written: `<dir>/in/<messageId>.wav` and one line of `<dir>/in.jsonl`. */
export interface ReceivedVoiceMessage {
  /** Local stable name (see MessageInbox's CompleteMessage.key). */
  messageId: string;
  peer: string;
  transcript: string;
  wavPath: string;
  durationMs: number;
  /** When it was written, ms since the epoch. */
  t: number;
}

/** `<stateDir>/messages`: the received messages' audio and their transcript log. */
export class ReceivedMessagesDir {
  readonly inDir: string;
  readonly logPath: string;

  constructor(readonly path: string) {
    this.inDir = join(path, 'in');
    this.logPath = join(path, 'in.jsonl');
    mkdirSync(this.inDir, { recursive: true });
  }

  wavPath(messageId: string): string {
    return join(this.inDir, `${messageId}.wav`);
  }

  /** True when the transcript log already has a line for `messageId` (a delivery cut short by a crash). */
  logged(messageId: string): boolean {
    if (!existsSync(this.logPath)) return false;
    const needle = `"messageId":${JSON.stringify(messageId)}`;
    return readFileSync(this.logPath, 'utf8').split('\n').some((l) => l.includes(needle));
  }

  /** Appends one JSON line and fdatasyncs it. */
  append(line: { messageId: string; peer: string; transcript: string; t: number }): void {
    const fd = openSync(this.logPath, 'a');
    try {
      writeSync(fd, JSON.stringify(line) + '\n');
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}
