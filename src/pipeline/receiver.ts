import type { MonoAudio } from '../audio/pcm.ts';
import type { Frame } from '../codec/frame/index.ts';
import { SessionDecoder, type PhraseCodecFactory, type SessionEvent } from '../codec/session/index.ts';
import { DecodeError } from '../core/errors.ts';
import type { TtsEngine, TtsRequest } from '../engines/tts/types.ts';
import { PhraseTimeline, type AudioSink, type PlacedPhrase } from './timeline.ts';

/** Turns one decoded phrase (text + prosody + current speaker profile) into a TTS request. */
export type PhraseRenderer<P> = (phrase: Extract<SessionEvent<P>, { type: 'phrase' }>, speakerProfile: Uint8Array | undefined, detail: Uint8Array | undefined) => TtsRequest;

export interface ReceiverDeps<P> {
  codecFor: PhraseCodecFactory<P>;
  tts: TtsEngine;
  render: PhraseRenderer<P>;
  /** Resampler to the output rate (src/audio). */
  resample: (audio: MonoAudio, rateHz: number) => MonoAudio;
  hashProfile: (bytes: Uint8Array) => number;
  /** Profiles by content hash, kept across sessions. */
  profileCache?: Map<number, Uint8Array>;
  /** Applied to each phrase's audio at 16 kHz before it is placed (speaker envelope). */
  postProcess?: (audio16k: MonoAudio, speakerProfile: Uint8Array | undefined) => MonoAudio;
  /**
   * Phrases not to render (their output exists already: a receiver resumed from its state dir,
   * src/transport/journal/inbox.ts). They are still decoded: later phrases' text coding depends on them.
   */
  skip?: (seq: number) => boolean;
  /** Called as each phrase is written (live progress). */
  onPhrase?: (phrase: ReceivedPhrase) => void;
}

export interface ReceivedPhrase {
  seq: number;
  text: string;
  placed: PlacedPhrase;
  /** Realized word times in the output, ms. */
  words: Array<{ word: string; startMs: number; endMs: number }>;
  synthMs: number;
}

export interface ReceiverReport {
  phrases: ReceivedPhrase[];
  warnings: string[];
  /** Span of the output audio, ms. */
  durationMs: number;
}

/**
 * Receiver pipeline: frames in (a .stc stream or the link), speech out. Each phrase is synthesized
 * and written as soon as its TextSegment is decoded, so audio starts before later phrases are known.
 * Word-level ProsodyPhrase frames (sent before their TextSegment) are used when present; the
 * phrase-level prosody inside the TextSegment is always enough to render.
 */
export async function receiveFrames<P>(
  frames: AsyncIterable<Frame | DecodeError>,
  sink: AudioSink,
  outputRateHz: number,
  deps: ReceiverDeps<P>,
  onWarning: (message: string) => void = () => {},
  signal?: AbortSignal,
): Promise<ReceiverReport> {
  const decoder = new SessionDecoder(deps.codecFor, deps.profileCache ?? new Map(), deps.hashProfile);
  const timeline = new PhraseTimeline(sink, outputRateHz);
  const report: ReceiverReport = { phrases: [], warnings: [], durationMs: 0 };
  const warn = (m: string) => {
    report.warnings.push(m);
    onWarning(m);
  };
  const profiles = new Map<number, Uint8Array>();
  // ProsodyPhrase detail arrives before its TextSegment; a few are kept in case text is late.
  const details = new Map<number, Uint8Array>();
  const MAX_PENDING_DETAILS = 32;
  let endMs: number | undefined;

  const render = async (event: Extract<SessionEvent<P>, { type: 'phrase' }>) => {
    const detail = details.get(event.seq);
    details.delete(event.seq);
    if (deps.skip?.(event.seq)) return;
    const profile = event.speakerId !== undefined ? profiles.get(event.speakerId) : undefined;
    const t0 = performance.now();
    const request = deps.render(event, profile, detail);
    const result = await deps.tts.synthesize(request, signal);
    let audio: MonoAudio = result.sampleRateHz === 16000 ? result : deps.resample(result, 16000);
    if (deps.postProcess) audio = deps.postProcess(audio, profile);
    if (outputRateHz !== 16000) audio = deps.resample(audio, outputRateHz);
    const synthMs = performance.now() - t0;
    const placed = await timeline.add(event.startMs, audio);
    const shift = placed.startMs;
    const received = {
      seq: event.seq,
      text: event.text,
      placed,
      words: result.words.map((w) => ({ word: w.word, startMs: w.startMs + shift, endMs: w.endMs + shift })),
      synthMs,
    };
    report.phrases.push(received);
    deps.onPhrase?.(received);
  };

  try {
    for await (const item of frames) {
      signal?.throwIfAborted();
      if (item instanceof DecodeError) {
        warn(`corrupt frame skipped: ${item.code}: ${item.message}`);
        continue;
      }
      const events = decoder.accept(item);
      for (const e of events) {
        if (e.type === 'prosodyDetail') {
          details.set(e.textSeq, e.coded);
          if (details.size > MAX_PENDING_DETAILS) details.delete(details.keys().next().value as number);
        } else if (e.type === 'warning') warn(`frame ${e.seq}: ${e.error.code}: ${e.error.message}`);
        else if (e.type === 'speaker') profiles.set(e.id, e.profile);
        else if (e.type === 'phrase') await render(e);
        else if (e.type === 'end') endMs = e.endMs;
      }
    }
  } finally {
    await timeline.close(endMs);
  }
  report.durationMs = timeline.positionMs;
  return report;
}
