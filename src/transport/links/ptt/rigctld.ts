import { connect, type Socket } from 'node:net';
import { InvalidStateError, TransportError } from '../../../core/errors.ts';
import type { Ptt } from './types.ts';

/**
 * PTT through hamlib's `rigctld` (Debian libhamlib-utils) over its TCP protocol: `T 1` / `T 0`
 * set PTT, answered `RPRT 0` (or `RPRT -n`, a hamlib error); `t` reads it back as `0` / `1`.
 * Serial RTS/DTR keying is rigctld's job too: `rigctld -m 1 -p /dev/ttyUSB0 -P RTS` (or `-P DTR`)
 * keys a plain interface through a serial control line. Measured with hamlib 4.5.4: the dummy rig
 * `rigctld -m 1` refuses `T 1` (`RPRT -1`) unless started with `-P RIG`.
 */

export interface RigctldPttOptions {
  host: string;
  /** rigctld's port (its default 4532). */
  port: number;
  /** One command's answer must arrive within this, ms. Default 2000. */
  timeoutMs: number;
}

export const DEFAULT_RIGCTLD_PTT_OPTIONS: Readonly<RigctldPttOptions> = Object.freeze({ host: '127.0.0.1', port: 4532, timeoutMs: 2000 });

interface Pending {
  resolve: (line: string) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** Longest answer line accepted from rigctld (a PTT answer is a few bytes). */
const MAX_LINE_BYTES = 1024;

export class RigctldPtt implements Ptt {
  readonly kind = 'rigctld';
  readonly options: Readonly<RigctldPttOptions>;
  /** Transmitter keyings confirmed by rigctld. */
  keyings = 0;
  private readonly socket: Socket;
  private buffer = '';
  private readonly pending: Pending[] = [];
  /** Commands go one at a time: rigctld answers in order, this keeps answers matched to them. */
  private chain: Promise<unknown> = Promise.resolve();
  private keyed = false;
  private closing: Promise<void> | undefined;
  private failure: Error | undefined;

  private constructor(socket: Socket, options: RigctldPttOptions) {
    this.socket = socket;
    this.options = Object.freeze(options);
    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    socket.on('data', (text: string) => this.onText(text));
    const fail = (err: Error) => {
      this.failure ??= err;
      for (const p of this.pending.splice(0)) {
        clearTimeout(p.timer);
        p.reject(err);
      }
    };
    socket.on('error', (err) => fail(new TransportError('closed', `rigctld ${this.description}: ${err.message}`, { host: options.host, port: options.port }, { cause: err })));
    socket.on('close', () => fail(new TransportError('closed', `rigctld ${this.description} closed the connection`)));
  }

  /** Connects to rigctld; `TransportError('refused')` when nothing listens there. */
  static async connect(options: Partial<RigctldPttOptions> = {}): Promise<RigctldPtt> {
    const o: RigctldPttOptions = { ...DEFAULT_RIGCTLD_PTT_OPTIONS, ...options };
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: o.host, port: o.port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new TransportError('timeout', `rigctld at ${o.host}:${o.port} did not accept a connection within ${o.timeoutMs} ms`));
      }, o.timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(new TransportError('refused', `cannot reach rigctld at ${o.host}:${o.port} (start it: rigctld -m MODEL -r DEVICE -t ${o.port}): ${err.message}`, { host: o.host, port: o.port }, { cause: err }));
      });
    });
    return new RigctldPtt(socket, o);
  }

  get description(): string {
    return `rigctld://${this.options.host}:${this.options.port}`;
  }

  async set(keyed: boolean): Promise<void> {
    const answer = await this.command(`T ${keyed ? 1 : 0}`);
    const m = /^RPRT (-?\d+)$/.exec(answer);
    if (!m) throw new TransportError('protocol', `rigctld answered '${answer}' to T ${keyed ? 1 : 0}`);
    if (m[1] !== '0') throw new TransportError('refused', `rigctld refused PTT ${keyed ? 'on' : 'off'} (hamlib error ${m[1]}; a dummy rig needs -P RIG)`, { hamlibError: Number(m[1]) });
    if (keyed && !this.keyed) this.keyings++;
    this.keyed = keyed;
  }

  async get(): Promise<boolean> {
    const answer = await this.command('t');
    if (answer === '0' || answer === '1') return answer === '1';
    throw new TransportError(answer.startsWith('RPRT') ? 'refused' : 'protocol', `rigctld answered '${answer}' to t (get PTT)`);
  }

  async close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        if (this.keyed && !this.failure) await this.run('T 0');
      } catch {
        // Closing anyway: the radio's own TX timeout is the last resort.
      }
      this.socket.end();
      this.socket.destroy();
    })();
    return this.closing;
  }

  private command(line: string): Promise<string> {
    if (this.closing) return Promise.reject(new InvalidStateError('RigctldPtt used after close()'));
    return this.run(line);
  }

  private run(line: string): Promise<string> {
    const next = this.chain.then(
      () =>
        new Promise<string>((resolve, reject) => {
          if (this.failure) return reject(this.failure);
          const timer = setTimeout(() => {
            const i = this.pending.findIndex((p) => p.timer === timer);
            if (i >= 0) this.pending.splice(i, 1);
            reject(new TransportError('timeout', `rigctld did not answer '${line}' within ${this.options.timeoutMs} ms`));
          }, this.options.timeoutMs);
          this.pending.push({ resolve, reject, timer });
          this.socket.write(`${line}\n`);
        }),
    );
    this.chain = next.catch(() => undefined);
    return next;
  }

  private onText(text: string): void {
    this.buffer += text;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      const p = this.pending.shift();
      if (!p) continue; // unsolicited line: ignored
      clearTimeout(p.timer);
      p.resolve(line);
    }
    if (this.buffer.length > MAX_LINE_BYTES) {
      this.buffer = '';
      this.socket.destroy(new Error('answer line too long'));
    }
  }
}
