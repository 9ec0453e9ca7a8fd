import { resample, WavStreamWriter, type MonoAudio } from '../audio/index.ts';
import { decodeMessage, MessageIncompleteError, reassembleMessage, type DecodedMessage, type MessageItem } from '../codec/message/index.ts';
import type { TextModel } from '../codec/text/index.ts';
import { createTtsEngine } from '../engines/tts/registry.ts';
import type { TtsEngine } from '../engines/tts/types.ts';
import { describeProfile, describeProsody, loadDefaultTextModel } from './codecs.ts';
import { knownProfileMap, profileHex, type ReceivedPart } from './message-parts.ts';
import { phraseRenderer, timbrePostProcess } from './render.ts';
import { PhraseTimeline, type AudioSink } from './timeline.ts';

export interface MessageDecodeOptions {
  /** Profiles the receiver holds (`--known-profiles`). */
  knownProfiles: readonly Uint8Array[];
  /** With parts missing: decode the phrases before the first gap instead of failing. */
  partial: boolean;
}

/** A message joined from its parts and decoded (not yet spoken). */
export interface ReadMessage {
  /** Id of a multi-part message; undefined for a single-part one. */
  messageId: number | undefined;
  partCount: number;
  /** 1-based numbers of parts that were not given (only with `partial`). */
  missingParts: number[];
  duplicates: number;
  decoded: DecodedMessage;
  /** Byte offset in the message where each given part starts (index order; prefix only when parts are missing). */
  partOffsets: number[];
  messageBytes: number;
  warnings: string[];
}

/**
 * Parts (any order, duplicates allowed) → the decoded message. Missing parts are a
 * {@link MessageIncompleteError} naming them, unless `partial`: then the phrases before the
 * first gap are decoded and the gap is a warning.
 */
export function readMessage(received: readonly ReceivedPart[], model: TextModel, options: Partial<MessageDecodeOptions> = {}): ReadMessage {
  const known = knownProfileMap(options.knownProfiles ?? []);
  const parts = received.map((r) => r.part);
  try {
    const r = reassembleMessage(parts);
    const decoded = decodeMessage(r.message, model, { knownProfiles: known });
    return { messageId: r.messageId, partCount: r.count, missingParts: [], duplicates: r.duplicates, decoded, partOffsets: r.partOffsets, messageBytes: r.message.length, warnings: [...decoded.warnings] };
  } catch (err) {
    if (!(err instanceof MessageIncompleteError) || !options.partial) throw err;
    const warnings = [`${err.message}`];
    const partOffsets: number[] = [];
    let at = 0;
    const byIndex = new Map(parts.filter((p) => p.messageId === err.messageId).map((p) => [p.index, p.payload.length]));
    for (let i = 0; byIndex.has(i); i++) {
      partOffsets.push(at);
      at += byIndex.get(i)!;
    }
    if (err.prefix.length === 0) throw err; // the first part is missing: nothing to decode
    const decoded = decodeMessage(err.prefix, model, { knownProfiles: known, prefixOnly: true });
    const duplicates = parts.length - new Set(parts.map((p) => p.index)).size;
    return { messageId: err.messageId, partCount: err.partCount, missingParts: err.missingParts, duplicates, decoded, partOffsets, messageBytes: err.prefix.length, warnings: [...warnings, ...decoded.warnings] };
  }
}

type Phrase = Extract<MessageItem, { type: 'phrase' }>;

/** The phrases of a decoded message, each with the profile current at that point. */
export function phrasesWithProfiles(items: readonly MessageItem[]): Array<{ phrase: Phrase; profile: Uint8Array | undefined }> {
  let profile: Uint8Array | undefined;
  const out: Array<{ phrase: Phrase; profile: Uint8Array | undefined }> = [];
  for (const it of items) {
    if (it.type === 'profile') profile = it.profile;
    else out.push({ phrase: it, profile });
  }
  return out;
}

