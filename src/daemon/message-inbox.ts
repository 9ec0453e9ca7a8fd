import { crc32 } from 'node:zlib';
import { decodePart, MessageIncompleteError, reassembleMessage, type MessagePart } from '../codec/message/index.ts';
import { DecodeError } from '../core/errors.ts';
import { JournalError, RecordLog, type LogRecord } from '../transport/journal/index.ts';

/** Options of {@link MessageInbox}. */
export interface MessageInboxOptions {
  /** Most bytes of the journal file. Default 1 MiB. */
  maxBytes: number;
  /**
   * Delivered messages remembered for dedupe, newest kept. Default 1024: far more than a link
   * resends (a resend follows a crash within one part's session), and wire ids repeat every 128.
   */
  maxCompleted: number;
}

export const DEFAULT_MESSAGE_INBOX_OPTIONS: Readonly<MessageInboxOptions> = Object.freeze({ maxBytes: 1024 * 1024, maxCompleted: 1024 });

/** A message whose parts are all here, waiting to be delivered (decoded, written) and then {@link MessageInbox.delivered}. */
export interface CompleteMessage {
  /**
   * Stable local name: `<wire id>-<crc32 of the message, 8 hex>` (`s-…` for a single-part message,
   * which carries no id). The same message received again has the same key.
   */
  key: string;
  /** Wire id, null for a single-part message. */
  messageId: number | null;
  /** The joined message (header + coded items). */
  message: Uint8Array;
  partCount: number;
}

/** What {@link MessageInbox.receive} did with a part. */
export type ReceiveOutcome =
  | { kind: 'held'; key: string; have: number; count: number }
  | { kind: 'complete'; message: CompleteMessage }
  | { kind: 'duplicate'; key: string };

interface Completed {
  key: string;
  messageId: number | null;
  /** crc32 of each part's bytes, by index. */
  partCrcs: number[];
}

interface Group {
  messageId: number | null;
  count: number;
  parts: Map<number, { part: MessagePart; bytes: Uint8Array }>;
}

const T_PART = 1;
const T_DONE = 2;
const T_ABANDON = 3;

const groupKey = (p: MessagePart) => (p.messageId === undefined ? `s-${crc32(p.payload).toString(16).padStart(8, '0')}` : `g${p.messageId}/${p.count}`);
const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const unjson = <T>(b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)) as T;

/**
 * The receiving side of a message link, durable (issue #16 items 4–5), on a {@link RecordLog}:
 * - every new part is journalled (fdatasync) before {@link receive} returns, so a restart
 *   mid-message loses nothing: the parts wait in the journal until the message is complete;
 * - a complete message is handed out until {@link delivered} records it (after its audio and
 *   transcript were written): a crash in between delivers it again, under the same key, so the
 *   writer can make that idempotent;
 * - delivered messages are remembered (the last `maxCompleted`, with each part's checksum), so a
 *   part the sender resent after its own crash is a duplicate and dropped: each message is
 *   delivered exactly once across both sides' restarts.
 * A single-part message carries no id: its identity is its content (the same recording sent
 * twice on purpose, bit for bit, is delivered once within the remembered window).
 */
export class MessageInbox {
  private readonly options: Readonly<MessageInboxOptions>;
  private readonly groups = new Map<string, Group>();
  private completed: Completed[] = [];
  private closed = false;
  /** Counters since open. */
  readonly counts = { parts: 0, duplicates: 0, undecodable: 0, abandoned: 0 };

  private constructor(private readonly log: RecordLog, options: Readonly<MessageInboxOptions>, readonly tornBytes: number) {
    this.options = options;
  }

  static open(path: string, options: Partial<MessageInboxOptions> = {}): MessageInbox {
    const o = Object.freeze({ ...DEFAULT_MESSAGE_INBOX_OPTIONS, ...options });
    return RecordLog.openReplayed(path, { kind: 'M', maxBytes: o.maxBytes }, (log, torn) => new MessageInbox(log, o, torn), (b, r) => b.apply(r));
  }

  private apply(r: LogRecord): void {
    if (r.type === T_PART) {
      let part: MessagePart;
      try {
        part = decodePart(r.body);
      } catch (err) {
        throw new JournalError('corrupt', `${this.log.path}: a journalled part does not decode (${(err as DecodeError).code})`, { path: this.log.path });
      }
      this.hold(part, r.body);
    } else if (r.type === T_DONE) this.applyDone(unjson<Completed & { group: string }>(r.body));
    else if (r.type === T_ABANDON) this.groups.delete(unjson<{ group: string }>(r.body).group);
    else throw new JournalError('corrupt', `${this.log.path}: unknown record type ${r.type}`, { path: this.log.path });
  }

