import { execFile } from 'node:child_process';
import { constants, openSync } from 'node:fs';
import tty from 'node:tty';
import { promisify } from 'node:util';
import { TransportError } from '../../../core/errors.ts';
import type { ByteDuplex } from './at-port.ts';

/**
 * Opens a serial device (e.g. /dev/ttyUSB0, or one end of a `socat` pseudo-terminal pair) as a
 * {@link ByteDuplex}. With `baudRate`, the line is first set raw at that rate with `stty` (Debian
 * coreutils; 9602/9603 default 19200 8N1, no flow control): a pty needs none of it.
 */
export async function openSerialDevice(path: string, options: { baudRate?: number } = {}): Promise<ByteDuplex> {
  if (options.baudRate !== undefined) {
    try {
      await promisify(execFile)('stty', ['-F', path, String(options.baudRate), 'raw', '-echo', '-crtscts', 'cs8', '-cstopb', '-parenb']);
    } catch (err) {
      throw new TransportError('refused', `cannot configure ${path}: ${(err as Error).message}`);
    }
  }
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_NOCTTY);
  } catch (err) {
    throw new TransportError('refused', `cannot open ${path}: ${(err as Error).message}`);
  }
  if (!tty.isatty(fd)) throw new TransportError('refused', `${path} is not a serial device or terminal`);
  const input = new tty.ReadStream(fd);
  const output = new tty.WriteStream(fd);
  let closed = false;
  // An unplugged USB modem (or a pty whose other end closed) is EIO on read and write: without a
  // listener that error would end the process. The line goes quiet instead, so the driver's
  // command times out (TransportError) and its owner reopens the device.
  const gone = () => {
    closed = true;
    input.destroy();
    output.destroy();
  };
  input.on('error', gone);
  output.on('error', gone);
  return {
    write(bytes) {
      if (!closed) output.write(bytes);
    },
    onData(listener) {
      input.on('data', (b: Buffer) => listener(new Uint8Array(b.buffer, b.byteOffset, b.length)));
    },
    close() {
      if (closed) return;
      closed = true;
      input.destroy();
      output.destroy();
    },
  };
}
