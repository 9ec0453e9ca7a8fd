import { stat } from 'node:fs/promises';
import { readWavFile, resample, toPcm16k } from '../audio/index.ts';
import type { Pcm16k } from '../audio/pcm.ts';
import { AudioError } from '../core/errors.ts';
import type { DaemonEvent, LocalEndpoint } from './types.ts';

export interface WavEndpointOptions {
  id: string;
  /** Times the file is played; Infinity = until stopped. Default 1. */
  loops: number;
  /** Silence between loops, ms (lets the VAD end the last phrase). Default 1500. */
  gapMs: number;
  /** Release the microphone at real-time pace (false: as fast as the pipeline pulls). Default true. */
  realtime: boolean;
  /** Microphone chunk, ms. Default 100. */
  chunkMs: number;
  /** Most recent received audio kept for inspection, seconds (older audio is discarded). Default 60. */
  keepHeardSeconds: number;
  /** Most transcript/link events kept. Default 10 000. */
  maxEvents: number;
  /** Largest WAV file accepted, bytes. Default 64 MiB. */
  maxWavBytes: number;
}

export const DEFAULT_WAV_ENDPOINT_OPTIONS: Readonly<WavEndpointOptions> = Object.freeze({
  id: 'wav',
  loops: 1,
  gapMs: 1500,
  realtime: true,
  chunkMs: 100,
  keepHeardSeconds: 60,
  maxEvents: 10_000,
  maxWavBytes: 64 * 1024 * 1024,
});

/**
 * A local endpoint that plays a recording as its microphone (in real time, optionally looped) and
 * collects what it hears: for tests and soak runs of the daemon. Memory stays bounded: the heard
 * audio is a ring of `keepHeardSeconds`, events are capped.
 */
export class WavLoopEndpoint implements LocalEndpoint {
  readonly id: string;
  readonly options: Readonly<WavEndpointOptions>;
  /** Transcripts sent (out) and received (in), in order. */
  readonly sent: string[] = [];
  readonly heard: string[] = [];
  readonly events: DaemonEvent[] = [];
  /** Total received audio, ms. */
  heardMs = 0;
  loopsPlayed = 0;
  private ring: Float32Array;
  private ringPos = 0;
  private stopped = false;
  private speaking = true;
  private closed = false;
  private wake: (() => void) | undefined;

  constructor(private readonly pcm: Pcm16k, options: Partial<WavEndpointOptions> = {}) {
    this.options = Object.freeze({ ...DEFAULT_WAV_ENDPOINT_OPTIONS, ...options });
    this.id = this.options.id;
    this.ring = new Float32Array(Math.max(1, Math.round(this.options.keepHeardSeconds * 16000)));
  }

  /** Reads a WAV (any PCM/float format and rate; size-checked before reading). */
  static async fromFile(path: string, options: Partial<WavEndpointOptions> = {}): Promise<WavLoopEndpoint> {
    const max = options.maxWavBytes ?? DEFAULT_WAV_ENDPOINT_OPTIONS.maxWavBytes;
    const size = (await stat(path)).size;
    if (size > max) throw new AudioError('too_large', `${path} is ${size} bytes; the WAV limit is ${max}`);
    const audio = await readWavFile(path);
    return new WavLoopEndpoint(toPcm16k(audio.sampleRateHz === 16000 ? audio : resample(audio, 16000)), options);
  }

  get mic(): AsyncIterable<Int16Array> {
    return this.micChunks();
  }

  private async *micChunks(): AsyncIterable<Int16Array> {
    const o = this.options;
    const chunk = Math.round((o.chunkMs / 1000) * 16000);
    const gap = new Int16Array(Math.round((o.gapMs / 1000) * 16000));
    const t0 = performance.now();
    let fedSamples = 0;
    const pace = async (n: number) => {
      fedSamples += n;
      if (!o.realtime) return;
      const due = (fedSamples / 16000) * 1000 - (performance.now() - t0);
      if (due > 0) await new Promise<void>((r) => {
        const t = setTimeout(() => { this.wake = undefined; r(); }, due);
        this.wake = () => { clearTimeout(t); this.wake = undefined; r(); };
      });
    };
    for (let loop = 0; loop < o.loops && !this.stopped && this.speaking; loop++) {
      for (let i = 0; i < this.pcm.length && !this.stopped && this.speaking; i += chunk) {
        const c = this.pcm.subarray(i, Math.min(this.pcm.length, i + chunk));
        yield c;
        await pace(c.length);
      }
      for (let i = 0; i < gap.length && !this.stopped; i += chunk) {
        const c = gap.subarray(i, Math.min(gap.length, i + chunk));
        yield c;
        await pace(c.length);
      }
      this.loopsPlayed++;
    }
    // After stopSpeaking(): quiet but still present (the call stays up and hears the peer) until stop().
    const quiet = new Int16Array(chunk);
    while (!this.speaking && !this.stopped) {
      yield quiet;
      await pace(quiet.length);
    }
    // Trailing silence so the recognizer closes the last phrase.
    if (!this.closed) yield new Int16Array(16000);
  }

  /** Stops the recording (after the current chunk) but keeps the microphone open with silence until {@link stop}. */
  stopSpeaking(): void {
    this.speaking = false;
    this.wake?.();
  }

  /** Ends the microphone after the current chunk (the call then drains and ends). */
  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  async play(samples: Float32Array, sampleRateHz: number): Promise<void> {
    const s = sampleRateHz === 16000 ? samples : resample({ samples, sampleRateHz }, 16000).samples;
    this.heardMs += (s.length / 16000) * 1000;
    for (let i = 0; i < s.length; i++) {
      this.ring[this.ringPos] = s[i]!;
      this.ringPos = (this.ringPos + 1) % this.ring.length;
    }
  }

  /** The most recent received audio (up to `keepHeardSeconds`), 16 kHz. */
  recentAudio(): Float32Array {
    const n = Math.min(this.ring.length, Math.round((this.heardMs / 1000) * 16000));
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.ring[(this.ringPos - n + i + this.ring.length * 2) % this.ring.length]!;
    return out;
  }

  event(e: DaemonEvent): void {
    if (e.type === 'transcript') (e.direction === 'out' ? this.sent : this.heard).push(e.text);
    if (e.type === 'link') return; // periodic: would fill the log
    if (this.events.length < this.options.maxEvents) this.events.push(e);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stop();
  }
}
