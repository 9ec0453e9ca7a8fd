/**
 * One browser tab as a {@link LocalEndpoint}: a bounded microphone queue (16 kHz s16) fed by the
 * audio path, and a real-time paced playout of received speech in fixed frames handed to the
 * audio path (Opus/RTP for WebRTC, s16le binary messages for WebSocket PCM). Issue #8.
 */
import { BoundedQueue } from '../../core/queue.ts';
import { InvalidStateError } from '../../core/errors.ts';
import type { DaemonEvent, LocalEndpoint } from '../types.ts';
import { RateConverter } from './stream-resampler.ts';

export interface WebEndpointOptions {
  /** Microphone queue capacity in chunks (a chunk is ~20 ms); the oldest is dropped when full. Default 250 (~5 s). */
  micQueueChunks: number;
  /** Received speech buffered ahead of playout, ms; `play()` waits beyond this. Default 2000. */
  playBufferMs: number;
  /** Playout frame length, ms. Default 20. */
  frameMs: number;
}

export const DEFAULT_WEB_ENDPOINT_OPTIONS: Readonly<WebEndpointOptions> = Object.freeze({ micQueueChunks: 250, playBufferMs: 2000, frameMs: 20 });

/** Where a tab's audio and events go. */
export interface WebEndpointSink {
  /** Playout sample rate, Hz (48000 for WebRTC, 16000 for WebSocket PCM). */
  readonly playRateHz: number;
  /** One frame of `frameMs` at `playRateHz`; `frameIndex` counts frame slots since start (gaps = silence not sent). */
  audio(frame: Float32Array, frameIndex: number): void;
  /** Returns false when the event was dropped (slow client). */
  event(e: DaemonEvent): boolean;
}

/** Counters for /metrics. */
export interface WebEndpointStats {
  micChunks: number;
  micDropped: number;
  playedFrames: number;
  eventsDropped: number;
}

export class WebEndpoint implements LocalEndpoint {
  readonly mic: BoundedQueue<Int16Array>;
  /** Whether the microphone passes (push-to-talk state; always true hands-free). */
  talking: boolean;
  readonly stats: WebEndpointStats = { micChunks: 0, micDropped: 0, playedFrames: 0, eventsDropped: 0 };
  private readonly options: WebEndpointOptions;
  private readonly frameSamples: number;
  private readonly maxFrames: number;
  private readonly frames: Float32Array[] = [];
  private partial: Float32Array = new Float32Array(0);
  private partialSinceMs = 0;
  private readonly roomWaiters: Array<() => void> = [];
  private readonly converter: RateConverter;
  private readonly timer: NodeJS.Timeout;
  private readonly startMs = performance.now();
  private nextFrameIndex = 0;
  private closed = false;

  constructor(
    readonly id: string,
    private readonly sink: WebEndpointSink,
    talking: boolean,
    options: Partial<WebEndpointOptions> = {},
    private readonly onClose: () => void = () => {},
  ) {
    this.options = { ...DEFAULT_WEB_ENDPOINT_OPTIONS, ...options };
    this.talking = talking;
    this.mic = new BoundedQueue<Int16Array>({ capacity: this.options.micQueueChunks, overflow: 'drop-oldest' });
    this.frameSamples = Math.round((sink.playRateHz * this.options.frameMs) / 1000);
    this.maxFrames = Math.max(1, Math.ceil(this.options.playBufferMs / this.options.frameMs));
    this.converter = new RateConverter(sink.playRateHz);
    // Ticks at half the frame period; frames go out on their slot, so timer jitter does not drift.
    this.timer = setInterval(() => this.tick(), Math.max(1, this.options.frameMs / 2));
    this.timer.unref();
  }

  /** Audio from the page's microphone, 16 kHz s16; replaced by silence while not talking. */
  pushMic(pcm16k: Int16Array): void {
    if (this.closed) return;
    const chunk = this.talking ? pcm16k : new Int16Array(pcm16k.length);
    const before = this.mic.dropped;
    void this.mic.push(chunk);
    this.stats.micChunks++;
    this.stats.micDropped += this.mic.dropped - before;
  }

  /** Received speech, buffered up to `playBufferMs`; resolves when it fits (backpressure). */
  async play(samples: Float32Array, sampleRateHz: number): Promise<void> {
    if (this.closed) throw new InvalidStateError(`play() on closed endpoint ${this.id}`);
    const converted = this.converter.process(samples, sampleRateHz);
    const joined = new Float32Array(this.partial.length + converted.length);
    joined.set(this.partial);
    joined.set(converted, this.partial.length);
    let offset = 0;
    for (; offset + this.frameSamples <= joined.length; offset += this.frameSamples) {
      while (this.frames.length >= this.maxFrames && !this.closed) await new Promise<void>((r) => this.roomWaiters.push(r));
      if (this.closed) return;
      this.frames.push(joined.slice(offset, offset + this.frameSamples));
    }
    this.partial = joined.slice(offset);
    this.partialSinceMs = performance.now();
  }

  /** Buffered playout, ms (for metrics). */
  get bufferedMs(): number {
    return (this.frames.length * this.options.frameMs) + (this.partial.length / this.sink.playRateHz) * 1000;
  }

  event(e: DaemonEvent): void {
    if (this.closed) return;
    if (!this.sink.event(e)) this.stats.eventsDropped++;
  }

  /** Ends the microphone stream and the playout; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.mic.end();
    for (const w of this.roomWaiters.splice(0)) w();
    this.frames.length = 0;
    this.onClose();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private tick(): void {
    const due = Math.floor((performance.now() - this.startMs) / this.options.frameMs);
    // After a stall (event loop blocked) skip the missed slots instead of bursting them.
    if (due - this.nextFrameIndex > 5) this.nextFrameIndex = due - 1;
    while (this.nextFrameIndex <= due) {
      let frame = this.frames.shift();
      if (!frame && this.partial.length > 0 && performance.now() - this.partialSinceMs > 2 * this.options.frameMs) {
        // The tail of a phrase (no more play() for two frames): pad it with silence.
        frame = new Float32Array(this.frameSamples);
        frame.set(this.partial);
        this.partial = new Float32Array(0);
      }
      if (frame) {
        this.sink.audio(frame, this.nextFrameIndex);
        this.stats.playedFrames++;
        this.roomWaiters.shift()?.();
      }
      this.nextFrameIndex++;
    }
  }
}