export interface SpeakOptions {
  outputRateHz: number;
  useProsody: boolean;
  useSpeaker: boolean;
  onPhrase?: (text: string, startMs: number) => void;
}

/**
 * Speaks a decoded message with the session receiver's rendering (src/pipeline/render.ts): each
 * phrase at its transmitted start with its prosody and the current speaker's timbre.
 */
export async function speakMessage(decoded: DecodedMessage, tts: TtsEngine, sink: AudioSink, options: SpeakOptions): Promise<{ phrases: number; durationMs: number }> {
  const render = phraseRenderer(tts, { useProsody: options.useProsody, useSpeaker: options.useSpeaker });
  const post = timbrePostProcess({ useProsody: options.useProsody, useSpeaker: options.useSpeaker });
  const timeline = new PhraseTimeline(sink, options.outputRateHz);
  let n = 0;
  try {
    for (const { phrase, profile } of phrasesWithProfiles(decoded.items)) {
      const request = render({ type: 'phrase', seq: n, startMs: phrase.startMs, text: phrase.text, prosody: phrase.prosody, speakerId: profile ? 1 : undefined, bitsByChannel: {} }, profile, phrase.detail);
      const result = await tts.synthesize(request);
      let audio: MonoAudio = result.sampleRateHz === 16000 ? result : resample(result, 16000);
      audio = post(audio, profile);
      if (options.outputRateHz !== 16000) audio = resample(audio, options.outputRateHz);
      await timeline.add(phrase.startMs, audio);
      options.onPhrase?.(phrase.text, phrase.startMs);
      n++;
    }
  } finally {
    await timeline.close();
  }
  return { phrases: n, durationMs: timeline.positionMs };
}

/** `stcts message decode`: parts → WAV. Nothing is written when the parts do not decode. */
export async function decodePartsToWav(received: readonly ReceivedPart[], output: string, options: Partial<MessageDecodeOptions> & Partial<SpeakOptions> & { tts?: string; model?: TextModel }): Promise<ReadMessage & { phrases: number; durationMs: number }> {
  const model = options.model ?? (await loadDefaultTextModel());
  const read = readMessage(received, model, options);
  const tts = await createTtsEngine(options.tts ?? 'auto');
  try {
    const sink = await WavStreamWriter.create(output, options.outputRateHz ?? 16000);
    const spoken = await speakMessage(read.decoded, tts, sink, { outputRateHz: options.outputRateHz ?? 16000, useProsody: options.useProsody ?? true, useSpeaker: options.useSpeaker ?? true, ...(options.onPhrase ? { onPhrase: options.onPhrase } : {}) });
    return { ...read, ...spoken };
  } finally {
    await tts.close();
  }
}

/** `stcts message inspect --json`: the stable fields are transcript, parts, bytes, speechSeconds. */
export interface MessageInspection {
  /** Id of a multi-part message; null for a single-part one (it carries none). */
  messageId: number | null;
  transcript: string;
  /** Per given part (in part order): size and the speech whose phrases end in it. */
  parts: Array<{ number: number; count: number; bytes: number; chars?: number; source: string; phrases: number; speechSeconds: number }>;
  /** Bytes on the channel: every distinct part with its header. */
  bytes: number;
  /** For SMS text: characters of every distinct part. */
  chars?: number;
  /** Message bytes (header + coded items, part headers not counted). */
  messageBytes: number;
  /** End of the last phrase as the transmitted prosody times it, seconds. */
  speechSeconds: number;
  mode: string;
  complete: boolean;
  missingParts: number[];
  duplicates: number;
  phrases: Array<{ startMs: number; durationMs: number; text: string; prosody: unknown }>;
  /** `ref`: the 12-bit reference (3 hex digits) of a profile named by reference. */
  profiles: Array<{ byHash: boolean; ref?: string; known: boolean; hex?: string; profile?: unknown }>;
  warnings: string[];
}

