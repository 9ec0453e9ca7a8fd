import type { AckPayload, CodecMode, Frame } from '../../codec/frame/index.ts';
import { isReliable } from '../reliability/classes.ts';
import { framesFromBytes, framesToBytes, utf8 } from './frame-bytes.ts';
import { InvalidStateError } from '../../core/errors.ts';
import { JournalError } from './journal-error.ts';
import { RecordLog, type LogRecord } from './record-log.ts';

export interface OutboxOptions {
  /** Most bytes the journal file may hold; beyond it {@link OutboxJournal.append} throws JournalError `full`. Default 4 MiB. */
  maxBytes: number;
}

export const DEFAULT_OUTBOX_OPTIONS: Readonly<OutboxOptions> = Object.freeze({ maxBytes: 4 * 1024 * 1024 });

const T_SESSION = 1;
const T_FRAME = 2;
const T_ACK = 3;

interface AckRecord {
  cumulative: number;
  sacked: number[];
  nextSeq?: number;
  ended?: boolean;
  lastTime?: number;
}

/** The session an outbox belongs to (written once, first). */
export interface OutboxSession {
  sessionId: number;
  mode: CodecMode;
  /** Free-form: what the caller needs to resume (e.g. the input file). */
  meta?: Record<string, unknown>;
}

/**
 * The sender's durable outbox (issue #16 item 5): every reliable frame is on disk before it counts
 * as accepted ({@link append} returns after fdatasync), and leaves the live set when the peer's
 * ack covers it. After a crash, {@link pending} is what the peer has not acknowledged, in seq order,
 * with the same session id and seqs: the frames are already coded, so resending them resumes the
 * session exactly (the text coder's state on both sides depends on them). Best-effort prosody
 * detail is not journalled (it is never retransmitted either).
 */
export class OutboxJournal {
  private session: OutboxSession | undefined;
  private readonly live = new Map<number, { frame: Frame; bytes: Uint8Array }>();
  private seqEnd = 0;
  private timeEnd = 0;
  private ackedBelow = 0;
  private liveBytes = 0;
  private closed = false;

  private constructor(private readonly log: RecordLog, readonly tornBytes: number) {}

  /** Opens (creating if needed) the outbox at `path`; a corrupt file is quarantined (JournalError `corrupt`). */
  static open(path: string, options: Partial<OutboxOptions> = {}): OutboxJournal {
    const o = { ...DEFAULT_OUTBOX_OPTIONS, ...options };
    return RecordLog.openReplayed(path, { kind: 'O', maxBytes: o.maxBytes }, (log, tornBytes) => new OutboxJournal(log, tornBytes), (j, r) => j.apply(r));
  }

  private apply(r: LogRecord): void {
    if (r.type === T_SESSION) this.session = utf8.decode<OutboxSession>(r.body);
    else if (r.type === T_FRAME) {
      for (const frame of framesFromBytes(r.body, this.log.path)) this.keep(frame, r.body);
    } else if (r.type === T_ACK) this.applyAck(utf8.decode<AckRecord>(r.body));
    else throw new JournalError('corrupt', `${this.log.path}: unknown record type ${r.type}`, { path: this.log.path });
  }

  private keep(frame: Frame, bytes: Uint8Array): void {
    if (frame.seq < this.ackedBelow) return;
    this.live.set(frame.seq, { frame, bytes });
    this.liveBytes += bytes.length + 9;
    this.seqEnd = Math.max(this.seqEnd, frame.seq + 1);
    if (frame.payload.type === 'end') this.endSeen = true;
    this.timeEnd = Math.max(this.timeEnd, frame.time);
  }

  private applyAck(a: AckRecord, removed?: Frame[]): boolean {
    let changed = false;
    // (A compacted file keeps these although the frames that set them were acknowledged and dropped.)
    if (a.nextSeq !== undefined) this.seqEnd = Math.max(this.seqEnd, a.nextSeq);
    if (a.ended) this.endSeen = true;
    if (a.lastTime !== undefined) this.timeEnd = Math.max(this.timeEnd, a.lastTime);
    const drop = (seq: number) => {
      const e = this.live.get(seq);
      if (!e) return;
      this.live.delete(seq);
      removed?.push(e.frame);
      this.liveBytes -= e.bytes.length + 9;
      changed = true;
    };
    if (a.cumulative > this.ackedBelow) {
      for (const seq of [...this.live.keys()]) if (seq < a.cumulative) drop(seq);
      this.ackedBelow = a.cumulative;
      changed = true;
    }
    for (const s of a.sacked) drop(s);
    return changed;
  }

