import { spawn } from 'node:child_process';
import { resample, type MonoAudio } from '../../audio/index.ts';
import { EngineUnavailableError, EngineError } from '../../core/errors.ts';
import type { Baseline, BaselineResult } from './types.ts';

/** Bits per 40 ms (700C) or 40 ms (1200) frame, from the mode's bit rate. */
const MODE_BPS: Record<string, number> = { '700C': 700, '1200': 1200, '1300': 1300, '1600': 1600, '2400': 2400, '3200': 3200 };

function pipe(cmd: string, args: string[], input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => err.push(d));
    p.on('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'ENOENT' ? new EngineUnavailableError('codec2', `${cmd} not found`, 'apt-get install codec2') : e),
    );
    p.on('close', (code) =>
      code === 0 ? resolve(Buffer.concat(out)) : reject(new EngineError('codec2_failed', `${cmd} exited ${code}: ${Buffer.concat(err).toString().slice(0, 200)}`)),
    );
    p.stdin.end(input);
  });
}

/**
 * Codec2 through Debian's `c2enc`/`c2dec` (8 kHz raw s16 via stdin/stdout). Input is resampled
 * 16 k → 8 k with the project's band-limited resampler, output back to 16 k.
 */
export function codec2Baseline(mode: '700C' | '1200' | '1300' | '1600' | '2400' | '3200'): Baseline {
  return {
    name: `codec2-${mode}`,
    async run(audio: MonoAudio): Promise<BaselineResult> {
      const a8 = resample(audio, 8000);
      const raw = Buffer.alloc(a8.samples.length * 2);
      a8.samples.forEach((s, i) => raw.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(s * 32767))), i * 2));
      let t0 = performance.now();
      const bitsFile = await pipe('c2enc', [mode, '-', '-'], raw);
      const encodeMs = performance.now() - t0;
      t0 = performance.now();
      const pcm = await pipe('c2dec', [mode, '-', '-'], bitsFile);
      const decodeMs = performance.now() - t0;
      const out = new Float32Array(pcm.length / 2);
      for (let i = 0; i < out.length; i++) out[i] = pcm.readInt16LE(i * 2) / 32768;
      const decoded = resample({ samples: out, sampleRateHz: 8000 }, 16000);
      // c2enc stores each frame byte-aligned (700C: 28 bits in 4 bytes = 800 bit/s in the file); a
      // radio link packs the bits, so the nominal mode rate is what we charge.
      const fileBits = bitsFile.length * 8;
      const nominal = Math.round((MODE_BPS[mode]! * a8.samples.length) / 8000);
      if (fileBits > nominal * 1.5 + 64) throw new EngineError('codec2_failed', `c2enc wrote ${fileBits} bits, expected about ${nominal}`);
      return { decoded, bits: nominal, encodeMs, decodeMs };
    },
  };
}
