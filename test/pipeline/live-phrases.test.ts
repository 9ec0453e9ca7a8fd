import { describe, expect, it } from 'vitest';
import type { MonoAudio } from '../../src/audio/pcm.ts';
import type { AsrEngine, AsrHooks, AsrResult } from '../../src/engines/asr/types.ts';
import { livePhrases } from '../../src/pipeline/live.ts';

/** A recognizer that, after 2.5 s of audio, announces the tentative phrase 1.0–2.0 s and then reports words 1.1–1.9 s. */
class ScriptedAsr implements AsrEngine {
  readonly id = 'scripted';
  async *transcribe(pcm: AsyncIterable<Int16Array>, _signal?: AbortSignal, hooks?: AsrHooks): AsyncIterable<AsrResult> {
    let samples = 0;
    let done = false;
    for await (const chunk of pcm) {
      samples += chunk.length;
      if (!done && samples >= 2.5 * 16000) {
        done = true;
        hooks?.onTentative?.({ startMs: 1000, endMs: 2000 });
        yield { text: 'HELLO', startMs: 1100, endMs: 1900, words: [{ word: 'HELLO', startMs: 1100, endMs: 1900, confidence: 1 }] };
      }
    }
  }
  async close() {}
}

async function* source(seconds: number): AsyncIterable<Int16Array> {
  // Sample i has value i % 16000, so every slice can be checked against its stream position.
  for (let at = 0; at < seconds * 16000; at += 512) yield Int16Array.from({ length: 512 }, (_, k) => (at + k) % 16000);
}

describe('livePhrases (the live sender front end)', () => {
  it('hands the tentative phrase\'s audio and stream time to prepare(), and each result its own audio', async () => {
    const prepared: Array<{ audio: MonoAudio; startMs: number }> = [];
    const live = livePhrases(source(3), new ScriptedAsr(), { realtime: false, prepare: (audio, startMs) => prepared.push({ audio, startMs }) });
    const phrases = [];
    for await (const p of live.phrases) phrases.push(p);
    expect(prepared).toHaveLength(1);
    expect(prepared[0]!.startMs).toBe(1000);
    expect(prepared[0]!.audio.samples.length).toBe(16000);
    expect(Math.round(prepared[0]!.audio.samples[0]! * 32768)).toBe(0); // sample 16000 → value 0
    expect(phrases).toHaveLength(1);
    expect(phrases[0]!.audio.samples.length).toBe(0.8 * 16000);
    expect(Math.round(phrases[0]!.audio.samples[0]! * 32768)).toBe(1600); // sample 17600
    expect(live.totalMs()).toBeGreaterThanOrEqual(3000);
  });
});
