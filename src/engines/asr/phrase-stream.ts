import type { Pcm16k } from '../../audio/pcm.ts';
import type { SpeechSegment, Vad } from '../../audio/vad.ts';

/** Audio of one phrase cut from the stream, and where it starts (stream time, ms). */
export interface PhrasePcm {
  pcm: Int16Array;
  offsetMs: number;
}

/** Options of {@link recognizePhrases}. */
export interface RecognizePhrasesOptions {
  /**
   * Start decoding a phrase the VAD offers as tentative ({@link Vad.takeTentative}) while it still
   * waits for the end-of-phrase silence; if the phrase is then confirmed unchanged, its result is
   * already (nearly) there. A stale guess only costs CPU.
   */
  speculative: boolean;
  /** Called once a speculative decode of `seg` is under way (after the decoder got the audio). */
  onTentative?: (seg: SpeechSegment) => void;
  signal?: AbortSignal;
}

/** Audio kept before the end of the last phrase, ms (padding for the next one). */
const KEEP_MS = 400;

/**
 * The phrase loop the VAD-based recognizers share: 16 kHz chunks in → VAD → each phrase's audio
 * (sliced from a bounded buffer: only audio since the oldest phrase that may still be open is kept)
 * → `decode` → results in phrase order, as soon as each phrase ends.
 */
export async function* recognizePhrases<R>(
  pcm: AsyncIterable<Pcm16k>,
  vad: Vad,
  decode: (phrase: PhrasePcm) => Promise<R | undefined>,
  o: RecognizePhrasesOptions,
): AsyncIterable<R> {
  let buffer = new Int16Array(0);
  let bufferStartSample = 0;
  const decodeSegment = (seg: SpeechSegment): Promise<R | undefined> => {
    const a = Math.max(0, Math.round(seg.startMs * 16) - bufferStartSample);
    const b = Math.min(buffer.length, Math.round(seg.endMs * 16) - bufferStartSample);
    return decode({ pcm: buffer.slice(a, Math.max(a, b)), offsetMs: (bufferStartSample + a) / 16 });
  };
  let guess: { seg: SpeechSegment; result: Promise<R | undefined> } | undefined;
  const finalResult = (seg: SpeechSegment): Promise<R | undefined> => {
    const g = guess;
    guess = undefined;
    if (g && g.seg.startMs === seg.startMs && g.seg.endMs === seg.endMs) return g.result;
    return decodeSegment(seg);
  };
  for await (const chunk of pcm) {
    o.signal?.throwIfAborted();
    const merged = new Int16Array(buffer.length + chunk.length);
    merged.set(buffer);
    merged.set(chunk, buffer.length);
    buffer = merged;
    const ended = await vad.push(chunk);
    const tentative = vad.takeTentative?.();
    if (tentative && o.speculative) {
      const result = decodeSegment(tentative);
      result.catch(() => {}); // awaited (or dropped as stale) later
      guess = { seg: tentative, result };
      // After the decoder has the audio (its call is queued in a microtask): the hook's work then
      // overlaps the decoding instead of delaying it. Not once the phrase was confirmed or went stale.
      const hook = o.onTentative;
      const g = guess;
      if (hook) setImmediate(() => guess === g && hook(tentative));
    }
    for (const seg of ended) {
      const r = await finalResult(seg);
      if (r !== undefined) yield r;
      const keepFrom = Math.max(0, Math.round(seg.endMs * 16) - 16 * KEEP_MS - bufferStartSample);
      buffer = buffer.slice(keepFrom);
      bufferStartSample += keepFrom;
    }
  }
  o.signal?.throwIfAborted();
  for (const seg of await vad.flush()) {
    const r = await finalResult(seg);
    if (r !== undefined) yield r;
  }
}
