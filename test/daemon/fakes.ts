import type { AsrEngine, AsrResult } from '../../src/engines/asr/types.ts';
import type { TtsEngine, TtsRequest, TtsResult } from '../../src/engines/tts/types.ts';

/** Tone bursts as "speech": `count` bursts of `burstMs`, separated by `gapMs` of silence, 16 kHz. */
export function toneBursts(count: number, burstMs = 400, gapMs = 500): Int16Array {
  const b = Math.round(burstMs * 16);
  const g = Math.round(gapMs * 16);
  const out = new Int16Array(count * (b + g));
  for (let k = 0; k < count; k++) for (let i = 0; i < b; i++) out[k * (b + g) + i] = Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / 16000));
  return out;
}

/**
 * A recognizer for plumbing tests: a phrase is a run of loud audio ended by 200 ms of silence;
 * the n-th phrase of a stream is "PHRASE n" (n counts from 1 per transcribe() call).
 */
export class FakeAsr implements AsrEngine {
  readonly id = 'fake';
  async *transcribe(pcm: AsyncIterable<Int16Array>): AsyncIterable<AsrResult> {
    let pos = 0;
    let start = -1;
    let lastLoud = -1;
    let n = 0;
    for await (const chunk of pcm) {
      for (let i = 0; i < chunk.length; i += 160) {
        let e = 0;
        const end = Math.min(chunk.length, i + 160);
        for (let j = i; j < end; j++) e += chunk[j]! * chunk[j]!;
        const loud = e / Math.max(1, end - i) > 1e5;
        const t = pos + i;
        if (loud) {
          if (start < 0) start = t;
          lastLoud = t;
        } else if (start >= 0 && t - lastLoud > 3200) {
          n++;
          const r = { text: `PHRASE ${n}`, startMs: start / 16, endMs: lastLoud / 16 + 10, words: [{ word: 'PHRASE', startMs: start / 16, endMs: lastLoud / 16, confidence: 1 }] };
          start = -1;
          yield r;
        }
      }
      pos += chunk.length;
    }
  }
  async close(): Promise<void> {}
}

/** A synthesizer for plumbing tests: 200 ms of a quiet tone per phrase. */
export class FakeTts implements TtsEngine {
  readonly id = 'fake';
  readonly voices = [];
  synthesized: string[] = [];
  async synthesize(request: TtsRequest): Promise<TtsResult> {
    this.synthesized.push(request.text);
    const samples = new Float32Array(3200);
    for (let i = 0; i < samples.length; i++) samples[i] = 0.1 * Math.sin((2 * Math.PI * 300 * i) / 16000);
    return { samples, sampleRateHz: 16000, words: [{ word: request.text, startMs: 0, endMs: 200 }] };
  }
  async close(): Promise<void> {}
}
