import { randomInt } from 'node:crypto';
import { readWavFile, resample, sliceMs, toPcm16k, type MonoAudio } from '../audio/index.ts';
import type { CodecMode } from '../codec/frame/index.ts';
import { encodePart, messageProsodyCoder, MessageWriter, partBytesFor, partToSms, splitMessage, MAX_MESSAGE_ID, uniqueProfileRef, type MessageChannelId, type SmsAlphabet } from '../codec/message/index.ts';
import { decodeSpeakerProfile } from '../codec/speaker/index.ts';
import type { TextModel } from '../codec/text/index.ts';
import type { AsrEngine } from '../engines/asr/types.ts';
import { createAsrEngine } from '../engines/asr/registry.ts';
import { speakerDistance } from '../engines/speaker/index.ts';
import { SenderAnalysis } from './analysis.ts';
import { loadDefaultTextModel } from './codecs.ts';

/** Options of {@link encodeMessageAudio}. */
export interface MessageEncodeOptions {
  channel: MessageChannelId;
  mode: CodecMode;
  /** SMS text alphabet (only for `sms`). Default base77. */
  smsAlphabet: SmsAlphabet;
  /** 0..127; default random. */
  messageId?: number;
  /**
   * Profiles the receiver holds (`--known-profiles`): when the speaker's profile is within
   * {@link KNOWN_PROFILE_MAX_DISTANCE} of one of them, that one is used and only its 12-bit reference is sent.
   */
  knownProfiles: readonly Uint8Array[];
  /**
   * Speaker profile layout: `compact` (12 bytes, issue #17, the default: what sessions send too) or
   * `full` (32 bytes, version 1).
   */
  profileLayout: 'compact' | 'full';
  /** ASR engine id (default pocketsphinx) and its options. */
  asr?: string;
  asrOptions?: Record<string, unknown>;
}

export const DEFAULT_MESSAGE_ENCODE_OPTIONS: Readonly<MessageEncodeOptions> = Object.freeze({
  channel: 'sms',
  mode: 'balanced',
  smsAlphabet: 'base77',
  knownProfiles: [],
  profileLayout: 'compact',
});

/** One part as it goes on the channel. */
export interface EncodedMessagePart {
  /** 1-based. */
  number: number;
  count: number;
  /** The part's bytes (part header included). */
  bytes: Uint8Array;
  /** For `sms`: the part as text (one SMS). */
  text?: string;
  /** Seconds of the recording whose phrases end in this part (they add up to the recording). */
  speechSeconds: number;
  /** Phrases whose coded data ends in this part. */
  phrases: number;
}

export interface MessageEncodeResult {
  channel: MessageChannelId;
  /** Id carried by the parts of a multi-part message; undefined when the message is one part. */
  messageId: number | undefined;
  /** The whole message (header + coded items), before splitting. */
  message: Uint8Array;
  parts: EncodedMessagePart[];
  /** Bytes on the channel: all parts with their headers (for `sms`, the bytes the text carries). */
  wireBytes: number;
  /** For `sms`: characters of all parts. */
  chars?: number;
  transcript: string;
  phrases: number;
  /** Length of the recording, seconds. */
  audioSeconds: number;
  /** The profile the message names (in full or by reference), if any. */
  profile?: Uint8Array;
  profileByHash: boolean;
  /** Information content per channel (text, prosody, speaker, time, control), bits. */
  infoBits: Record<string, number>;
}

/** Streams 16 kHz PCM to the recognizer in 100 ms chunks, reporting progress. */
async function* chunks(pcm: Int16Array, onProgress?: (f: number) => void): AsyncIterable<Int16Array> {
  for (let i = 0; i < pcm.length; i += 1600) {
    onProgress?.(i / pcm.length);
    yield pcm.subarray(i, i + 1600);
  }
  onProgress?.(1);
}

/**
 * Largest speakerDistance at which a known profile stands for this message's speaker: 1, the
 * distance's own boundary between "same speaker, another session" and "another speaker" (the
 * per-phrase change detector uses 2 because one phrase is a noisy estimate; a message's profile
 * is accumulated like a session's).
 */
export const KNOWN_PROFILE_MAX_DISTANCE = 1;

/** The known profile closest to `bytes`, if within {@link KNOWN_PROFILE_MAX_DISTANCE}. */
function closestKnown(bytes: Uint8Array, known: readonly Uint8Array[]): Uint8Array | undefined {
  const p = decodeSpeakerProfile(bytes);
  let best: Uint8Array | undefined;
  let bestD = KNOWN_PROFILE_MAX_DISTANCE;
  for (const k of known) {
    const d = speakerDistance(p, decodeSpeakerProfile(k));
    if (d <= bestD) [best, bestD] = [k, d];
  }
  return best;
}

