import { existsSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { InvalidStateError } from '../core/errors.ts';
import { WavStreamWriter } from '../audio/index.ts';
import type { AudioSink } from './timeline.ts';

/**
 * The output of a resumed `stcts receive --state-dir` (issue #16 item 5): keeps the 16-bit mono WAV
 * a killed run was writing and continues it. The resumed timeline starts at 0 again and writes
 * silence where the phrases rendered before the restart were; the first `existing` samples it
 * writes are therefore dropped (they are in the file already), so later phrases keep their place.
 * A missing or foreign file starts a new WAV.
 */
export async function appendingWavSink(path: string, sampleRateHz: number): Promise<AudioSink> {
  if (!existsSync(path)) return WavStreamWriter.create(path, sampleRateHz);
  const handle = await open(path, 'r+');
  const head = new Uint8Array(44);
  await handle.read(head, 0, 44, 0);
  const dv = new DataView(head.buffer);
  const text = (o: number) => String.fromCharCode(...head.subarray(o, o + 4));
  const ok = text(0) === 'RIFF' && text(8) === 'WAVE' && text(36) === 'data' && dv.getUint16(22, true) === 1 && dv.getUint16(34, true) === 16 && dv.getUint32(24, true) === sampleRateHz;
  if (!ok) {
    await handle.close();
    return WavStreamWriter.create(path, sampleRateHz);
  }
  const size = (await handle.stat()).size;
  const dataBytes = Math.max(0, size - 44) & ~1;
  return new WavAppender(handle, dataBytes);
}

class WavAppender implements AudioSink {
  private skip: number;
  private closed = false;
  constructor(private readonly handle: FileHandle, private dataBytes: number) {
    this.skip = dataBytes / 2;
  }

  async write(samples: Float32Array): Promise<void> {
    if (this.closed) throw new InvalidStateError('WAV sink used after close()');
    const drop = Math.min(this.skip, samples.length);
    this.skip -= drop;
    const rest = samples.subarray(drop);
    if (rest.length === 0) return;
    const b = Buffer.alloc(rest.length * 2);
    for (let i = 0; i < rest.length; i++) b.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(rest[i]! * 32768))), i * 2);
    await this.handle.write(b, 0, b.length, 44 + this.dataBytes);
    this.dataBytes += b.length;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const sizes = Buffer.alloc(4);
    sizes.writeUInt32LE(36 + this.dataBytes);
    await this.handle.write(sizes, 0, 4, 4);
    sizes.writeUInt32LE(this.dataBytes);
    await this.handle.write(sizes, 0, 4, 40);
    await this.handle.close();
  }
}
