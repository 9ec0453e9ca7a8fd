import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { EngineUnavailableError, InvalidStateError } from '../../../core/errors.ts';
import type { ModemAudioPort } from './audio-port.ts';

/**
 * Modem audio of a real radio (issue #15 part 3): raw 8 kHz mono s16le PCM read from one byte
 * stream (the receiver: stdin, or `arecord` from the sound card) and written to another (the
 * transmitter: stdout, or `aplay`). The receive stream is the clock: for every n samples read,
 * n samples are written: queued transmit audio, else silence. So the output runs at the sound
 * card's rate with a constant buffer depth, a keyed turn ends (`transmitting` false) when its last
 * sample has been written, and a pipe consumer (a UDP relay, another modem) always gets a
 * continuous stream. Reading pauses while the receive handler runs (backpressure) and while the
 * output's buffer is full.
 */

export interface StreamAudioPortOptions {
  /** Most transmit audio queued, samples; a turn beyond is refused (RangeError: a link bug). Default 10 min. */
  maxQueuedSamples: number;
  /** Write silence while not transmitting (keeps the output clocked by the input). Default true. */
  idleSilence: boolean;
}

export const DEFAULT_STREAM_AUDIO_PORT_OPTIONS: Readonly<StreamAudioPortOptions> = Object.freeze({ maxQueuedSamples: 8000 * 600, idleSilence: true });

export class StreamAudioPort implements ModemAudioPort {
  readonly options: Readonly<StreamAudioPortOptions>;
  /** Samples read / written so far. */
  samplesIn = 0;
  samplesOut = 0;
  private queue: Int16Array[] = [];
  private queuedSamples = 0;
  private handler: ((s: Int16Array) => Promise<void> | void) | undefined;
  private odd: number | undefined;
  private busy: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    options: Partial<StreamAudioPortOptions> = {},
    private readonly onClose?: () => void,
  ) {
    this.options = Object.freeze({ ...DEFAULT_STREAM_AUDIO_PORT_OPTIONS, ...options });
    input.on('data', (b: Buffer) => this.onBytes(b));
  }

  transmit(samples: Int16Array): void {
    if (this.closed) throw new InvalidStateError('StreamAudioPort used after close()');
    if (samples.length === 0) return;
    if (this.queuedSamples + samples.length > this.options.maxQueuedSamples) throw new RangeError(`transmit queue over ${this.options.maxQueuedSamples} samples`);
    this.queue.push(samples.slice());
    this.queuedSamples += samples.length;
  }

  get transmitting(): boolean {
    return this.queuedSamples > 0;
  }

  onReceive(handler: (samples: Int16Array) => Promise<void> | void): void {
    this.handler = handler;
  }

  /** Resolves when the chunks read so far have been handled and answered. */
  idle(): Promise<void> {
    return this.busy;
  }

  /** Idempotent: stops reading, ends the output. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.input.pause();
    this.input.removeAllListeners('data');
    this.output.end();
    this.onClose?.();
  }

  private onBytes(b: Buffer): void {
    if (this.closed) return;
    let bytes: Buffer = b;
    if (this.odd !== undefined) bytes = Buffer.concat([Buffer.of(this.odd), b]);
    this.odd = bytes.length % 2 ? bytes[bytes.length - 1] : undefined;
    const n = bytes.length >> 1;
    if (n === 0) return;
    const samples = new Int16Array(n);
    for (let i = 0; i < n; i++) samples[i] = bytes.readInt16LE(2 * i);
    this.input.pause();
    this.busy = this.busy.then(() => this.handle(samples));
  }

  private async handle(samples: Int16Array): Promise<void> {
    if (this.closed) return;
    this.samplesIn += samples.length;
    const out = this.take(samples.length);
    if (out) {
      const buf = Buffer.alloc(out.length * 2);
      for (let i = 0; i < out.length; i++) buf.writeInt16LE(out[i]!, 2 * i);
      this.samplesOut += out.length;
      if (!this.output.write(buf)) await new Promise<void>((resolve) => this.output.once('drain', resolve));
    }
    await this.handler?.(samples);
    if (!this.closed) this.input.resume();
  }

  private take(n: number): Int16Array | undefined {
    if (this.queuedSamples === 0 && !this.options.idleSilence) return undefined;
    const out = new Int16Array(n);
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
    if (at < n && !this.options.idleSilence) return out.subarray(0, at);
    return out;
  }
}

/** Modem audio on this process's stdin (receiver) and stdout (transmitter): logs must go to stderr. */
export function stdioAudioPort(options: Partial<StreamAudioPortOptions> = {}): StreamAudioPort {
  return new StreamAudioPort(process.stdin, process.stdout, options);
}

/**
 * Modem audio through an ALSA device (e.g. `plughw:1,0`, a USB sound card wired to the radio) with
 * alsa-utils' `arecord` and `aplay` (8 kHz, S16_LE, mono, raw). Both children are ended on close.
 */
export function alsaAudioPort(device: string, options: Partial<StreamAudioPortOptions> = {}): StreamAudioPort {
  const args = ['-q', '-D', device, '-f', 'S16_LE', '-r', '8000', '-c', '1', '-t', 'raw'];
  for (const program of ['arecord', 'aplay']) {
    try {
      execFileSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' });
    } catch {
      throw new EngineUnavailableError('alsa', `${program} is not installed`, 'apt-get install alsa-utils');
    }
  }
  const children: ChildProcess[] = [];
  let port: StreamAudioPort | undefined;
  const start = (program: string) => {
    const child = spawn(program, args, { stdio: program === 'arecord' ? ['ignore', 'pipe', 'inherit'] : ['pipe', 'ignore', 'inherit'] });
    // A device that cannot be opened ends the child: the port stops (its stderr says why).
    child.on('error', () => port?.close());
    child.on('exit', () => port?.close());
    children.push(child);
    return child;
  };
  const rec = start('arecord');
  const play = start('aplay');
  port = new StreamAudioPort(rec.stdout!, play.stdin!, options, () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  });
  return port;
}
