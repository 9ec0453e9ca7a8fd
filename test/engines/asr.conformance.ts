import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { decodeWav, resample } from '../../src/audio/index.ts';
import type { MonoAudio } from '../../src/audio/pcm.ts';
import type { AsrEngine } from '../../src/engines/asr/types.ts';
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

/** What every ASR engine must do. */
export function asrConformance(make: () => Promise<AsrEngine>): void {
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
