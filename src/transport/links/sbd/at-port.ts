import { TransportError } from '../../../core/errors.ts';

/** A duplex byte stream (a serial port, one end of a pseudo-terminal, a test double). */
export interface ByteDuplex {
  write(bytes: Uint8Array): void;
  onData(listener: (bytes: Uint8Array) => void): void;
  close(): void;
}

/** Longest line or buffered input the port keeps, bytes (a modem never sends more; garbage is cut). */
const MAX_BUFFER_BYTES = 4096;

type Pending =
  | { kind: 'lines'; finals: readonly string[]; lines: string[]; resolve: (lines: string[]) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }
  | { kind: 'sbdrb'; resolve: (bytes: Uint8Array) => void; reject: (err: Error) => void; timer: NodeJS.Timeout };

/**
 * AT command channel of an Iridium 9602/9603 (ISU AT Command Reference): commands end with CR,
 * responses are CR LF framed lines ending in a final result (`OK`, `ERROR`, `READY` after
 * +SBDWB); AT+SBDRB answers in binary (2-byte length, message, 2-byte checksum) before its `OK`.
 * Lines that arrive outside a command, and `SBDRING` at any time, are unsolicited. One command at a
 * time (the modem's rule); the caller serializes.
 */
export class AtPort {
  private buf = new Uint8Array(0);
  private pending: Pending | undefined;
  private closed = false;
  /** Unsolicited result codes (e.g. `SBDRING`). */
  onUnsolicited: (line: string) => void = () => {};

  constructor(private readonly io: ByteDuplex) {
    io.onData((b) => this.feed(b));
  }

  /** Sends `cmd` + CR and resolves with the response lines; the last is the final result. */
  command(cmd: string, timeoutMs: number, finals: readonly string[] = ['OK', 'ERROR']): Promise<string[]> {
    const p = this.expect(finals, timeoutMs, cmd);
    this.io.write(new TextEncoder().encode(`${cmd}\r`));
    return p;
  }

  /** Waits for a final result without sending anything (after raw bytes, e.g. +SBDWB data). */
  expect(finals: readonly string[], timeoutMs: number, what = 'response'): Promise<string[]> {
    this.ensureIdle();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new TransportError('timeout', `modem did not answer ${what} within ${timeoutMs} ms`)), timeoutMs);
      this.pending = { kind: 'lines', finals, lines: [], resolve, reject, timer };
    });
  }

  /** AT+SBDRB: the binary mobile-terminated buffer, checksum verified. */
  readBinaryBuffer(timeoutMs: number): Promise<Uint8Array> {
    this.ensureIdle();
    const p = new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new TransportError('timeout', `modem did not answer AT+SBDRB within ${timeoutMs} ms`)), timeoutMs);
      this.pending = { kind: 'sbdrb', resolve, reject, timer };
    });
    this.io.write(new TextEncoder().encode('AT+SBDRB\r'));
    return p;
  }

  /** Raw bytes (the +SBDWB payload after READY). */
  writeRaw(bytes: Uint8Array): void {
    if (this.closed) throw new TransportError('closed', 'AT port closed');
    this.io.write(bytes);
  }

  /** Idempotent. A command in flight fails with `closed`. */
  close(): void {
    if (this.closed) return;
    this.fail(new TransportError('closed', 'AT port closed'));
    this.closed = true;
    this.io.close();
  }

  private ensureIdle(): void {
    if (this.closed) throw new TransportError('closed', 'AT port closed');
    if (this.pending) throw new TransportError('protocol', 'one AT command at a time');
  }

  private fail(err: Error): void {
    const p = this.pending;
    if (!p) return;
    clearTimeout(p.timer);
    this.pending = undefined;
    p.reject(err);
  }

  private feed(bytes: Uint8Array): void {
    const merged = new Uint8Array(this.buf.length + bytes.length);
    merged.set(this.buf, 0);
    merged.set(bytes, this.buf.length);
    this.buf = merged.length > MAX_BUFFER_BYTES ? merged.slice(merged.length - MAX_BUFFER_BYTES) : merged;
    this.drain();
  }

  private drain(): void {
    for (;;) {
      const p = this.pending;
      if (p?.kind === 'sbdrb') {
        // Echo is off (ATE0), so the answer starts with the binary length.
        if (this.buf.length < 2) return;
        const len = (this.buf[0]! << 8) | this.buf[1]!;
        if (this.buf.length < 2 + len + 2) return;
        const data = this.buf.slice(2, 2 + len);
        const sum = (this.buf[2 + len]! << 8) | this.buf[3 + len]!;
        this.buf = this.buf.slice(4 + len);
        // Then the final OK; the message is handed over with it.
        const good = sum === sbdChecksum(data);
        this.pending = {
          kind: 'lines', finals: ['OK', 'ERROR'], lines: [], timer: p.timer, reject: p.reject,
          resolve: (lines) => (good && lines[lines.length - 1] === 'OK' ? p.resolve(data) : p.reject(new TransportError('protocol', good ? 'AT+SBDRB failed' : 'AT+SBDRB: checksum mismatch in the mobile-terminated message'))),
        };
        continue;
      }
      const nl = this.buf.findIndex((b) => b === 0x0d || b === 0x0a);
      if (nl < 0) return;
      const line = new TextDecoder().decode(this.buf.subarray(0, nl)).trim();
      this.buf = this.buf.slice(nl + 1);
      if (line === '') continue;
      if (line === 'SBDRING' || !p) {
        this.onUnsolicited(line);
        continue;
      }
      p.lines.push(line);
      if (p.finals.includes(line) || (p.finals.includes('ERROR') && /^\+CM[ES] ERROR/.test(line))) {
        clearTimeout(p.timer);
        this.pending = undefined;
        p.resolve(p.lines);
      }
    }
  }
}

/** The ISU's 2-byte checksum: the low 16 bits of the sum of the message bytes (sent high byte first). */
export function sbdChecksum(bytes: Uint8Array): number {
  let s = 0;
  for (const b of bytes) s = (s + b) & 0xffff;
  return s;
}
