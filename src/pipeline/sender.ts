import type { MonoAudio } from '../audio/pcm.ts';
import type { CodecMode, CodedSpeakerEmbedding } from '../codec/frame/index.ts';
import { SessionEncoder, type AccountedFrame, type PhraseCodec } from '../codec/session/index.ts';
import type { AsrResult } from '../engines/asr/types.ts';

/** Per-phrase analysis the sender adds to the recognized text (prosody, speaker). */
export interface PhraseAnalyzer<P> {
  /** Feeds the phrase's audio (16 kHz, stream time `startMs`) to the speaker analysis; called (and awaited) first for every phrase. */
  updateSpeaker(audio: MonoAudio, startMs?: number): void | Promise<void>;
  /**
   * Optional: analyse a tentative phrase's audio (stream time `startMs`) while the recognizer is
   * still decoding it; the phrase's own analysis then reuses that work (see AsrHooks.onTentative).
   */
  prepare?(audio: MonoAudio, startMs: number): void;
  /** The phrase's audio (16 kHz, phrase-relative) and words → its prosody for the wire. */
  analyzePhrase(audio: MonoAudio, result: AsrResult, mode: CodecMode): { prosody?: P; detail?: Uint8Array };
  /**
   * The profile to announce, once enough speech was heard (undefined before). Must stay the same
   * bytes until a speaker change is detected: every new hash is sent on the wire. The hash covers
   * the optional neural embedding too (src/codec/speaker speakerContentHash).
   */
  speakerProfile(): { bytes: Uint8Array; hash: number; embedding?: CodedSpeakerEmbedding } | undefined;
}

export interface SenderStats {
  phrases: number;
  bits: { text: number; prosody: number; speaker: number; control: number };
}

/**
 * Sender core, shared by file encoding and the live link: ASR results (with the audio they came
 * from) in, accounted frames out — header first, the speaker profile before the first phrase and
 * again only when it changes, then one TextSegment (and maybe a ProsodyPhrase) per phrase.
 */
export async function* senderFrames<P>(
  results: AsyncIterable<{ result: AsrResult; audio: MonoAudio }>,
  codec: PhraseCodec<P>,
  analyzer: PhraseAnalyzer<P> | undefined,
  options: { sessionId: number; mode: CodecMode; endMs?: () => number; knownProfileHashes?: { has(hash: number): boolean } },
  stats?: SenderStats,
): AsyncIterable<AccountedFrame> {
  const enc = new SessionEncoder(codec, { sessionId: options.sessionId, mode: options.mode, ...(options.knownProfileHashes ? { knownProfileHashes: options.knownProfileHashes } : {}) });
  yield enc.start();
  let lastEndMs = 0;
  for await (const { result, audio } of results) {
    if (result.text.trim() === '') continue;
    // Speaker first: announcing a profile re-anchors the prosody prediction the phrase is quantized against.
    await analyzer?.updateSpeaker(audio, result.startMs);
    const profile = analyzer?.speakerProfile();
    if (profile) {
      const f = enc.speaker(profile.bytes, profile.hash, result.startMs, profile.embedding);
      if (f) yield count(f, stats);
    }
    const analysis = analyzer?.analyzePhrase(audio, result, options.mode) ?? {};
    for (const f of enc.phrase({ startMs: result.startMs, text: result.text, prosody: analysis.prosody, prosodyDetail: analysis.detail })) {
      yield count(f, stats);
    }
    if (stats) stats.phrases++;
    lastEndMs = Math.max(lastEndMs, result.endMs);
  }
  yield enc.end(options.endMs?.() ?? lastEndMs);
}

function count(f: AccountedFrame, stats: SenderStats | undefined): AccountedFrame {
  if (stats) {
    for (const [k, v] of Object.entries(f.channelBits)) {
      const key = k === 'text' || k === 'prosody' || k === 'speaker' ? k : 'control';
      stats.bits[key] += v;
    }
  }
  return f;
}