  /** The session this outbox holds, or undefined when it is empty (nothing to resume). */
  get current(): OutboxSession | undefined {
    return this.session;
  }

  /** True when the session ended and the peer acknowledged everything: nothing left to do but {@link complete}. */
  get done(): boolean {
    return this.endSeen && this.live.size === 0;
  }

  /** Unacknowledged reliable frames, in seq order. */
  pending(): Frame[] {
    return [...this.live.values()].map((e) => e.frame).sort((a, b) => a.seq - b.seq);
  }

  /** One past the highest seq ever journalled (the next frame of a resumed session takes it). */
  get nextSeq(): number {
    return this.seqEnd;
  }

  /** Latest frame time journalled (wire units): an End appended on resume must not go back in time. */
  get lastTime(): number {
    return this.timeEnd;
  }

  /** Everything below this seq was acknowledged by the peer. */
  get acknowledgedBelow(): number {
    return this.ackedBelow;
  }

  /** True when the session's End frame was journalled (the session needs no new frames). */
  get ended(): boolean {
    return this.endSeen;
  }

  private endSeen = false;

  get sizeBytes(): number {
    return this.log.sizeBytes;
  }

  /** Starts a session (the outbox must be empty: resume or {@link complete} the old one first). */
  begin(session: OutboxSession): void {
    this.ensureOpen();
    if (this.session) throw new InvalidStateError(`${this.log.path} still holds session ${this.session.sessionId}: resume it or complete() it first`);
    this.log.append(T_SESSION, utf8.encode(session));
    this.session = session;
  }

  /**
   * Journals a frame before it may be sent: returns once it is durable. Best-effort frames are not
   * kept (returns false). Throws JournalError `full` at the size bound, after compacting once.
   */
  append(frame: Frame): boolean {
    this.ensureOpen();
    if (!this.session) throw new JournalError('closed', `${this.log.path}: begin() a session before appending frames`);
    if (!isReliable(frame)) return false;
    const bytes = framesToBytes([frame]);
    if (!this.log.fits(bytes.length)) this.compact();
    this.log.append(T_FRAME, bytes);
    this.keep(frame, bytes);
    return true;
  }

  /** Records the peer's acknowledgement (only when it removes something): those frames leave the outbox; returns them. */
  acked(ack: AckPayload): Frame[] {
    this.ensureOpen();
    const removed: Frame[] = [];
    const sacked: number[] = [];
    for (let i = 0; i < 64; i++) if ((ack.sack >> BigInt(i)) & 1n && this.live.has(ack.cumulative + 1 + i)) sacked.push(ack.cumulative + 1 + i);
    const rec = { cumulative: Math.min(ack.cumulative, this.seqEnd), sacked };
    if (rec.cumulative <= this.ackedBelow && sacked.length === 0) return removed;
    if (!this.log.fits(64 + sacked.length * 8)) this.compact();
    // An ack record that does not fit is not fatal: the frames stay, and are resent after a crash (dropped as duplicates).
    if (this.log.fits(64 + sacked.length * 8)) this.log.append(T_ACK, utf8.encode(rec));
    this.applyAck(rec, removed);
    if (this.log.sizeBytes > 64 * 1024 && this.log.sizeBytes > 4 * this.liveBytes) this.compact();
    return removed;
  }

  /** Rewrites the file with only the live state (session, ack point, unacknowledged frames). */
  compact(): void {
    this.ensureOpen();
    const records: LogRecord[] = [];
    if (this.session) records.push({ type: T_SESSION, body: utf8.encode(this.session) });
    // The highest seq and the End stay known even when acknowledged: a resumed session continues after them.
    records.push({ type: T_ACK, body: utf8.encode({ cumulative: this.ackedBelow, sacked: [], nextSeq: this.seqEnd, ended: this.endSeen, lastTime: this.timeEnd } satisfies AckRecord) });
    for (const e of [...this.live.values()].sort((a, b) => a.frame.seq - b.frame.seq)) records.push({ type: T_FRAME, body: e.bytes });
    this.log.rewrite(records);
  }

  /** The session is over (everything acknowledged, End included): the outbox becomes empty. */
  complete(): void {
    this.ensureOpen();
    this.log.remove();
    this.closed = true;
  }

  /** Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.log.close();
  }

  private ensureOpen(): void {
    if (this.closed) throw new JournalError('closed', `${this.log.path}: journal used after close()`);
  }
}
