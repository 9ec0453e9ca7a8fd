import { DecodeError, UsageError } from '../../core/errors.ts';

/**
 * AX.25 UI frames (pure; AX.25 2.2 §3.12 and §6.3.1), the envelope of amateur mode (issue #14):
 * every packet names its sender (identification is mandatory on the ham bands) and its addressee.
 *
 *   destination (7) | source (7) | [digipeaters, 7 each] | control 0x03 (UI) | PID 0xF0 (no L3) | info
 *
 * An address is 6 callsign characters (upper-case letters and digits, space-padded) each shifted
 * left one bit, then an SSID byte `C R R S S S S E`: C the command/response bit (set on the
 * destination of a command frame, clear on its source), R R reserved (sent as 1), SSID 0–15, and E
 * the extension bit, set on the last address only. The FCS is the TNC's business.
 */

export interface Callsign {
  /** 1–6 upper-case letters or digits. */
  call: string;
  /** Secondary station identifier, 0–15. */
  ssid: number;
}

export const AX25_ADDRESS_BYTES = 7;
export const AX25_CONTROL_UI = 0x03;
export const AX25_PID_NO_LAYER3 = 0xf0;
/** destination + source + control + PID. */
export const AX25_UI_OVERHEAD_BYTES = 2 * AX25_ADDRESS_BYTES + 2;
/** AX.25 allows up to 8 digipeaters in the address field. */
const MAX_DIGIPEATERS = 8;

const CALLSIGN = /^([A-Z0-9]{1,6})(?:-(1[0-5]|[0-9]))?$/;

/** Parses `N0CALL` or `N0CALL-1` (case-insensitive); anything else is a UsageError saying what is allowed. */
export function parseCallsign(text: string): Callsign {
  const m = CALLSIGN.exec(text.trim().toUpperCase());
  if (!m) throw new UsageError(`bad callsign '${text}': use 1–6 letters or digits with an optional SSID 0–15, e.g. N0CALL or N0CALL-1`);
  return { call: m[1]!, ssid: m[2] === undefined ? 0 : Number(m[2]) };
}

/** `N0CALL` for SSID 0, `N0CALL-7` otherwise. */
export const formatCallsign = (c: Callsign): string => (c.ssid === 0 ? c.call : `${c.call}-${c.ssid}`);

export const sameStation = (a: Callsign, b: Callsign): boolean => a.call === b.call && a.ssid === b.ssid;

function encodeAddress(out: Uint8Array, at: number, c: Callsign, commandBit: boolean, last: boolean): void {
  for (let i = 0; i < 6; i++) out[at + i] = (i < c.call.length ? c.call.charCodeAt(i) : 0x20) << 1;
  out[at + 6] = (commandBit ? 0x80 : 0) | 0x60 | (c.ssid << 1) | (last ? 1 : 0);
}

/** A UI command frame from `source` to `destination` carrying `info` (callsigns as from {@link parseCallsign}). */
export function encodeAx25Ui(destination: Callsign, source: Callsign, info: Uint8Array): Uint8Array {
  for (const c of [destination, source]) if (!CALLSIGN.test(formatCallsign(c))) throw new UsageError(`bad callsign '${formatCallsign(c)}'`);
  const out = new Uint8Array(AX25_UI_OVERHEAD_BYTES + info.length);
  encodeAddress(out, 0, destination, true, false);
  encodeAddress(out, AX25_ADDRESS_BYTES, source, false, true);
  out[14] = AX25_CONTROL_UI;
  out[15] = AX25_PID_NO_LAYER3;
  out.set(info, AX25_UI_OVERHEAD_BYTES);
  return out;
}

function decodeAddress(frame: Uint8Array, at: number): Callsign {
  let call = '';
  let ended = false;
  for (let i = 0; i < 6; i++) {
    const byte = frame[at + i]!;
    if (byte & 1) throw new DecodeError('malformed', 'AX.25 address character with its low bit set');
    const ch = String.fromCharCode(byte >> 1);
    if (ch === ' ') {
      ended = true;
      continue;
    }
    if (ended || !/[A-Z0-9]/.test(ch)) throw new DecodeError('malformed', `AX.25 address has an invalid character (0x${byte.toString(16)})`);
    call += ch;
  }
  if (call.length === 0) throw new DecodeError('malformed', 'AX.25 address is empty');
  return { call, ssid: (frame[at + 6]! >> 1) & 0x0f };
}

export interface Ax25UiFrame {
  destination: Callsign;
  source: Callsign;
  /** Digipeaters the frame names (not used by stcts, parsed so relayed frames still decode). */
  via: Callsign[];
  info: Uint8Array;
}

/**
 * Parses a UI frame (DecodeError `truncated` / `malformed` / `unsupported_version`): anything that is
 * not UI with PID 0xF0 is `unsupported_version` (e.g. a connected-mode frame or APRS with another
 * PID sharing the channel), so callers can count it apart from line damage.
 */
export function decodeAx25Ui(frame: Uint8Array): Ax25UiFrame {
  const addresses: Callsign[] = [];
  let at = 0;
  for (;;) {
    if (frame.length < at + AX25_ADDRESS_BYTES) throw new DecodeError('truncated', 'AX.25 frame ends inside its address field');
    addresses.push(decodeAddress(frame, at));
    const last = (frame[at + 6]! & 1) === 1;
    at += AX25_ADDRESS_BYTES;
    if (last) break;
    if (addresses.length === 2 + MAX_DIGIPEATERS) throw new DecodeError('malformed', 'AX.25 address field longer than 10 addresses');
  }
  if (addresses.length < 2) throw new DecodeError('malformed', 'AX.25 address field needs a destination and a source');
  if (frame.length < at + 2) throw new DecodeError('truncated', 'AX.25 frame ends before control and PID');
  if (frame[at] !== AX25_CONTROL_UI || frame[at + 1] !== AX25_PID_NO_LAYER3) {
    throw new DecodeError('unsupported_version', `not an AX.25 UI frame with PID 0xF0 (control 0x${frame[at]!.toString(16)}, PID 0x${frame[at + 1]!.toString(16)})`);
  }
  return { destination: addresses[0]!, source: addresses[1]!, via: addresses.slice(2), info: frame.subarray(at + 2) };
}
