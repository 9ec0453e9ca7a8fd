import { open, readFile, writeFile, type FileHandle } from 'node:fs/promises';
import { AudioError, InvalidStateError } from '../core/errors.ts';
import type { MonoAudio } from './pcm.ts';

/** Largest WAV the reader accepts, bytes (about 3 h of 16 kHz 16-bit mono). */
export const MAX_WAV_BYTES = 512 * 1024 * 1024;

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;

function ascii(b: Uint8Array, o: number, n: number): string {
  return String.fromCharCode(...b.subarray(o, o + n));
}

/**
 * Decodes a RIFF/WAVE file: integer PCM 8/16/24/32-bit, IEEE float 32/64, WAVE_FORMAT_EXTENSIBLE;
 * any channel count (averaged to mono). Unknown chunks are skipped; sizes are never trusted beyond
 * the buffer. Errors are {@link AudioError} with codes not_wav, truncated, empty, unsupported_format, too_large.
 */
export function decodeWav(bytes: Uint8Array): MonoAudio {
  if (bytes.length > MAX_WAV_BYTES) throw new AudioError('too_large', `WAV of ${bytes.length} bytes exceeds ${MAX_WAV_BYTES}`);
  if (bytes.length < 12) {
    throw new AudioError(bytes.length === 0 ? 'empty' : 'truncated', bytes.length === 0 ? 'the file is empty' : 'the file is too short to be a WAV');
  }
  if (ascii(bytes, 0, 4) !== 'RIFF' || ascii(bytes, 8, 4) !== 'WAVE') {
    throw new AudioError('not_wav', 'not a WAV file (no RIFF/WAVE header); convert it first, e.g. `sox in.mp3 out.wav`');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let fmt: { format: number; channels: number; rate: number; bits: number; blockAlign: number } | undefined;
  let data: Uint8Array | undefined;
  let pos = 12;
  while (pos + 8 <= bytes.length) {
    const id = ascii(bytes, pos, 4);
    const size = view.getUint32(pos + 4, true);
    const start = pos + 8;
    const end = Math.min(bytes.length, start + size);
    if (id === 'fmt ') {
      if (end - start < 16) throw new AudioError('truncated', 'WAV fmt chunk is too short');
      let format = view.getUint16(start, true);
      if (format === FORMAT_EXTENSIBLE && end - start >= 26) format = view.getUint16(start + 24, true);
      fmt = {
        format,
        channels: view.getUint16(start + 2, true),
        rate: view.getUint32(start + 4, true),
        blockAlign: view.getUint16(start + 12, true),
        bits: view.getUint16(start + 14, true),
      };
    } else if (id === 'data') {
      // Streaming writers leave 0 or 0xFFFFFFFF here: take what is in the file.
      data = bytes.subarray(start, size === 0 || size === 0xffffffff ? bytes.length : end);
      if (fmt) break;
    }
    pos = start + size + (size & 1);
  }
  if (!fmt) throw new AudioError('truncated', 'WAV has no fmt chunk');
  if (!data) throw new AudioError('truncated', 'WAV has no data chunk');
  const { format, channels, rate, bits } = fmt;
  const bytesPerSample = bits / 8;
  const okFormat = (format === FORMAT_PCM && [8, 16, 24, 32].includes(bits)) || (format === FORMAT_FLOAT && (bits === 32 || bits === 64));
  if (!okFormat || channels < 1 || channels > 64 || rate < 1000 || rate > 768_000) {
    throw new AudioError('unsupported_format', `unsupported WAV: format ${format}, ${bits} bits, ${channels} channels, ${rate} Hz (need PCM 8/16/24/32-bit or float)`);
  }
  const frameBytes = bytesPerSample * channels;
  const frames = Math.floor(data.length / frameBytes);
  if (frames === 0) throw new AudioError('empty', 'WAV has no audio samples');
  const out = new Float32Array(frames);
  const dv = new DataView(data.buffer, data.byteOffset, frames * frameBytes);
  const read = sampleReader(format, bits, dv);
  for (let i = 0; i < frames; i++) {
    let s = 0;
    for (let c = 0; c < channels; c++) s += read((i * channels + c) * bytesPerSample);
    out[i] = s / channels;
  }
  return { samples: out, sampleRateHz: rate };
}

function sampleReader(format: number, bits: number, dv: DataView): (o: number) => number {
  if (format === FORMAT_FLOAT) return bits === 32 ? (o) => dv.getFloat32(o, true) : (o) => dv.getFloat64(o, true);
  switch (bits) {
    case 8:
      return (o) => (dv.getUint8(o) - 128) / 128;
    case 16:
      return (o) => dv.getInt16(o, true) / 32768;
    case 24:
      return (o) => ((dv.getUint8(o) | (dv.getUint8(o + 1) << 8) | (dv.getInt8(o + 2) << 16)) / 8388608);
    default:
      return (o) => dv.getInt32(o, true) / 2147483648;
  }
}

export async function readWavFile(path: string): Promise<MonoAudio> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (err) {
    throw new AudioError('not_wav', `cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return decodeWav(bytes);
  } catch (err) {
    if (err instanceof AudioError) throw new AudioError(err.code, `${path}: ${err.message}`);
    throw err;
  }
}

function wavHeader(sampleRateHz: number, bits: 16 | 32, dataBytes: number): Uint8Array {
  const h = new Uint8Array(44);
  const v = new DataView(h.buffer);
  const w = (o: number, s: string) => [...s].forEach((c, i) => (h[o + i] = c.charCodeAt(0)));
  w(0, 'RIFF');
  v.setUint32(4, 36 + dataBytes, true);
  w(8, 'WAVE');
  w(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, bits === 32 ? FORMAT_FLOAT : FORMAT_PCM, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, sampleRateHz, true);
  v.setUint32(28, (sampleRateHz * bits) / 8, true);
  v.setUint16(32, bits / 8, true);
  v.setUint16(34, bits, true);
  w(36, 'data');
  v.setUint32(40, dataBytes, true);
  return h;
}

function encodeSamples(samples: Float32Array, bits: 16 | 32): Uint8Array {
  const out = new Uint8Array(samples.length * (bits / 8));
  const v = new DataView(out.buffer);
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i] as number;
    if (bits === 32) v.setFloat32(i * 4, s, true);
    else v.setInt16(i * 2, Math.max(-32768, Math.min(32767, Math.round(s * 32768))), true);
  }
  return out;
}

/** Encodes mono audio as a WAV: 16-bit PCM (default) or 32-bit float. */
export function encodeWav(audio: MonoAudio, bitsPerSample: 16 | 32 = 16): Uint8Array {
  const body = encodeSamples(audio.samples, bitsPerSample);
  const out = new Uint8Array(44 + body.length);
  out.set(wavHeader(audio.sampleRateHz, bitsPerSample, body.length), 0);
  out.set(body, 44);
  return out;
}

export async function writeWavFile(path: string, audio: MonoAudio, bitsPerSample: 16 | 32 = 16): Promise<void> {
  await writeFile(path, encodeWav(audio, bitsPerSample));
}

/**
 * Writes a 16-bit mono WAV progressively: header with placeholder sizes first, samples as they
 * come, sizes patched on close (readers of a still-open file see the data chunk grow).
 */
export class WavStreamWriter {
  private handle: FileHandle | undefined;
  private dataBytes = 0;
  private closed = false;

  private constructor(readonly sampleRateHz: number) {}

  static async create(path: string, sampleRateHz: number): Promise<WavStreamWriter> {
    const w = new WavStreamWriter(sampleRateHz);
    w.handle = await open(path, 'w');
    await w.handle.write(wavHeader(sampleRateHz, 16, 0xffffffff - 36), 0, 44, 0);
    return w;
  }

  async write(samples: Float32Array): Promise<void> {
    if (this.closed || !this.handle) throw new InvalidStateError('WavStreamWriter used after close()');
    const body = encodeSamples(samples, 16);
    await this.handle.write(body, 0, body.length, 44 + this.dataBytes);
    this.dataBytes += body.length;
  }

  /** Patches the header sizes and closes the file. Idempotent. */
  async close(): Promise<void> {
    if (this.closed || !this.handle) return;
    this.closed = true;
    await this.handle.write(wavHeader(this.sampleRateHz, 16, this.dataBytes), 0, 44, 0);
    await this.handle.close();
  }
}
