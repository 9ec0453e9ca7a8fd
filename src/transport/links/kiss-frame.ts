import { EncodeError, UsageError } from '../../core/errors.ts';
import { KISS_MAX_FRAME_BYTES } from './cost.ts';

/**
 * KISS framing (pure; K9NG/KA9Q "KISS TNC" spec, http://www.ax25.net/kiss.aspx): a frame is
 * `FEND <type> <data, escaped> FEND`. The type byte's high nibble is the TNC port, its low nibble the
 * command: 0 data, 1 TXDELAY, 2 persistence, 3 slot time, 4 TX tail, 5 full duplex, 6 set hardware.
 * In the data, FEND becomes `FESC TFEND` and FESC becomes `FESC TFESC`. Only data frames go on
 * the air; the others set the TNC's channel access and are never answered.
 */

export const FEND = 0xc0;
export const FESC = 0xdb;
export const TFEND = 0xdc;
export const TFESC = 0xdd;

export const KISS_COMMAND = Object.freeze({
  data: 0,
  txDelay: 1,
  persistence: 2,
  slotTime: 3,
  txTail: 4,
  fullDuplex: 5,
  setHardware: 6,
} as const);

export type KissCommandName = keyof typeof KISS_COMMAND;

export interface KissFrame {
  /** TNC port, 0–15 (the type byte's high nibble). */
  port: number;
  /** Command, 0–15 (low nibble); 0 = data. */
  command: number;
  data: Uint8Array;
}

const checkNibble = (value: number, what: string): void => {
  if (!Number.isInteger(value) || value < 0 || value > 15) throw new EncodeError('invalid_value', `KISS ${what} must be an integer 0–15, got ${value}`);
};

/**
 * One escaped KISS frame, FEND to FEND. The type byte is escaped like the data (as direwolf does):
 * port 12 data is 0xC0 and port 13 command 11 is 0xDB.
 */
export function encodeKissFrame(frame: KissFrame): Uint8Array {
  checkNibble(frame.port, 'port');
  checkNibble(frame.command, 'command');
  const type = (frame.port << 4) | frame.command;
  let escapes = type === FEND || type === FESC ? 1 : 0;
  for (const b of frame.data) if (b === FEND || b === FESC) escapes++;
  const out = new Uint8Array(frame.data.length + escapes + 3);
  out[0] = FEND;
  let j = 1;
  const put = (b: number): void => {
    if (b === FEND) {
      out[j++] = FESC;
      out[j++] = TFEND;
    } else if (b === FESC) {
      out[j++] = FESC;
      out[j++] = TFESC;
    } else out[j++] = b;
  };
  put(type);
  for (const b of frame.data) put(b);
  out[j] = FEND;
  return out;
}

/** TNC channel-access parameters a host may set (all optional: unset = the TNC's own configuration). */
export interface KissTncParameters {
  /** Key-up delay before the frame, ms (sent in 10 ms units, 0–2550). */
  txDelayMs?: number;
  /** p-persistence, 0–255 (transmit with probability (p+1)/256 in each free slot). */
  persistence?: number;
  /** Slot time of p-persistence, ms (10 ms units, 0–2550). */
  slotTimeMs?: number;
  /** Hold after the frame before unkeying, ms (10 ms units, 0–2550). */
  txTailMs?: number;
  /** Full duplex: transmit without waiting for a clear channel. */
  fullDuplex?: boolean;
}

const tenMs = (ms: number, what: string): number => {
  const units = Math.round(ms / 10);
  if (!Number.isFinite(ms) || units < 0 || units > 255) throw new UsageError(`KISS ${what} must be 0–2550 ms, got ${ms}`);
  return units;
};

