import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { decodeWav, resample } from '../../src/audio/index.ts';
import type { MonoAudio } from '../../src/audio/pcm.ts';
import type { AsrEngine } from '../../src/engines/asr/types.ts';
import type { AsrResult } from '../../src/engines/asr/types.ts';
import { transcribeAudio } from '../../src/engines/asr/registry.ts';
import { wordErrorRate } from '../../src/eval/wer.ts';

export const HAVE_TEXT2WAVE = existsSync('/usr/bin/text2wave');

/** Speech fixture made at test time with Festival (no recordings in the repo, no ../shared). */
export function festivalSpeech(text: string): MonoAudio {
  const dir = mkdtempSync(join(tmpdir(), 'stcts-asr-'));
  const txt = join(dir, 'in.txt');
  const wav = join(dir, 'out.wav');
  execFileSync('bash', ['-c', `printf '%s' "$1" > "$2" && text2wave -o "$3" "$2"`, '_', text, txt, wav]);
  const a = decodeWav(new Uint8Array(readFileSync(wav)));
  return a.sampleRateHz === 16000 ? a : resample(a, 16000);
}

/** `audio`, 1 s of silence, `audio` again: two phrases. */
function twice(audio: MonoAudio): MonoAudio {
  const silence = new Float32Array(16000);
  const both = new Float32Array(audio.samples.length * 2 + silence.length);
  both.set(audio.samples);
  both.set(audio.samples, audio.samples.length + silence.length);
  return { samples: both, sampleRateHz: 16000 };
}

function chunksOf(audio: MonoAudio, onChunk?: (i: number) => void): AsyncIterable<Int16Array> {
  const pcm = Int16Array.from(audio.samples, (v) => Math.max(-32768, Math.min(32767, Math.round(v * 32767))));
  return (async function* () {
    for (let i = 0, n = 0; i < pcm.length; i += 1600, n++) {
      onChunk?.(n);
      yield pcm.subarray(i, i + 1600);
    }
  })();
}

async function collect(results: AsyncIterable<AsrResult>): Promise<AsrResult[]> {
  const out: AsrResult[] = [];
  for await (const r of results) out.push(r);
  return out;
}

/**
 * What every ASR engine must do, whatever it recognizes: results in order with increasing word
 * times inside the audio, nothing for empty or silent input, abort, idempotent close, use after
 * close throws. `speech` gives a short utterance (16 kHz) the engine finds speech in.
 */
export function asrStructuralConformance(make: () => Promise<AsrEngine>, speech: () => MonoAudio): void {
  it('structure: results in order, word times increasing and inside the audio, confidences in [0, 1]', async () => {
    const engine = await make();
    try {
      const one = speech();
      const both = twice(one);
      const results = await transcribeAudio(engine, both);
      expect(results.length).toBeGreaterThanOrEqual(2);
      const durationMs = (both.samples.length / 16000) * 1000;
      let last = -1;
      for (const r of results) {
        expect(r.words.length).toBeGreaterThan(0);
        expect(r.text).toBe(r.words.map((w) => w.word).join(' '));
        expect(r.startMs).toBeGreaterThanOrEqual(last);
        expect(r.endMs).toBeGreaterThan(r.startMs);
        for (const w of r.words) {
          expect(w.startMs).toBeGreaterThanOrEqual(last);
          expect(w.endMs).toBeGreaterThan(w.startMs);
          expect(w.startMs).toBeGreaterThanOrEqual(0);
          expect(w.endMs).toBeLessThanOrEqual(durationMs + 50);
          expect(w.confidence).toBeGreaterThanOrEqual(0);
          expect(w.confidence).toBeLessThanOrEqual(1);
          last = w.endMs;
        }
      }
      // The second copy starts after the pause.
      expect(results.at(-1)!.startMs).toBeGreaterThan((one.samples.length / 16000) * 1000);
    } finally {
      await engine.close();
    }
  });

  it('structure: no results for empty or silent input', async () => {
    const engine = await make();
    try {
      expect(await collect(engine.transcribe((async function* () {})()))).toEqual([]);
      expect(await transcribeAudio(engine, { samples: new Float32Array(32000), sampleRateHz: 16000 })).toEqual([]);
    } finally {
      await engine.close();
    }
  });

  it('structure: an abort stops the stream with an error', async () => {
    const engine = await make();
    try {
      const ac = new AbortController();
      await expect(collect(engine.transcribe(chunksOf(twice(speech()), (n) => n === 3 && ac.abort()), ac.signal))).rejects.toThrow();
      const pre = new AbortController();
      pre.abort();
      await expect(collect(engine.transcribe(chunksOf(speech()), pre.signal))).rejects.toThrow();
    } finally {
      await engine.close();
    }
  });

  it('structure: close is idempotent and use after close throws', async () => {
    const engine = await make();
    await engine.close();
    await engine.close();
    await expect(transcribeAudio(engine, speech())).rejects.toThrow();
  });
}

/** Recognition quality on Festival speech (engines that really recognize). */
export function asrAccuracyConformance(make: () => Promise<AsrEngine>): void {
  it('recognizes most words of clear speech, with increasing word times inside the audio', async () => {
    const engine = await make();
    try {
      const text = 'THE WEATHER IS FINE TODAY AND THE SHIP IS READY';
      const audio = festivalSpeech(text);
      const silence = new Float32Array(16000);
      const both = new Float32Array(audio.samples.length * 2 + silence.length);
      both.set(audio.samples);
      both.set(audio.samples, audio.samples.length + silence.length);
      const results = await transcribeAudio(engine, { samples: both, sampleRateHz: 16000 });
      const hyp = results.map((r) => r.text).join(' ');
      expect(wordErrorRate(`${text} ${text}`, hyp).wer).toBeLessThan(0.5);
      // The second copy starts after the pause: two phrases.
      expect(results.length).toBeGreaterThanOrEqual(2);
      const durationMs = (both.length / 16000) * 1000;
      for (const r of results) {
        let last = -1;
        for (const w of r.words) {
          expect(w.startMs).toBeGreaterThanOrEqual(last);
          expect(w.endMs).toBeGreaterThan(w.startMs);
          expect(w.endMs).toBeLessThanOrEqual(durationMs + 50);
          expect(w.confidence).toBeGreaterThanOrEqual(0);
          expect(w.confidence).toBeLessThanOrEqual(1);
          last = w.endMs;
        }
      }
      expect(results[1]!.startMs).toBeGreaterThan((audio.samples.length / 16000) * 1000);
    } finally {
      await engine.close();
    }
  });

  it('yields nothing for silence and throws after close', async () => {
    const engine = await make();
    const r = await transcribeAudio(engine, { samples: new Float32Array(32000), sampleRateHz: 16000 });
    expect(r).toEqual([]);
    await engine.close();
    await engine.close();
    await expect(transcribeAudio(engine, festivalSpeech('HELLO'))).rejects.toThrow();
  });
}
