import type { MonoAudio } from '../audio/pcm.ts';
import { InvalidStateError } from '../core/errors.ts';

/** Where the receiver's audio goes (a streaming WAV writer, stdout PCM, a buffer in tests). */
export interface AudioSink {
  write(samples: Float32Array): Promise<void> | void;
  close(): Promise<void> | void;
}

/** Collects everything in memory (tests, eval). */
export class BufferSink implements AudioSink {
  private readonly parts: Float32Array[] = [];
  private length = 0;
  write(samples: Float32Array): void {
    this.parts.push(samples.slice());
    this.length += samples.length;
  }
  close(): void {}
  audio(sampleRateHz: number): MonoAudio {
    const out = new Float32Array(this.length);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return { samples: out, sampleRateHz };
  }
}

/** Where each phrase actually landed in the output, ms. */
export interface PlacedPhrase {
  requestedStartMs: number;
  startMs: number;
  endMs: number;
}

/**
 * Lays synthesized phrases on the output timeline at their transmitted start times, keeping the
 * pauses between them. A phrase that arrives after its start time (its predecessor ran long, or it
 * was late on the link) starts right after what is already written: audio is never overlapped and
 * never reordered. Writes go straight to the sink, so the first phrase is out before later ones exist.
 */
export class PhraseTimeline {
  private writtenSamples = 0;
  private closed = false;
  readonly placed: PlacedPhrase[] = [];

  constructor(
    private readonly sink: AudioSink,
    readonly sampleRateHz: number,
  ) {}

  get positionMs(): number {
    return (this.writtenSamples / this.sampleRateHz) * 1000;
  }

  /** Appends a phrase at `startMs` (or as soon after as possible). Audio must be at the timeline rate. */
  async add(startMs: number, audio: MonoAudio): Promise<PlacedPhrase> {
    if (this.closed) throw new InvalidStateError('PhraseTimeline used after close()');
    if (audio.sampleRateHz !== this.sampleRateHz) {
      throw new InvalidStateError(`phrase audio at ${audio.sampleRateHz} Hz on a ${this.sampleRateHz} Hz timeline`);
    }
    const startSample = Math.max(this.writtenSamples, Math.round((startMs / 1000) * this.sampleRateHz));
    await this.silenceUntil(startSample);
    await this.sink.write(audio.samples);
    this.writtenSamples += audio.samples.length;
    const placed = { requestedStartMs: startMs, startMs: (startSample / this.sampleRateHz) * 1000, endMs: this.positionMs };
    this.placed.push(placed);
    return placed;
  }

  private async silenceUntil(sample: number): Promise<void> {
    const chunk = 4096;
    while (this.writtenSamples < sample) {
      const n = Math.min(chunk, sample - this.writtenSamples);
      await this.sink.write(new Float32Array(n));
      this.writtenSamples += n;
    }
  }

  /** Pads to `endMs` (e.g. the session's End time) and closes the sink. Idempotent. */
  async close(endMs?: number): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (endMs !== undefined) await this.silenceUntil(Math.round((endMs / 1000) * this.sampleRateHz));
    await this.sink.close();
  }
}
