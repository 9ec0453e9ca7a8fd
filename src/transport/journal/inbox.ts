import { renameSync } from 'node:fs';
import type { Frame } from '../../codec/frame/index.ts';
import { framesFromBytes, framesToBytes, utf8 } from './frame-bytes.ts';
import { InvalidStateError } from '../../core/errors.ts';
import { JournalError } from './journal-error.ts';
import { RecordLog, type LogRecord } from './record-log.ts';

export interface InboxOptions {
  /** Most bytes of the file (a whole session's frames: ~100 bytes per phrase). Default 16 MiB. */
  maxBytes: number;
}

export const DEFAULT_INBOX_OPTIONS: Readonly<InboxOptions> = Object.freeze({ maxBytes: 16 * 1024 * 1024 });

const T_SESSION = 1;
const T_ACCEPTED = 2;
const T_RENDERED = 3;
const T_RESUME_SECRET = 4;

/**
 * The receiver's durable state for one session (issue #16 item 5). Order of the writes, and why:
 * 1. every frame the ARQ receiver takes from a packet (in order or held for a gap: both get
 *    acknowledged, cumulatively or by SACK) is journalled ({@link accepted}) before any ack
 *    covering it can leave (LinkSession calls it synchronously inside the packet handler): an
 *    acknowledged frame is never lost. After a restart the batches are fed to a fresh
 *    ReliableReceiver in the same order, which rebuilds its exact state (cumulative point, held
 *    frames) and yields the frames it had delivered; a resent frame is then a duplicate and dropped;
 * 2. a phrase is marked rendered ({@link rendered}) after its audio was written and its transcript
 *    line appended. A restart replays the journalled frames through the session decoder (its LM
 *    context needs every earlier phrase) and renders only phrases past the rendered mark.
 * Persist-then-hand-over for the frames (no loss), hand-over-then-persist for the rendering (a crash
 * between the audio write and the mark renders that one phrase again; the transcript is the
 * tie-breaker: a restarted receiver also skips seqs its transcript file already has).
 */
export class InboxJournal {
  private sessionIdValue: number | undefined;
  private resumeSecretValue: string | undefined;
  private readonly batches: Frame[][] = [];
  private renderedUpTo = -1;
  private closed = false;

  private constructor(private readonly log: RecordLog, readonly tornBytes: number) {}

  static open(path: string, options: Partial<InboxOptions> = {}): InboxJournal {
    const o = { ...DEFAULT_INBOX_OPTIONS, ...options };
    return RecordLog.openReplayed(path, { kind: 'I', maxBytes: o.maxBytes }, (log, tornBytes) => new InboxJournal(log, tornBytes), (j, r) => j.apply(r));
  }

  private apply(r: LogRecord): void {
    if (r.type === T_SESSION) this.sessionIdValue = utf8.decode<{ sessionId: number }>(r.body).sessionId;
    else if (r.type === T_ACCEPTED) this.batches.push(framesFromBytes(r.body, this.log.path)); else if (r.type === T_RENDERED) this.renderedUpTo = Math.max(this.renderedUpTo, utf8.decode<{ seq: number }>(r.body).seq);
    else if (r.type === T_RESUME_SECRET) this.resumeSecretValue = utf8.decode<{ secret: string }>(r.body).secret;
    else throw new JournalError('corrupt', `${this.log.path}: unknown record type ${r.type}`, { path: this.log.path });
  }

  /** The resume secret the session's sender showed (plain WebSocket links, src/transport/ws.ts), if any. */
  get resumeSecret(): string | undefined {
    return this.resumeSecretValue;
  }

  /** Keeps the session's resume secret, so a restarted receiver still refuses a stranger naming the session. */
  setResumeSecret(secret: string): void {
    this.ensureOpen();
    if (this.sessionIdValue === undefined) throw new InvalidStateError(`${this.log.path}: begin() a session before its resume secret`);
    if (this.resumeSecretValue === secret) return;
    this.log.append(T_RESUME_SECRET, utf8.encode({ secret }));
    this.resumeSecretValue = secret;
  }

  /** The session this state belongs to (undefined: none yet). */
  get sessionId(): number | undefined {
    return this.sessionIdValue;
  }

  /** The frames accepted so far, one batch per packet, in arrival order (LinkSession.restoreReceiver replays them). */
  accepted(): readonly (readonly Frame[])[] {
    return this.batches;
  }

  /** Highest phrase seq whose output was written (-1: none). */
  get renderedSeq(): number {
    return this.renderedUpTo;
  }

  get sizeBytes(): number {
    return this.log.sizeBytes;
  }

  begin(sessionId: number): void {
    this.ensureOpen();
    if (this.sessionIdValue !== undefined) throw new InvalidStateError(`${this.log.path} already holds session ${this.sessionIdValue}`);
    this.log.append(T_SESSION, utf8.encode({ sessionId }));
    this.sessionIdValue = sessionId;
  }

  /** Journals the frames the ARQ receiver just took from one packet; durable on return. Throws JournalError `full`. */
  accept(frames: readonly Frame[]): void {
    this.ensureOpen();
    if (frames.length === 0) return;
    this.log.append(T_ACCEPTED, framesToBytes(frames));
    this.batches.push([...frames]);
  }

  /** Marks phrase `seq` as written to the output; durable on return. */
  rendered(seq: number): void {
    this.ensureOpen();
    if (seq <= this.renderedUpTo) return;
    this.log.append(T_RENDERED, utf8.encode({ seq }));
    this.renderedUpTo = seq;
  }

  /** The session was delivered and rendered in full: the state is no longer needed. */
  complete(): void {
    this.ensureOpen();
    this.log.remove();
    this.closed = true;
  }

  /** Moves the state of an unfinished session aside (`.abandoned-<ms>`), e.g. when a different session arrives; returns the new path. */
  abandon(): string {
    this.ensureOpen();
    this.log.close();
    this.closed = true;
    const to = `${this.log.path}.abandoned-${Date.now()}`;
    renameSync(this.log.path, to);
    return to;
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