/**
 * Recording → voice message (issue #16): the session sender's steps (ASR phrases, speaker profile,
 * phrase prosody quantized against the shared prosody coder) written by MessageWriter, split into
 * the channel's parts.
 */
export async function encodeMessageAudio(audio: MonoAudio, asr: AsrEngine, options: Partial<MessageEncodeOptions>, model: TextModel, progress?: { update(f: number, label?: string): void }): Promise<MessageEncodeResult> {
  const o: MessageEncodeOptions = { ...DEFAULT_MESSAGE_ENCODE_OPTIONS, ...options };
  const a16 = audio.sampleRateHz === 16000 ? audio : resample(audio, 16000);
  const coder = messageProsodyCoder(o.mode);
  const analyzer = new SenderAnalysis(coder, undefined, { profileLayout: o.profileLayout });
  const writer = new MessageWriter(model, o.mode, coder);
  const texts: string[] = [];
  const ends: Array<{ offset: number; endMs: number }> = [];
  let announced: number | undefined;
  let profile: Uint8Array | undefined;
  let profileByHash = false;
  for await (const result of asr.transcribe(chunks(toPcm16k(a16), (f) => progress?.update(f, 'recognizing')))) {
    if (result.text.trim() === '') continue;
    const phraseAudio = sliceMs(a16, result.startMs, result.endMs);
    // Speaker first: announcing a profile re-anchors the prosody prediction the phrase is quantized against.
    await analyzer.updateSpeaker(phraseAudio, result.startMs);
    const spk = analyzer.speakerProfile();
    if (spk && spk.hash !== announced) {
      announced = spk.hash;
      // By reference only when no other profile the receiver holds shares the 12-bit reference.
      const known = closestKnown(spk.bytes, o.knownProfiles);
      profile = known ?? spk.bytes;
      profileByHash = writer.speaker(profile, known !== undefined && uniqueProfileRef(known, o.knownProfiles));
    }
    const { prosody, detail } = analyzer.analyzePhrase(phraseAudio, result, o.mode);
    writer.phrase({ startMs: result.startMs, text: result.text, ...(prosody ? { prosody } : {}), ...(detail ? { detail } : {}) });
    texts.push(result.text);
    ends.push({ offset: writer.approxBytes, endMs: result.endMs });
  }
  const infoBits = writer.infoBits;
  const message = writer.finish();
  const audioSeconds = a16.samples.length / 16000;
  const messageId = o.messageId ?? randomInt(0, MAX_MESSAGE_ID + 1);
  const parts = splitMessage(message, partBytesFor(o.channel, o.smsAlphabet), messageId);
  let offset = 0;
  let lastEndMs = 0;
  const encoded = parts.map((p, i): EncodedMessagePart => {
    const partEnd = offset + p.payload.length;
    offset = partEnd;
    const mine = ends.filter((e) => e.offset > partEnd - p.payload.length && (e.offset <= partEnd || i === parts.length - 1));
    const endMs = i === parts.length - 1 ? audioSeconds * 1000 : Math.max(lastEndMs, ...mine.map((e) => e.endMs));
    const speechSeconds = (endMs - lastEndMs) / 1000;
    lastEndMs = endMs;
    const bytes = encodePart(p);
    return { number: p.index + 1, count: p.count, bytes, ...(o.channel === 'sms' ? { text: partToSms(bytes, o.smsAlphabet) } : {}), speechSeconds, phrases: mine.length };
  });
  return {
    channel: o.channel,
    messageId: parts.length > 1 ? messageId : undefined,
    message,
    parts: encoded,
    wireBytes: encoded.reduce((s, p) => s + p.bytes.length, 0),
    ...(o.channel === 'sms' ? { chars: encoded.reduce((s, p) => s + p.text!.length, 0) } : {}),
    transcript: texts.join(' '),
    phrases: texts.length,
    audioSeconds,
    ...(profile ? { profile } : {}),
    profileByHash,
    infoBits,
  };
}

/** The recognizer for message encoding (the caller closes it). */
export function messageAsr(options: Partial<MessageEncodeOptions>): Promise<AsrEngine> {
  return createAsrEngine(options.asr ?? 'pocketsphinx', { ...options.asrOptions });
}

/** `stcts message encode`: a WAV file → the message's parts (not written: the CLI writes them). */
export async function encodeWavToMessage(input: string, options: Partial<MessageEncodeOptions>, progress?: { update(f: number, label?: string): void }): Promise<MessageEncodeResult> {
  const audio = await readWavFile(input);
  const model = await loadDefaultTextModel();
  const asr = await messageAsr(options);
  try {
    return await encodeMessageAudio(audio, asr, options, model, progress);
  } finally {
    await asr.close();
  }
}


