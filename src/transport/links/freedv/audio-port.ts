import { InvalidStateError } from '../../../core/errors.ts';
import { HfChannel, type HfChannelOptions } from '../../hf/channel.ts';

/**
 * Where a FreeDV link's modem audio goes: a radio's sound card (ALSA, stdin/stdout: issue #15
 * part 3) or, in tests and `hf-sim`, {@link SimulatedHfAudio}. 8 kHz mono int16 both ways.
 */
export interface ModemAudioPort {
  /** Queues modem audio; the transmitter is keyed while queued audio is being sent. */
  transmit(samples: Int16Array): void;
  /** True while queued audio has not all been sent. */
  readonly transmitting: boolean;
  /**
   * The receiver's audio in order, one chunk at a time. The handler's promise is awaited before
   * the next chunk (backpressure: the demodulator is never outrun).
   */
  onReceive(handler: (samples: Int16Array) => Promise<void> | void): void;
  /** Releases the device (a link closes the port it was given). */
  close?(): void;
}

export interface SimulatedHfAudioOptions {
  /** The channel both directions go through (each direction its own seeded instance). */
  channel: Partial<HfChannelOptions> & { signalPower: number };
  /** Samples per step. Default 800 (0.1 s). */
  chunkSamples: number;
}

class SimulatedEnd implements ModemAudioPort {
  queue: Int16Array[] = [];
  queuedSamples = 0;
  handler: ((s: Int16Array) => Promise<void> | void) | undefined;
  transmit(samples: Int16Array): void {
    if (samples.length === 0) return;
    this.queue.push(samples.slice());
    this.queuedSamples += samples.length;
  }
  get transmitting(): boolean {
    return this.queuedSamples > 0;
  }
  onReceive(handler: (s: Int16Array) => Promise<void> | void): void {
    this.handler = handler;
  }
  /** The next `n` samples on air from this end (zeros when idle). */
  take(n: number): { samples: Int16Array; keyed: boolean } {
    const out = new Int16Array(n);
    const keyed = this.queuedSamples > 0;
    let at = 0;
    while (at < n && this.queue.length) {
      const head = this.queue[0]!;
      const k = Math.min(n - at, head.length);
      out.set(head.subarray(0, k), at);
      at += k;
      if (k === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(k);
      this.queuedSamples -= k;
    }
    return { samples: out, keyed };
  }
}

/**
 * Two simplex radios on one simulated HF path, stepped in stream time (not wall-clock): each step
 * takes `chunkSamples` of what each end transmits (silence when idle), passes it through that
 * direction's {@link HfChannel} (noise is always there, as on a real receiver) and hands it to the
 * other end. A transmitting end's own receiver is muted (half duplex): while both transmit, both
 * bursts are lost. Deterministic for the same seeds and the same sends between steps.
 */
export class SimulatedHfAudio {
  readonly a: ModemAudioPort;
  readonly b: ModemAudioPort;
  readonly options: Readonly<SimulatedHfAudioOptions>;
  private readonly ends: [SimulatedEnd, SimulatedEnd] = [new SimulatedEnd(), new SimulatedEnd()];
  private readonly channels: [HfChannel, HfChannel];
  private samples = 0;
  private closed = false;
  /** Steps in which both ends were keyed (collisions). */
  collisions = 0;

  constructor(options: Partial<SimulatedHfAudioOptions> & Pick<SimulatedHfAudioOptions, 'channel'>) {
    this.options = Object.freeze({ chunkSamples: 800, ...options });
    const seed = options.channel.seed ?? 1;
    this.channels = [new HfChannel({ ...options.channel, seed }), new HfChannel({ ...options.channel, seed: seed + 7919 })];
    [this.a, this.b] = this.ends;
  }

  /** Both directions' SNR from the next step on (dB in 3 kHz). */
  setSnrDb(snrDb: number): void {
    for (const c of this.channels) c.setSnrDb(snrDb);
  }

  /** Stream time, samples since start. */
  get timeSamples(): number {
    return this.samples;
  }

  /** One step: both directions, then both receivers' handlers (awaited). */
  async step(): Promise<void> {
    if (this.closed) throw new InvalidStateError('SimulatedHfAudio used after close()');
    const n = this.options.chunkSamples;
    const [ea, eb] = this.ends;
    const ta = ea.take(n);
    const tb = eb.take(n);
    if (ta.keyed && tb.keyed) this.collisions++;
    // Each channel runs every step so its noise and fading stay one continuous process.
    const toB = this.channels[0].processInt16(ta.samples);
    const toA = this.channels[1].processInt16(tb.samples);
    this.samples += n;
    await Promise.all([ea.handler?.(ta.keyed ? new Int16Array(n) : toA), eb.handler?.(tb.keyed ? new Int16Array(n) : toB)]);
  }

  /** Steps until `seconds` of stream time have passed or `until()` is true. */
  async run(seconds: number, until?: () => boolean): Promise<void> {
    const end = this.samples + Math.round(seconds * 8000);
    while (this.samples < end && !(until?.() ?? false)) await this.step();
  }

  close(): void {
    this.closed = true;
  }
}
