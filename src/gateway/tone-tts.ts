import type { TtsEngine, TtsRequest, TtsResult } from '../engines/tts/types.ts';
import { InvalidStateError } from '../core/errors.ts';

/** Length of each word's tone, ms. */
const WORD_MS = 240;
const GAP_MS = 60;

/**
 * A plumbing-test voice (`tts: tone`): one short tone per word, deterministic, ~free in CPU. For
 * load and failover tests of the gateway where the point is the delivery, not the voice.
 */
export class ToneTts implements TtsEngine {
  readonly id = 'tone';
  readonly voices = [{ id: 'tone', sex: 'F' as const, medianF0Hz: 200 }];
  private closed = false;

  async synthesize(request: TtsRequest): Promise<TtsResult> {
    if (this.closed) throw new InvalidStateError('ToneTts used after close()');
    const rate = 16000;
    const words = request.text.split(/\s+/).filter(Boolean);
    const per = ((WORD_MS + GAP_MS) * rate) / 1000;
    const samples = new Float32Array(Math.max(1, words.length) * per);
    const out: TtsResult['words'] = [];
    words.forEach((word, w) => {
      const f = 180 + 20 * (word.length % 8);
      const n = (WORD_MS * rate) / 1000;
      for (let i = 0; i < n; i++) samples[w * per + i] = 0.2 * Math.sin((2 * Math.PI * f * i) / rate);
      out.push({ word, startMs: w * (WORD_MS + GAP_MS), endMs: w * (WORD_MS + GAP_MS) + WORD_MS });
    });
    return { samples, sampleRateHz: rate, words: out };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