  private hold(part: MessagePart, bytes: Uint8Array): void {
    const k = groupKey(part);
    let g = this.groups.get(k);
    if (!g) this.groups.set(k, (g = { messageId: part.messageId ?? null, count: part.count, parts: new Map() }));
    g.parts.set(part.index, { part, bytes: bytes.slice() });
  }

  private applyDone(d: Completed & { group: string }): void {
    this.groups.delete(d.group);
    this.completed.push({ key: d.key, messageId: d.messageId, partCrcs: d.partCrcs });
    if (this.completed.length > this.options.maxCompleted) this.completed = this.completed.slice(-this.options.maxCompleted);
  }

  private isDelivered(part: MessagePart, bytes: Uint8Array): Completed | undefined {
    const id = part.messageId ?? null;
    const crc = crc32(bytes);
    return this.completed.find((c) => c.messageId === id && c.partCrcs.length === part.count && c.partCrcs[part.index] === crc);
  }

  /**
   * Takes one part as received from the link (durable on return when new). DecodeError for bytes
   * that are not a part (nothing is journalled); JournalError `full` when the journal is full.
   */
  receive(bytes: Uint8Array): ReceiveOutcome {
    this.ensureOpen();
    let part: MessagePart;
    try {
      part = decodePart(bytes);
    } catch (err) {
      if (err instanceof DecodeError) this.counts.undecodable++;
      throw err;
    }
    const k = groupKey(part);
    const done = this.isDelivered(part, bytes);
    if (done) {
      this.counts.duplicates++;
      return { kind: 'duplicate', key: done.key };
    }
    const g = this.groups.get(k);
    const have = g?.parts.get(part.index);
    if (have && sameBytes(have.bytes, bytes)) {
      this.counts.duplicates++;
      return { kind: 'duplicate', key: k };
    }
    if (have) {
      // Same id and index, other bytes: the id came round again (it repeats every 128 messages)
      // while an older message stayed incomplete. The older one cannot be finished any more.
      this.append(T_ABANDON, json({ group: k }));
      this.groups.delete(k);
      this.counts.abandoned++;
    }
    this.append(T_PART, bytes);
    this.hold(part, bytes);
    this.counts.parts++;
    const ready = this.completeGroup(k);
    if (ready) return { kind: 'complete', message: ready };
    const now = this.groups.get(k)!;
    return { kind: 'held', key: k, have: now.parts.size, count: now.count };
  }

  private completeGroup(k: string): CompleteMessage | undefined {
    const g = this.groups.get(k);
    if (!g || g.parts.size < g.count) return undefined;
    try {
      const r = reassembleMessage([...g.parts.values()].map((p) => p.part));
      return { key: `${g.messageId ?? 's'}-${crc32(r.message).toString(16).padStart(8, '0')}`, messageId: g.messageId, message: r.message, partCount: g.count };
    } catch (err) {
      if (err instanceof MessageIncompleteError) return undefined;
      throw err;
    }
  }

  /** Complete messages not yet {@link delivered} (after a restart: those whose delivery was cut short). */
  ready(): CompleteMessage[] {
    return [...this.groups.keys()].flatMap((k) => this.completeGroup(k) ?? []);
  }

  /** Records that a complete message was delivered (durable on return); its parts leave the journal. */
  delivered(key: string): void {
    this.ensureOpen();
    for (const [k, g] of this.groups) {
      const m = this.completeGroup(k);
      if (m?.key !== key) continue;
      const partCrcs = Array.from({ length: g.count }, (_, i) => crc32(g.parts.get(i)!.bytes));
      const rec = { group: k, key, messageId: g.messageId, partCrcs };
      this.append(T_DONE, json(rec));
      this.applyDone(rec);
      return;
    }
  }

  /** Incomplete messages: key, parts held, part count. */
  incomplete(): Array<{ key: string; have: number; count: number }> {
    return [...this.groups.entries()].filter(([, g]) => g.parts.size < g.count).map(([key, g]) => ({ key, have: g.parts.size, count: g.count }));
  }

  get sizeBytes(): number {
    return this.log.sizeBytes;
  }

  private append(type: number, body: Uint8Array): void {
    if (!this.log.fits(body.length)) this.compact();
    this.log.append(type, body);
  }

  /** Rewrites the file with the live state: the remembered deliveries and the parts held. */
  compact(): void {
    this.ensureOpen();
    const records: LogRecord[] = this.completed.map((c) => ({ type: T_DONE, body: json({ group: '', ...c }) }));
    for (const g of this.groups.values()) for (const p of g.parts.values()) records.push({ type: T_PART, body: p.bytes });
    this.log.rewrite(records);
  }

  /** Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.log.close();
  }

  private ensureOpen(): void {
    if (this.closed) throw new JournalError('closed', `${this.log.path}: message inbox used after close()`);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