/** Checks the parameters (UsageError) and returns them as KISS command frames, in a fixed order. */
export function encodeKissParameters(params: KissTncParameters, port = 0): Uint8Array[] {
  const frames: Uint8Array[] = [];
  const put = (command: number, value: number): void => {
    frames.push(encodeKissFrame({ port, command, data: Uint8Array.of(value) }));
  };
  if (params.txDelayMs !== undefined) put(KISS_COMMAND.txDelay, tenMs(params.txDelayMs, 'TXDELAY'));
  if (params.persistence !== undefined) {
    const p = params.persistence;
    if (!Number.isInteger(p) || p < 0 || p > 255) throw new UsageError(`KISS persistence must be an integer 0–255, got ${p}`);
    put(KISS_COMMAND.persistence, p);
  }
  if (params.slotTimeMs !== undefined) put(KISS_COMMAND.slotTime, tenMs(params.slotTimeMs, 'slot time'));
  if (params.txTailMs !== undefined) put(KISS_COMMAND.txTail, tenMs(params.txTailMs, 'TX tail'));
  if (params.fullDuplex !== undefined) put(KISS_COMMAND.fullDuplex, params.fullDuplex ? 1 : 0);
  return frames;
}

/** Why the stream decoder threw bytes away. */
export interface KissDecoderStats {
  /** Frames decoded (any command). */
  frames: number;
  /** Bytes outside any frame (before the first FEND, line noise). */
  garbageBytes: number;
  /** Frames with a bad escape or without a type byte. */
  malformed: number;
  /** Frames longer than the limit (dropped up to the next FEND). */
  tooLarge: number;
}

export interface KissStreamDecoderOptions {
  /** Largest data part of a frame, bytes (after unescaping). Default {@link KISS_MAX_FRAME_BYTES}. */
  maxDataBytes: number;
}

/**
 * Incremental KISS decoder for a byte stream (TCP, serial): frames may be split across chunks or
 * several may share one. Memory is bounded by `maxDataBytes`; anything malformed or oversized is
 * counted and skipped up to the next FEND, never thrown. Bytes before the first FEND are garbage
 * (a frame starts with FEND); empty frames (FEND FEND, a sync pattern some TNCs send) are ignored.
 */
export class KissStreamDecoder {
  readonly stats: KissDecoderStats = { frames: 0, garbageBytes: 0, malformed: 0, tooLarge: 0 };
  private readonly maxBytes: number;
  private readonly buf: Uint8Array;
  private len = 0;
  /** 'idle' before the first FEND; 'in' inside a frame; 'skip' dropping an oversized or bad one. */
  private mode: 'idle' | 'in' | 'skip' = 'idle';
  private escaped = false;
  private badEscape = false;

  constructor(options: Partial<KissStreamDecoderOptions> = {}) {
    const max = options.maxDataBytes ?? KISS_MAX_FRAME_BYTES;
    if (!Number.isInteger(max) || max < 1) throw new UsageError(`maxDataBytes must be a positive integer, got ${max}`);
    this.maxBytes = max;
    this.buf = new Uint8Array(max + 1); // + the type byte
  }

  /** Forgets a partial frame (a new connection starts clean); the counters stay. */
  reset(): void {
    this.mode = 'idle';
    this.len = 0;
    this.escaped = false;
    this.badEscape = false;
  }

  /** Feeds bytes; returns the frames they complete (possibly none). */
  push(chunk: Uint8Array): KissFrame[] {
    const out: KissFrame[] = [];
    for (const b of chunk) {
      if (b === FEND) {
        if (this.mode === 'in') this.finish(out);
        this.mode = 'in';
        this.len = 0;
        this.escaped = false;
        this.badEscape = false;
        continue;
      }
      if (this.mode === 'idle') {
        this.stats.garbageBytes++;
        continue;
      }
      if (this.mode === 'skip') continue;
      let v = b;
      if (this.escaped) {
        this.escaped = false;
        if (b === TFEND) v = FEND;
        else if (b === TFESC) v = FESC;
        else this.badEscape = true;
      } else if (b === FESC) {
        this.escaped = true;
        continue;
      }
      if (this.len >= this.buf.length) {
        this.stats.tooLarge++;
        this.mode = 'skip';
        continue;
      }
      this.buf[this.len++] = v;
    }
    return out;
  }

  private finish(out: KissFrame[]): void {
    if (this.len === 0) return; // FEND FEND
    if (this.badEscape || this.escaped) {
      this.stats.malformed++;
      return;
    }
    const type = this.buf[0]!;
    this.stats.frames++;
    out.push({ port: type >> 4, command: type & 0x0f, data: this.buf.slice(1, this.len) });
  }
}
