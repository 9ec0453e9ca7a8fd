import { isIP } from 'node:net';
import { UsageError } from '../../core/errors.ts';
import { parseCallsign } from './ax25.ts';
import type { KissTncParameters } from './kiss-frame.ts';

/** Where the TNC is: its KISS TCP port (direwolf's KISSPORT) or a serial device / pseudo-terminal. */
export type KissEndpoint = { transport: 'tcp'; host: string; port: number } | { transport: 'serial'; path: string };

/** Options of a {@link KissLink}; callers pass `Partial<>`, merged once with {@link DEFAULT_KISS_LINK_OPTIONS}. */
export interface KissLinkOptions {
  /** TNC port (the KISS type byte's high nibble), 0–15. Default 0. */
  tncPort: number;
  /** Channel-access parameters sent to the TNC at every attach; unset ones are left as configured there. */
  tnc: KissTncParameters;
  /** Amateur mode: our callsign (`N0CALL-1`); every packet becomes an AX.25 UI frame from it. */
  callsign: string | undefined;
  /**
   * Amateur mode: the peer's callsign, the UI frames' destination; frames from anyone else are
   * dropped (`foreign_source`). Without it the destination is {@link KISS_BROADCAST_DESTINATION}
   * and any source is accepted.
   */
  peerCallsign: string | undefined;
  /** Modem rate on the air, baud, for the cost model (1200 VHF AFSK, 300 HF, 9600 G3RUH). Default 1200. */
  modemBaud: number;
  /** Serial line rate for `kiss:/dev/…`, baud (set with stty). Default 9600. */
  serialBaud: number;
  /** First retry after the TNC is lost, ms, doubled up to `reconnectMaxMs`. Defaults 250 / 5000. */
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** Bytes waiting to be written to the TNC before further datagrams are dropped (`queue_full`). Default 64 KiB. */
  maxWriteQueueBytes: number;
}

export const DEFAULT_KISS_LINK_OPTIONS: Readonly<KissLinkOptions> = Object.freeze({
  tncPort: 0,
  tnc: Object.freeze({}),
  callsign: undefined,
  peerCallsign: undefined,
  modemBaud: 1200,
  serialBaud: 9600,
  reconnectMinMs: 250,
  reconnectMaxMs: 5000,
  maxWriteQueueBytes: 64 * 1024,
});

/** Destination of amateur-mode frames when no peer callsign is given. */
export const KISS_BROADCAST_DESTINATION = 'STCTS';

export interface KissUrl {
  endpoint: KissEndpoint;
  options: Partial<KissLinkOptions>;
}

const USAGE =
  'use kiss+tcp://HOST:PORT or kiss:/dev/DEVICE, with optional ?modem=BAUD&baud=SERIAL_BAUD&tncport=N&txdelay=MS&persist=0-255&slottime=MS&txtail=MS&fullduplex=0|1&callsign=CALL[-SSID]&peer=CALL[-SSID]';

/**
 * Parses a KISS link URL into an endpoint and options:
 * - `kiss+tcp://HOST:PORT` (IPv6 in brackets), e.g. direwolf's KISSPORT `kiss+tcp://127.0.0.1:8001`;
 * - `kiss:/dev/ttyUSB0?baud=9600` (a serial device or direwolf's pseudo-terminal `kiss:/tmp/kisstnc`).
 * Query: `modem` (air baud, cost model), `baud` (serial line rate; `kiss:` only), `tncport` (0–15),
 * `txdelay` / `slottime` / `txtail` (ms), `persist` (0–255), `fullduplex` (0/1), `callsign`, `peer`.
 * Anything unknown or out of range is a {@link UsageError} showing the form.
 */
export function parseKissUrl(url: string): KissUrl {
  const bad = (why: string) => new UsageError(`${why} in link URL '${url}': ${USAGE}`);
  const q = url.indexOf('?');
  const base = q < 0 ? url : url.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  let endpoint: KissEndpoint;
  const tcp = /^kiss\+tcp:\/\/(?:\[([^\]]*)\]|([^:/?#@[\]]+)):(\d{1,5})\/?$/i.exec(base);
  if (tcp) {
    const port = Number(tcp[3]);
    if (port < 1 || port > 65535) throw bad(`port ${port} out of range`);
    const host = tcp[1] ?? tcp[2]!;
    if (tcp[1] !== undefined && isIP(host) !== 6) throw bad(`'[${host}]' is not an IPv6 address`);
    endpoint = { transport: 'tcp', host, port };
  } else {
    const serial = /^kiss:(?:\/\/)?(\/[^?#]+)$/i.exec(base);
    if (!serial) throw bad(/^kiss(\+tcp)?:/i.test(base) ? 'no HOST:PORT or device path' : 'not a kiss: or kiss+tcp:// URL');
    endpoint = { transport: 'serial', path: decodeURIComponent(serial[1]!) };
  }
  const options: Partial<KissLinkOptions> = {};
  const tnc: KissTncParameters = {};
  const int = (key: string, v: string, min: number, max: number): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max) throw bad(`${key}=${v} is not an integer ${min}–${max}`);
    return n;
  };
  for (const [key, v] of query) {
    switch (key) {
      case 'modem':
        options.modemBaud = int(key, v, 50, 1_000_000);
        break;
      case 'baud':
        if (endpoint.transport !== 'serial') throw bad('baud= (the serial line rate) on a TCP TNC; the air rate is modem=');
        options.serialBaud = int(key, v, 50, 4_000_000);
        break;
      case 'tncport':
        options.tncPort = int(key, v, 0, 15);
        break;
      case 'txdelay':
        tnc.txDelayMs = int(key, v, 0, 2550);
        break;
      case 'persist':
        tnc.persistence = int(key, v, 0, 255);
        break;
      case 'slottime':
        tnc.slotTimeMs = int(key, v, 0, 2550);
        break;
      case 'txtail':
        tnc.txTailMs = int(key, v, 0, 2550);
        break;
      case 'fullduplex':
        if (!['0', '1', 'true', 'false'].includes(v)) throw bad(`fullduplex=${v} is not 0 or 1`);
        tnc.fullDuplex = v === '1' || v === 'true';
        break;
      case 'callsign':
        options.callsign = parseCallsignOrUsage(v, bad);
        break;
      case 'peer':
        options.peerCallsign = parseCallsignOrUsage(v, bad);
        break;
      default:
        throw bad(`unknown parameter '${key}'`);
    }
  }
  if (Object.keys(tnc).length > 0) options.tnc = tnc;
  return { endpoint, options };
}

function parseCallsignOrUsage(v: string, bad: (why: string) => UsageError): string {
  try {
    parseCallsign(v);
  } catch {
    throw bad(`bad callsign '${v}' (1–6 letters or digits, optional -SSID 0–15)`);
  }
  return v.toUpperCase();
}

/** The URL of an endpoint (without options), for descriptions and logs. */
export const formatKissEndpoint = (e: KissEndpoint): string =>
  e.transport === 'tcp' ? `kiss+tcp://${isIP(e.host) === 6 ? `[${e.host}]` : e.host}:${e.port}` : `kiss:${e.path}`;
