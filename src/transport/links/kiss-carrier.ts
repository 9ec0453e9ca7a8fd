import { execFile } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { ReadStream } from 'node:tty';
import { promisify } from 'node:util';
import { TransportError } from '../../core/errors.ts';
import type { KissEndpoint } from './kiss-url.ts';

/**
 * The byte stream under a KISS link: a TCP connection to the TNC's KISS port, or a serial device /
 * pseudo-terminal in raw mode. One attach = one {@link TncConnection}; the {@link KissLink} makes a
 * new one when it is lost.
 */
export interface TncConnection {
  /** Writes bytes; false when the stream is backed up (still queued). */
  write(bytes: Uint8Array): boolean;
  /** Bytes queued in the stream and not yet written. */
  readonly pendingBytes: number;
  onData(handler: (chunk: Uint8Array) => void): void;
  /** Called once when the stream ends (not after destroy()), with the error that ended it if any. */
  onEnd(handler: (error: TransportError | undefined) => void): void;
  /** Flushes what is queued (≤ 500 ms) and closes. */
  destroy(): void;
}

const execFileAsync = promisify(execFile);

function wrap(socket: Socket, what: string): TncConnection {
  let ended = false;
  let endHandler: (error: TransportError | undefined) => void = () => {};
  let lastError: TransportError | undefined;
  socket.on('error', (err: NodeJS.ErrnoException) => {
    lastError = new TransportError('closed', `${what}: ${err.code ?? err.message}`, { code: err.code }, { cause: err });
  });
  socket.on('close', () => {
    if (ended) return;
    ended = true;
    endHandler(lastError ?? new TransportError('closed', `${what} closed`));
  });
  return {
    write: (bytes) => socket.write(bytes),
    get pendingBytes() {
      return socket.writableLength;
    },
    onData: (h) => void socket.on('data', h),
    onEnd: (h) => {
      endHandler = h;
    },
    destroy: () => {
      ended = true;
      // Let queued bytes (e.g. TNC parameters just written) reach the TNC, but never wait long.
      socket.end();
      setTimeout(() => socket.destroy(), 500).unref();
    },
  };
}

/** Opens a TCP connection to a KISS port (TransportError `refused` / `timeout`). */
function connectTcp(host: string, port: number, timeoutMs: number): Promise<TncConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const what = `KISS TNC at ${host}:${port}`;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new TransportError('timeout', `${what}: no connection within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new TransportError('refused', `${what}: ${err.code ?? err.message} (is the TNC running with KISSPORT ${port}?)`, { code: err.code }, { cause: err }));
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.setNoDelay(true);
      resolve(wrap(socket, what));
    });
  });
}

/**
 * Opens a serial device or pty for KISS: `stty raw -echo` at the line rate (8N1, no modem control
 * lines so open never waits for carrier), then non-blocking reads and writes through a tty stream.
 */
async function openSerial(path: string, baud: number): Promise<TncConnection> {
  const what = `KISS serial device ${path}`;
  try {
    await execFileAsync('stty', ['-F', path, 'raw', '-echo', 'cs8', '-parenb', '-cstopb', 'clocal', String(baud)], { timeout: 5000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT' && !e.stderr) throw new TransportError('refused', `${what}: stty not found (install coreutils)`, undefined, { cause: err });
    throw new TransportError('refused', `${what}: cannot set it up (${(e.stderr ?? e.message).trim()}); check that it exists and is readable and writable`, undefined, { cause: err });
  }
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new TransportError('refused', `${what}: ${e.code ?? e.message}`, { code: e.code }, { cause: err });
  }
  let stream: ReadStream;
  try {
    stream = new ReadStream(fd);
  } catch (err) {
    closeSync(fd);
    throw new TransportError('refused', `${what} is not a terminal device`, undefined, { cause: err });
  }
  return wrap(stream, what);
}

/** Opens the byte stream to the TNC named by `endpoint`. */
export function openTncConnection(endpoint: KissEndpoint, o: { serialBaud: number; connectTimeoutMs?: number }): Promise<TncConnection> {
  return endpoint.transport === 'tcp' ? connectTcp(endpoint.host, endpoint.port, o.connectTimeoutMs ?? 5000) : openSerial(endpoint.path, o.serialBaud);
}
