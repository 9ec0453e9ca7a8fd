import type { IncomingMessage } from 'node:http';
import { TransportError } from '../core/errors.ts';

/**
 * Reads a request body with a size cap (bytes): a declared or actual body beyond it rejects with
 * `TransportError('overflow')` and stops reading. For the local-client routes (limits.http_body_bytes).
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBytes) {
      req.resume();
      reject(new TransportError('overflow', `request body of ${declared} bytes exceeds ${maxBytes}`));
      return;
    }
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > maxBytes) {
        req.destroy();
        reject(new TransportError('overflow', `request body exceeds ${maxBytes} bytes`));
        return;
      }
      parts.push(d);
    });
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', (e) => reject(new TransportError('closed', e.message)));
  });
}
