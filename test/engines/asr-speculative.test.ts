import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeWav, resample, toPcm16k } from '../../src/audio/index.ts';
import { PocketsphinxEngine, defaultPocketsphinxOptions } from '../../src/engines/asr/pocketsphinx.ts';
import type { AsrResult } from '../../src/engines/asr/types.ts';
import { describeWith, FESTIVAL, POCKETSPHINX_ADDON, POCKETSPHINX_MODEL } from '../fixtures/components.ts';


function speech(text: string): Int16Array {
  const dir = mkdtempSync(join(tmpdir(), 'stcts-spec-'));
  execFileSync('bash', ['-c', `printf '%s' "$1" > "$2/in.txt" && text2wave -o "$2/out.wav" "$2/in.txt"`, '_', text, dir]);
  const a = decodeWav(new Uint8Array(readFileSync(join(dir, 'out.wav'))));
  return toPcm16k(a.sampleRateHz === 16000 ? a : resample(a, 16000));
}

/** Runs the engine over `pcm` in 100 ms chunks; notes the audio position (ms) of every decode start. */
async function run(pcm: Int16Array, speculative: boolean): Promise<{ results: AsrResult[]; decodeStartsMs: number[] }> {
  const engine = new PocketsphinxEngine({ ...defaultPocketsphinxOptions(), vadId: 'energy', speculative });
  let positionMs = 0;
  const decodeStartsMs: number[] = [];
  const original = engine.decodePhrase.bind(engine);
  engine.decodePhrase = (p: Int16Array) => {
    decodeStartsMs.push(positionMs);
    return original(p);
  };
  async function* chunks() {
    for (let i = 0; i < pcm.length; i += 1600) {
      positionMs = Math.min(pcm.length, i + 1600) / 16;
      yield pcm.subarray(i, i + 1600);
    }
  }
  const results: AsrResult[] = [];
  try {
    for await (const r of engine.transcribe(chunks())) results.push(r);
  } finally {
    await engine.close();
  }
  return { results, decodeStartsMs };
}

describeWith('pocketsphinx speculative end-of-phrase decoding', [FESTIVAL, POCKETSPHINX_MODEL, POCKETSPHINX_ADDON], () => {
  it('gives the same results, with each decode started before the VAD confirms the phrase end', async () => {
    const a = speech('THE SHIP IS READY');
    const b = speech('WE SAIL AT NOON');
    const gap = new Int16Array(16000);
    const pcm = new Int16Array(a.length + gap.length + b.length + gap.length);
    pcm.set(a);
    pcm.set(b, a.length + gap.length);
    const plain = await run(pcm, false);
    const spec = await run(pcm, true);
    expect(spec.results.map((r) => r.text)).toEqual(plain.results.map((r) => r.text));
    expect(spec.results.map((r) => r.words)).toEqual(plain.results.map((r) => r.words));
    expect(plain.results.length).toBe(2);
    // Phrase ends are confirmed after minSilenceMs (350) of silence; the speculative decode starts
    // after tentativeSilenceMs (100): 250 ms earlier, less one 100 ms chunk of granularity.
    for (let k = 0; k < 2; k++) {
      expect(plain.decodeStartsMs[k]!).toBeGreaterThanOrEqual(plain.results[k]!.endMs + 250);
      expect(spec.decodeStartsMs[k]!).toBeLessThanOrEqual(plain.decodeStartsMs[k]! - 100);
    }
  }, 60_000);
});
