import { createRequire } from 'node:module';
import { resample, type MonoAudio } from '../../audio/index.ts';
import { EngineUnavailableError } from '../../core/errors.ts';
import type { Baseline, BaselineResult } from './types.ts';

const OPUS_SET_VBR_REQUEST = 4006;
const FRAME_SAMPLES = 320; // 20 ms at 16 kHz

/**
 * Opus through opusscript (libopus compiled to wasm): 16 kHz mono, VOIP application, CBR at
 * `bitrateBps`, 20 ms frames. Bits = sum of packet sizes (no Ogg container).
 */
export function opusBaseline(bitrateBps = 6000): Baseline {
  return {
    name: `opus-${bitrateBps / 1000}k`,
    async run(audio: MonoAudio): Promise<BaselineResult> {
      let OpusScript: any;
      try {
        OpusScript = createRequire(import.meta.url)('opusscript');
      } catch (err) {
        throw new EngineUnavailableError('opus', 'opusscript is not installed', 'npm ci', { cause: err });
      }
      const a = audio.sampleRateHz === 16000 ? audio : resample(audio, 16000);
      const enc = new OpusScript(16000, 1, OpusScript.Application.VOIP);
      const dec = new OpusScript(16000, 1, OpusScript.Application.VOIP);
      try {
        enc.setBitrate(bitrateBps);
        enc.encoderCTL(OPUS_SET_VBR_REQUEST, 0);
        const frames = Math.ceil(a.samples.length / FRAME_SAMPLES);
        const packets: Buffer[] = [];
        const pcm = Buffer.alloc(FRAME_SAMPLES * 2);
        let t0 = performance.now();
        for (let f = 0; f < frames; f++) {
          pcm.fill(0);
          for (let i = 0; i < FRAME_SAMPLES; i++) {
            const s = a.samples[f * FRAME_SAMPLES + i] ?? 0;
            pcm.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(s * 32767))), i * 2);
          }
          packets.push(Buffer.from(enc.encode(pcm, FRAME_SAMPLES)));
        }
        const encodeMs = performance.now() - t0;
        t0 = performance.now();
        const out = new Float32Array(frames * FRAME_SAMPLES);
        packets.forEach((p, f) => {
          const d: Buffer = dec.decode(p);
          for (let i = 0; i < d.length / 2 && i < FRAME_SAMPLES; i++) out[f * FRAME_SAMPLES + i] = d.readInt16LE(i * 2) / 32768;
        });
        const decodeMs = performance.now() - t0;
        const bits = packets.reduce((n, p) => n + p.length * 8, 0);
        return { decoded: { samples: out.subarray(0, a.samples.length), sampleRateHz: 16000 }, bits, encodeMs, decodeMs };
      } finally {
        enc.delete?.();
        dec.delete?.();
      }
    },
  };
}
