import { InvalidStateError, TransportError } from '../../../core/errors.ts';
import { AtPort, sbdChecksum, type ByteDuplex } from './at-port.ts';

/** Largest mobile-originated message of a 9602/9603, bytes. */
export const SBD_MO_MAX_BYTES = 340;
/** Largest mobile-terminated message, bytes. */
export const SBD_MT_MAX_BYTES = 270;

export interface SbdModemOptions {
  /**
   * Waits between failed SBD sessions, ms; the last one repeats. Default 10 s, 20 s, 40 s, 80 s,
   * then 120 s: a failed session is usually no satellite in view or a blocked sky, which takes
   * tens of seconds to minutes to change, and every attempt costs power.
   */
  backoffMs: readonly number[];
  /** Sessions tried for one message before giving up. Default 8. */
  maxAttempts: number;
  /** Ordinary command timeout, ms. Default 5000. */
  commandTimeoutMs: number;
  /** AT+SBDIX timeout, ms (a session takes tens of seconds). Default 120000. */
  sessionTimeoutMs: number;
  /** Waits `ms` (injectable so tests need not sleep). */
  sleep: (ms: number) => Promise<void>;
}

export const DEFAULT_SBD_MODEM_OPTIONS: Readonly<SbdModemOptions> = Object.freeze({
  backoffMs: Object.freeze([10_000, 20_000, 40_000, 80_000, 120_000]),
  maxAttempts: 8,
  commandTimeoutMs: 5000,
  sessionTimeoutMs: 120_000,
  sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
});

/** The result of one AT+SBDIX session. */
export interface SbdSession {
  /** 0–4: the MO message went through; 5 and above: failed (e.g. 32 no network service, 18 RF drop). */
  moStatus: number;
  momsn: number;
  /** 0 no MT message, 1 one received (read it with AT+SBDRB), 2 mailbox check failed. */
  mtStatus: number;
  mtmsn: number;
  mtLength: number;
  /** MT messages still waiting at the gateway. */
  mtQueued: number;
}

export interface SbdSendReport {
  /** Sessions used (1 = first try). */
  attempts: number;
  momsn: number;
  /** Status of each failed session, in order. */
  failures: number[];
}

/** Parses `+SBDIX: a, b, c, d, e, f`. */
export function parseSbdix(lines: readonly string[]): SbdSession {
  const line = lines.find((l) => l.startsWith('+SBDIX:'));
  const v = line?.slice(7).split(',').map((x) => Number(x.trim()));
  if (!v || v.length !== 6 || v.some((x) => !Number.isInteger(x) || x < 0)) throw new TransportError('protocol', `unexpected AT+SBDIX answer: ${lines.join(' | ')}`);
  return { moStatus: v[0]!, momsn: v[1]!, mtStatus: v[2]!, mtmsn: v[3]!, mtLength: v[4]!, mtQueued: v[5]! };
}

/**
 * Iridium Short Burst Data over a 9602/9603's serial AT interface. `send` writes the message with
 * AT+SBDWB (2-byte checksum) and runs AT+SBDIX sessions with back-off until one succeeds; every
 * session also brings down a waiting mobile-terminated message (AT+SBDRB), and a ring alert
 * (SBDRING, enabled with AT+SBDMTA=1) starts a session to fetch one. Received messages go to
 * `onMessage`. Operations run one at a time (the modem takes one command at a time).
 */
export class SbdModem {
  readonly options: Readonly<SbdModemOptions>;
  private readonly port: AtPort;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Mobile-terminated messages, as they arrive. */
  onMessage: (message: Uint8Array) => void = () => {};
  /** Errors of background work (ring-alert sessions); foreground calls reject instead. */
  onError: (err: Error) => void = () => {};
  /** Counters (monotonic). */
  readonly stats = { sessions: 0, failedSessions: 0, moMessages: 0, mtMessages: 0, ringAlerts: 0 };

  private constructor(io: ByteDuplex, options: Partial<SbdModemOptions>) {
    this.options = Object.freeze({ ...DEFAULT_SBD_MODEM_OPTIONS, ...options });
    this.port = new AtPort(io);
    this.port.onUnsolicited = (line) => {
      if (line !== 'SBDRING') return;
      this.stats.ringAlerts++;
      void this.serial(() => this.fetchMt(true)).catch((err: Error) => this.onError(err));
    };
  }

