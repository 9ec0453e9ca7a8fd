import { ConfigError } from '../core/errors.ts';

/** A peer reached through an Iridium SBD modem: `sbd:/dev/ttyUSB0?baud=19200&mailbox_s=300`. */
export interface SbdUrl {
  /** Serial device of the 9602/9603 (or one end of a pseudo-terminal). */
  device: string;
  /** Serial line rate, baud (set with stty); undefined: leave the line as it is (a pty needs nothing). */
  baudRate?: number;
  /** Mailbox check interval, ms (`mailbox_s`); undefined: the peer's default. */
  mailboxIntervalMs?: number;
}

const QUERY_KEYS = ['baud', 'mailbox_s'];
const BAUD_RATES = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800];

/**
 * Parses `sbd:/dev/PATH[?baud=N&mailbox_s=S]`. ConfigError `invalid_value` naming the fault.
 * `baud`: one of the standard rates (9602/9603: 19200 by default); `mailbox_s`: 10..86400 s.
 */
export function parseSbdUrl(url: string): SbdUrl {
  const bad = (why: string) => new ConfigError('invalid_value', `${why} in '${url}': use sbd:/dev/DEVICE with optional ?baud=19200&mailbox_s=300`);
  const m = /^sbd:(\/[^?#\s]+)(?:\?([^#\s]*))?$/i.exec(url);
  if (!m) throw bad('not an sbd: URL with a device path');
  const out: SbdUrl = { device: m[1]! };
  for (const kv of (m[2] ?? '').split('&').filter(Boolean)) {
    const [k, v = ''] = kv.split('=');
    if (!QUERY_KEYS.includes(k!)) throw bad(`unknown option '${k}'`);
    if (!/^\d+$/.test(v)) throw bad(`${k} must be a whole number`);
    const n = Number(v);
    if (k === 'baud') {
      if (!BAUD_RATES.includes(n)) throw bad(`baud ${n} is not one of ${BAUD_RATES.join(', ')}`);
      out.baudRate = n;
    } else {
      if (n < 10 || n > 86_400) throw bad('mailbox_s must be 10..86400');
      out.mailboxIntervalMs = n * 1000;
    }
  }
  return out;
}

/** True for URLs of the `sbd:` scheme (whether or not they are valid). */
export function isSbdUrl(url: string | undefined): boolean {
  return url !== undefined && /^sbd:/i.test(url);
}
