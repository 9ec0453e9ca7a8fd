import { closeSync, existsSync, fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import { JournalError } from './journal-error.ts';

/**
 * An append-only file of checksummed records, each made durable (written and fdatasync'd) before
 * append() returns. Layout: an 8-byte header `STCJ` + version 1 + kind + 2 zero bytes, then records
 * `u32 bodyLength | u32 crc32(body) | body` (little endian; body[0] is the record type).
 *
 * Why a log and not better-sqlite3: one small file per journal, no native dependency to build on
 * the edge boxes (ARM, no compiler), and the only access patterns are "append, fsync" and "read
 * all at start"; the live set (unacknowledged frames) is small and rewritten by compaction.
 */
export interface LogRecord {
  type: number;
  body: Uint8Array;
}

export interface RecordLogOptions {
  /** One ASCII letter naming what the file holds (a journal of one kind never opens another's). */
  kind: string;
  /** Most bytes the file may hold after compaction; beyond it append() throws JournalError `full`. */
  maxBytes: number;
}

const HEADER_BYTES = 8;
const RECORD_HEAD_BYTES = 8;
/** A record body never exceeds this (a frame is ≤ 16 KiB): a larger length field is corruption. */
export const MAX_RECORD_BYTES = 64 * 1024;

/** What opening found: records in file order, and how much of a torn tail was cut off. */
export interface OpenedLog {
  log: RecordLog;
  records: LogRecord[];
  /** Bytes of an incomplete last record removed (a crash mid-append): 0 normally. */
  tornBytes: number;
}

function header(kind: string): Uint8Array {
  const h = new Uint8Array(HEADER_BYTES);
  h.set([0x53, 0x54, 0x43, 0x4a, 1, kind.charCodeAt(0) & 0x7f, 0, 0]);
  return h;
}

function encodeRecord(type: number, body: Uint8Array): Uint8Array {
  const full = new Uint8Array(1 + body.length);
  full[0] = type;
  full.set(body, 1);
  const out = new Uint8Array(RECORD_HEAD_BYTES + full.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, full.length, true);
  dv.setUint32(4, crc32(full), true);
  out.set(full, RECORD_HEAD_BYTES);
  return out;
}

function fsyncDir(path: string): void {
  try {
    const fd = openSync(dirname(path), 'r');
    try { fsyncSync(fd); } finally { closeSync(fd); }
  } catch {
    // Some file systems refuse fsync on a directory; the rename is then as durable as they make it.
  }
}

function quarantine(path: string, why: string, offset: number): never {
  const to = `${path}.corrupt-${Date.now()}`;
  renameSync(path, to);
  fsyncDir(path);
  throw new JournalError('corrupt', `${path} is corrupt (${why} at byte ${offset}); it was moved to ${to}: inspect it, then start again (nothing in it was used)`, { path, quarantinedTo: to, offset });
}

export class RecordLog {
  private fd: number | undefined;
  private bytes: number;

  private constructor(readonly path: string, private readonly options: RecordLogOptions, fd: number, bytes: number) {
    this.fd = fd;
    this.bytes = bytes;
  }

  /**
   * Opens (or creates) the log and reads it. A torn last record (shorter than its length field says,
   * or zero-filled) is cut off; anything else that fails the checks — a bad header, a checksum
   * mismatch, an impossible length — moves the file aside and throws JournalError `corrupt`.
   */
  static open(path: string, options: RecordLogOptions): OpenedLog {
    if (!existsSync(path)) {
      const fd = openSync(path, 'w+');
      writeSync(fd, header(options.kind));
      fsyncSync(fd);
      fsyncDir(path);
      return { log: new RecordLog(path, options, fd, HEADER_BYTES), records: [], tornBytes: 0 };
    }
    const data = new Uint8Array(readFileSync(path));
    const want = header(options.kind);
    if (data.length < HEADER_BYTES) {
      // A crash while creating the file: nothing was ever accepted into it.
      if (want.subarray(0, data.length).every((b, i) => b === data[i])) return RecordLog.recreate(path, options, data.length);
      quarantine(path, 'not a journal header', 0);
    }
    for (let i = 0; i < HEADER_BYTES; i++) if (data[i] !== want[i]) quarantine(path, 'not a journal of this kind', 0);
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const records: LogRecord[] = [];
    let off = HEADER_BYTES;
    let torn = 0;
    while (off < data.length) {
      const rest = data.length - off;
      const zeros = data.subarray(off).every((b) => b === 0);
      if (rest < RECORD_HEAD_BYTES) {
        torn = rest;
        break;
      }
      const len = dv.getUint32(off, true);
      if (len === 0 && zeros) {
        torn = rest; // preallocated or zero-filled tail of an interrupted write
        break;
      }
      if (len === 0 || len > MAX_RECORD_BYTES) quarantine(path, `impossible record length ${len}`, off);
      if (RECORD_HEAD_BYTES + len > rest) {
        torn = rest;
        break;
      }
      const body = data.subarray(off + RECORD_HEAD_BYTES, off + RECORD_HEAD_BYTES + len);
      if (crc32(body) !== dv.getUint32(off + 4, true)) quarantine(path, 'checksum mismatch', off);
      records.push({ type: body[0]!, body: body.slice(1) });
      off += RECORD_HEAD_BYTES + len;
    }
    const fd = openSync(path, 'r+');
    if (torn > 0) {
      ftruncateSync(fd, off);
      fsyncSync(fd);
    }
    return { log: new RecordLog(path, options, fd, off), records, tornBytes: torn };
  }

  /**
   * Opens the log and replays its records into the journal `make(log, tornBytes)` builds; a record
   * the journal cannot apply (it throws) closes the file again and the error goes to the caller.
   */
  static openReplayed<J>(path: string, options: RecordLogOptions, make: (log: RecordLog, tornBytes: number) => J, apply: (journal: J, record: LogRecord) => void): J {
    const { log, records, tornBytes } = RecordLog.open(path, options);
    const journal = make(log, tornBytes);
    try {
      for (const r of records) apply(journal, r);
    } catch (err) {
      log.close();
      throw err;
    }
    return journal;
  }

  private static recreate(path: string, options: RecordLogOptions, tornBytes: number): OpenedLog {
    unlinkSync(path);
    const opened = RecordLog.open(path, options);
    return { ...opened, tornBytes };
  }

  /** Bytes in the file now. */
  get sizeBytes(): number {
    return this.bytes;
  }

  get maxBytes(): number {
    return this.options.maxBytes;
  }

  /** True when a record of `bodyBytes` fits under the bound. */
  fits(bodyBytes: number): boolean {
    return this.bytes + RECORD_HEAD_BYTES + 1 + bodyBytes <= this.options.maxBytes;
  }

  /** Appends one record and makes it durable before returning. Throws JournalError `full` beyond the bound. */
  append(type: number, body: Uint8Array): void {
    const fd = this.handle();
    if (body.length + 1 > MAX_RECORD_BYTES) throw new JournalError('full', `a journal record of ${body.length} bytes is larger than ${MAX_RECORD_BYTES}`);
    if (!this.fits(body.length)) {
      throw new JournalError('full', `${this.path} holds ${this.bytes} of at most ${this.options.maxBytes} bytes: wait until the peer acknowledges what is queued, or raise the bound`, { path: this.path, sizeBytes: this.bytes, maxBytes: this.options.maxBytes });
    }
    const rec = encodeRecord(type, body);
    try {
      writeSync(fd, rec, 0, rec.length, this.bytes);
      fdatasyncSync(fd);
    } catch (err) {
      // Leave the file as it was: a partial record is a torn tail the next open cuts off.
      throw new JournalError('io', `cannot write ${this.path}: ${(err as Error).message}`, { path: this.path }, { cause: err });
    }
    this.bytes += rec.length;
  }

  /**
   * Replaces the whole log by `records` (the live state) atomically: a new file is written and
   * fsync'd beside it, then renamed over it, so a crash leaves either the old or the new log.
   */
  rewrite(records: readonly LogRecord[]): void {
    this.handle();
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w');
    let bytes = HEADER_BYTES;
    try {
      writeSync(fd, header(this.options.kind));
      for (const r of records) {
        const rec = encodeRecord(r.type, r.body);
        writeSync(fd, rec, 0, rec.length, bytes);
        bytes += rec.length;
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    fsyncDir(this.path);
    closeSync(this.fd!);
    this.fd = openSync(this.path, 'r+');
    this.bytes = bytes;
  }

  /** Deletes the file (its content is no longer needed) and closes. */
  remove(): void {
    this.close();
    try {
      unlinkSync(this.path);
      fsyncDir(this.path);
    } catch {
      // already gone
    }
  }

  /** Idempotent. */
  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }

  private handle(): number {
    if (this.fd === undefined) throw new JournalError('closed', `${this.path}: journal used after close()`);
    return this.fd;
  }

  /** Bytes on disk (for tests and reports). */
  static sizeOf(path: string): number {
    return existsSync(path) ? fstatSizeOf(path) : 0;
  }
}

function fstatSizeOf(path: string): number {
  const fd = openSync(path, 'r');
  try { return fstatSync(fd).size; } finally { closeSync(fd); }
}
