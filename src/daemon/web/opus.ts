/**
 * Opus at 48 kHz mono through opusscript (WebAssembly, npm only): the daemon's side of the WebRTC
 * audio. 20 ms frames (960 samples) both ways.
 */
import { createRequire } from 'node:module';
import { EngineError, EngineUnavailableError, InvalidStateError } from '../../core/errors.ts';

/** Samples per 20 ms Opus frame at 48 kHz. */
export const OPUS_FRAME_SAMPLES = 960;
/** The Opus RTP clock. */
export const OPUS_RATE_HZ = 48_000;

interface OpusScriptInstance {
  encode(buffer: Buffer, frameSize: number): Buffer;
  decode(buffer: Buffer): Buffer;
  setBitrate(bitrate: number): void;
  delete(): void;
}
interface OpusScriptClass {
  new (rate: 48000, channels: number, application?: number): OpusScriptInstance;
  Application: { VOIP: number };
}

function loadOpusScript(): OpusScriptClass {
  try {
    return createRequire(import.meta.url)('opusscript') as OpusScriptClass;
  } catch (err) {
    throw new EngineUnavailableError('opusscript', 'the opusscript package is not installed', 'run npm ci', { cause: err });
  }
}

/** Decodes Opus packets to 48 kHz mono s16. Call `close()` to free the WebAssembly state. */
export class OpusDecoder48k {
  private codec: OpusScriptInstance | undefined;
  constructor() {
    const Opus = loadOpusScript();
    this.codec = new Opus(48000, 1);
  }
  /** One packet → PCM (usually 960 samples). Throws `EngineError` `opus_decode` on a corrupt packet. */
  decode(packet: Uint8Array): Int16Array {
    if (!this.codec) throw new InvalidStateError('OpusDecoder48k used after close()');
    let out: Buffer;
    try {
      out = this.codec.decode(Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength));
    } catch (err) {
      throw new EngineError('opus_decode', `cannot decode an Opus packet of ${packet.length} bytes`, undefined, { cause: err });
    }
    // The Buffer views WebAssembly memory that the next call overwrites: copy.
    const pcm = new Int16Array(out.length >> 1);
    for (let i = 0; i < pcm.length; i++) pcm[i] = out.readInt16LE(2 * i);
    return pcm;
  }
  close(): void {
    this.codec?.delete();
    this.codec = undefined;
  }
}

/** Encodes 20 ms frames of 48 kHz mono s16 to Opus (VoIP mode). */
export class OpusEncoder48k {
  private codec: OpusScriptInstance | undefined;
  /** @param bitsPerSecond Opus target bitrate; default 32 kbit/s (plenty for speech on a LAN). */
  constructor(bitsPerSecond = 32_000) {
    const Opus = loadOpusScript();
    this.codec = new Opus(48000, 1, Opus.Application.VOIP);
    this.codec.setBitrate(bitsPerSecond);
  }
  /** Exactly {@link OPUS_FRAME_SAMPLES} samples → one packet (copied out of WebAssembly memory). */
  encode(frame: Int16Array): Uint8Array {
    if (!this.codec) throw new InvalidStateError('OpusEncoder48k used after close()');
    if (frame.length !== OPUS_FRAME_SAMPLES) throw new RangeError(`Opus frame must be ${OPUS_FRAME_SAMPLES} samples, got ${frame.length}`);
    const pcm = Buffer.alloc(frame.length * 2);
    for (let i = 0; i < frame.length; i++) pcm.writeInt16LE(frame[i] as number, 2 * i);
    return Uint8Array.from(this.codec.encode(pcm, OPUS_FRAME_SAMPLES));
  }
  close(): void {
    this.codec?.delete();
    this.codec = undefined;
  }
}
