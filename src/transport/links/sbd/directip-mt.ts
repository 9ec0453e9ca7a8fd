import { connect } from 'node:net';
import { DecodeError, TransportError } from '../../../core/errors.ts';
import { directIpMessageLength, DIRECTIP_PREAMBLE_BYTES, encodeMtMessage, parseMtConfirmation, type MtConfirmation, type MtMessage } from './directip.ts';

/**
 * Sends one mobile-terminated message to Iridium's DirectIP MT server and returns its
 * confirmation (status > 0: queued for the modem at that place). TransportError `refused` /
 * `timeout` / `closed` when the server cannot be reached or does not answer; DecodeError when the
 * answer is not a confirmation.
 */
export function sendDirectIpMt(host: string, port: number, m: MtMessage, timeoutMs = 20_000): Promise<MtConfirmation> {
  const bytes = encodeMtMessage(m);
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    const got: Buffer[] = [];
    let have = 0;
    let settled = false;
    const done = (err: Error | undefined, c?: MtConfirmation) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      if (err) reject(err);
      else resolve(c!);
    };
    const timer = setTimeout(() => done(new TransportError('timeout', `DirectIP MT ${host}:${port} did not confirm within ${timeoutMs} ms`)), timeoutMs);
    s.on('connect', () => s.write(bytes));
    s.on('data', (b: Buffer) => {
      got.push(b);
      have += b.length;
      if (have < DIRECTIP_PREAMBLE_BYTES) return;
      const all = new Uint8Array(Buffer.concat(got));
      try {
        const total = directIpMessageLength(all);
        if (have < total) return;
        done(undefined, parseMtConfirmation(all.subarray(0, total)));
      } catch (err) {
        done(err instanceof DecodeError ? err : new DecodeError('malformed', String(err)));
      }
    });
    s.on('error', (err) => done(new TransportError('refused', `DirectIP MT ${host}:${port}: ${err.message}`, undefined, { cause: err })));
    s.on('close', () => done(new TransportError('closed', `DirectIP MT ${host}:${port} closed without a confirmation`)));
  });
}