export function inspectMessage(received: readonly ReceivedPart[], read: ReadMessage): MessageInspection {
  const items = read.decoded.items;
  const phrases = items.flatMap((i) => (i.type === 'phrase' ? [i] : []));
  const ends = read.decoded.phraseEndOffsets;
  const endOfPhrase = (i: number) => (phrases[i]!.startMs + phrases[i]!.durationMs) / 1000;
  const distinct = new Map<number, ReceivedPart>();
  for (const r of received) if (r.part.messageId === read.messageId && !distinct.has(r.part.index)) distinct.set(r.part.index, r);
  let lastEnd = 0;
  const parts = [...distinct.values()].sort((a, b) => a.part.index - b.part.index).map((r) => {
    const start = read.partOffsets[r.part.index];
    const stop = read.partOffsets[r.part.index + 1] ?? Infinity;
    const mine = start === undefined ? [] : ends.flatMap((e, i) => (e > start && e <= stop ? [i] : []));
    const end = mine.length ? endOfPhrase(mine[mine.length - 1]!) : lastEnd;
    const speechSeconds = Math.max(0, end - lastEnd);
    lastEnd = Math.max(lastEnd, end);
    return { number: r.part.index + 1, count: r.part.count, bytes: r.bytes, ...(r.chars !== undefined ? { chars: r.chars } : {}), source: r.source, phrases: mine.length, speechSeconds: round(speechSeconds) };
  });
  const charParts = [...distinct.values()].filter((r) => r.chars !== undefined);
  return {
    messageId: read.messageId ?? null,
    transcript: phrases.map((p) => p.text).join(' '),
    parts,
    bytes: [...distinct.values()].reduce((s, r) => s + r.bytes, 0),
    ...(charParts.length ? { chars: charParts.reduce((s, r) => s + r.chars!, 0) } : {}),
    messageBytes: read.messageBytes,
    speechSeconds: round(phrases.length ? Math.max(...phrases.map((_, i) => endOfPhrase(i))) : 0),
    mode: read.decoded.header.mode,
    complete: read.decoded.complete,
    missingParts: read.missingParts,
    duplicates: read.duplicates,
    phrases: phrases.map((p) => ({ startMs: p.startMs, durationMs: Math.round(p.durationMs), text: p.text, prosody: describeProsody(p.prosody) })),
    profiles: items.flatMap((i) => (i.type === 'profile'
      ? [{ byHash: i.byHash, ...(i.byHash ? { ref: i.ref.toString(16).padStart(3, '0') } : {}), known: i.profile !== undefined, ...(i.profile ? { hex: profileHex(i.profile), profile: describeProfile(i.profile) } : {}) }]
      : [])),
    warnings: read.warnings,
  };
}

function round(x: number): number {
  return Number(x.toFixed(2));
}

/** Human-readable form of {@link inspectMessage}. */
export function formatMessageInspection(r: MessageInspection): string {
  const lines = [`message ${r.messageId ?? '(single part)'}: ${r.parts.length} of ${r.parts[0]?.count ?? 0} part(s), ${r.bytes} bytes${r.chars !== undefined ? ` (${r.chars} characters)` : ''}, ${r.speechSeconds.toFixed(2)} s of speech, mode ${r.mode}${r.complete ? '' : ' — INCOMPLETE'}`];
  for (const p of r.parts) lines.push(`  part ${p.number}/${p.count}: ${p.bytes} bytes${p.chars !== undefined ? `, ${p.chars} chars` : ''}, ${p.phrases} phrase(s), ${p.speechSeconds.toFixed(2)} s  [${p.source}]`);
  for (const s of r.profiles) lines.push(`  speaker profile ${s.byHash ? `by reference ${s.ref}${s.known ? '' : ' (not held here)'}` : 'in full (32 bytes)'}`);
  for (const p of r.phrases) lines.push(`  ${(p.startMs / 1000).toFixed(1).padStart(6)} s  ${p.text}`);
  lines.push(`transcript: ${r.transcript}`);
  return lines.join('\n') + '\n';
}