  /** Opens the modem: echo off, no flow control, ring alerts on, both buffers cleared. */
  static async open(io: ByteDuplex, options: Partial<SbdModemOptions> = {}): Promise<SbdModem> {
    const m = new SbdModem(io, options);
    try {
      await m.serial(async () => {
        // ATE0 may be echoed once (echo is still on while it is read): its own OK ends it.
        await m.ok('AT');
        await m.ok('ATE0');
        await m.ok('AT&K0');
        await m.ok('AT+SBDMTA=1');
        await m.ok('AT+SBDD2');
      });
    } catch (err) {
      m.close();
      throw err;
    }
    return m;
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new InvalidStateError('SbdModem used after close()'));
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => {});
    return run;
  }

  private async ok(cmd: string, timeoutMs = this.options.commandTimeoutMs): Promise<string[]> {
    const lines = await this.port.command(cmd, timeoutMs);
    if (lines[lines.length - 1] !== 'OK') throw new TransportError('protocol', `${cmd}: ${lines.join(' | ')}`);
    return lines;
  }

  /** AT+CSQ: signal 0–5 bars. */
  signalQuality(): Promise<number> {
    return this.serial(async () => {
      const lines = await this.ok('AT+CSQ', Math.max(this.options.commandTimeoutMs, 10_000));
      const m = lines.map((l) => /^\+CSQ:\s*(\d)/.exec(l)).find(Boolean);
      if (!m) throw new TransportError('protocol', `unexpected AT+CSQ answer: ${lines.join(' | ')}`);
      return Number(m[1]);
    });
  }

  /**
   * Sends one mobile-originated message (≤ 340 bytes): TransportError `too_large` above; `timeout`
   * after `maxAttempts` failed sessions (its details list each session's status).
   */
  send(message: Uint8Array): Promise<SbdSendReport> {
    if (message.length === 0 || message.length > SBD_MO_MAX_BYTES) return Promise.reject(new TransportError('too_large', `an SBD message is 1..${SBD_MO_MAX_BYTES} bytes; got ${message.length}`));
    return this.serial(async () => {
      await this.writeMo(message);
      const failures: number[] = [];
      for (let attempt = 1; ; attempt++) {
        const s = await this.session(false);
        if (s.moStatus <= 4) {
          this.stats.moMessages++;
          await this.ok('AT+SBDD0');
          return { attempts: attempt, momsn: s.momsn, failures };
        }
        failures.push(s.moStatus);
        if (attempt >= this.options.maxAttempts) {
          // Clear the MO buffer: a later mailbox session (AT+SBDIX) would otherwise send this
          // message behind the caller's back, and the caller, told it failed, sends it again.
          await this.ok('AT+SBDD0').catch(() => {});
          throw new TransportError('timeout', `no SBD session succeeded in ${attempt} attempts (statuses ${failures.join(', ')}): check the antenna's view of the sky`, { failures });
        }
        const b = this.options.backoffMs;
        await this.options.sleep(b[Math.min(attempt - 1, b.length - 1)] ?? 0);
      }
    });
  }

  /** Checks the mailbox now (a session without a message); received messages go to onMessage. */
  checkMailbox(): Promise<void> {
    return this.serial(() => this.fetchMt(false));
  }

  private async writeMo(message: Uint8Array): Promise<void> {
    const ready = await this.port.command(`AT+SBDWB=${message.length}`, this.options.commandTimeoutMs, ['READY', 'ERROR']);
    if (ready[ready.length - 1] !== 'READY') throw new TransportError('protocol', `AT+SBDWB refused: ${ready.join(' | ')}`);
    const framed = new Uint8Array(message.length + 2);
    framed.set(message, 0);
    const sum = sbdChecksum(message);
    framed[message.length] = sum >> 8;
    framed[message.length + 1] = sum & 0xff;
    const p = this.port.expect(['OK', 'ERROR'], this.options.commandTimeoutMs, 'the AT+SBDWB data');
    this.port.writeRaw(framed);
    const lines = await p;
    const status = lines.find((l) => /^\d$/.test(l));
    if (status !== '0' || lines[lines.length - 1] !== 'OK') {
      const why = { '1': 'timeout', '2': 'checksum', '3': 'size' }[status ?? ''] ?? lines.join(' | ');
      throw new TransportError('protocol', `AT+SBDWB: the modem refused the message (${why})`);
    }
  }

  private async session(answerRing: boolean): Promise<SbdSession> {
    this.stats.sessions++;
    const s = parseSbdix(await this.ok(answerRing ? 'AT+SBDIXA' : 'AT+SBDIX', this.options.sessionTimeoutMs));
    if (s.moStatus > 4) this.stats.failedSessions++;
    if (s.mtStatus === 1) await this.readMt();
    return s;
  }

  private async readMt(): Promise<void> {
    const data = await this.port.readBinaryBuffer(this.options.commandTimeoutMs);
    this.stats.mtMessages++;
    this.onMessage(data);
  }

  /** Sessions until the gateway has nothing queued (bounded by maxAttempts). */
  private async fetchMt(answerRing: boolean): Promise<void> {
    for (let attempt = 1; attempt <= this.options.maxAttempts; attempt++) {
      const s = await this.session(answerRing && attempt === 1);
      if (s.mtStatus !== 2 && s.mtQueued === 0) return;
      if (s.mtStatus === 2) {
        const b = this.options.backoffMs;
        await this.options.sleep(b[Math.min(attempt - 1, b.length - 1)] ?? 0);
      }
    }
  }

  /** Idempotent; waits for nothing (a command in flight fails with `closed`). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.port.close();
  }
}
