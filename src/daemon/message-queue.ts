import { InvalidStateError } from '../core/errors.ts';
import { JournalError, RecordLog, type LogRecord } from '../transport/journal/index.ts';

/** Options of {@link MessageQueue}. */
export interface MessageQueueOptions {
  /** Most bytes the journal file may hold; beyond it {@link MessageQueue.enqueue} throws JournalError `full`. Default 1 MiB (~3000 full SBD parts). */
  maxBytes: number;
}

export const DEFAULT_MESSAGE_QUEUE_OPTIONS: Readonly<MessageQueueOptions> = Object.freeze({ maxBytes: 1024 * 1024 });

/** What a caller hands to {@link MessageQueue.enqueue}. */
export interface NewQueuedMessage {
  /** Peer the message is for. */
  peer: string;
  /** The message's parts as they go on the link (each one SBD session), in order. */
  parts: readonly Uint8Array[];
  /** Wire id the parts carry (0..127), null for a single-part message; from {@link MessageQueue.reserveId}. */
  messageId: number | null;
  /** Seconds of speech the message carries (reports only). */
  speechSeconds?: number;
  transcript?: string;
}

/** A message in the queue. */
export interface QueuedMessage extends Required<NewQueuedMessage> {
  /** Local sequence number: unique in this queue, increasing in acceptance order. */
  seq: number;
  /** When it was accepted, ms since the epoch. */
  acceptedAtMs: number;
  /** Per part: the peer's gateway took it (an SBD session reported MO status 0–4). */
  sent: boolean[];
}

/** The next part to send. */
export interface QueuedPart {
  seq: number;
  peer: string;
  messageId: number | null;
  /** 0-based. */
  index: number;
  count: number;
  bytes: Uint8Array;
}

const T_MESSAGE = 1;
const T_SENT = 2;
const T_COUNTER = 3;
/** Parts of one message (the container's limit, src/codec/message/parts.ts). */
const MAX_PARTS = 16;
/** Largest part accepted, bytes (the raw channel's; SBD parts are ≤ 340). */
const MAX_PART_BYTES = 4096;

function encodeMessageRecord(m: QueuedMessage): Uint8Array {
  const meta = new TextEncoder().encode(JSON.stringify({ seq: m.seq, peer: m.peer, messageId: m.messageId, speechSeconds: m.speechSeconds, transcript: m.transcript, acceptedAtMs: m.acceptedAtMs }));
  const size = 2 + meta.length + m.parts.reduce((s, p) => s + 2 + p.length, 0);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, meta.length, true);
  out.set(meta, 2);
  let at = 2 + meta.length;
  for (const p of m.parts) {
    dv.setUint16(at, p.length, true);
    out.set(p, at + 2);
    at += 2 + p.length;
  }
  return out;
}

function decodeMessageRecord(body: Uint8Array, path: string): QueuedMessage {
  const bad = (why: string) => new JournalError('corrupt', `${path}: a queued message record ${why}`, { path });
  if (body.length < 2) throw bad('is truncated');
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const metaLen = dv.getUint16(0, true);
  if (2 + metaLen > body.length) throw bad('is truncated');
  let meta: Omit<QueuedMessage, 'parts' | 'sent'>;
  try {
    meta = JSON.parse(new TextDecoder().decode(body.subarray(2, 2 + metaLen))) as typeof meta;
  } catch {
    throw bad('has unreadable metadata');
  }
  const parts: Uint8Array[] = [];
  let at = 2 + metaLen;
  while (at < body.length) {
    if (at + 2 > body.length) throw bad('is truncated');
    const n = dv.getUint16(at, true);
    if (at + 2 + n > body.length) throw bad('is truncated');
    parts.push(body.slice(at + 2, at + 2 + n));
    at += 2 + n;
  }
  if (parts.length === 0 || parts.length > MAX_PARTS || !Number.isInteger(meta.seq)) throw bad('is malformed');
  return { ...meta, parts, sent: parts.map(() => false) };
}

/**
 * The durable queue of outgoing voice messages of a message link (issue #16 items 4–5), on a
 * {@link RecordLog} (fdatasync'd append-only, checksummed, bounded, corrupt files quarantined).
 * A message counts as accepted once {@link enqueue} returns: its parts are on disk. A part leaves
 * the queue with a `sent` record ({@link markSent}) once the link reported it delivered (for SBD:
 * the session's MO status 0–4). After a crash, {@link nextPart} resumes with the first part never
 * marked sent, in acceptance order; a part whose delivery was not recorded before the crash is
 * sent again (the receiver's (message id, part) dedupe, ./message-inbox.ts, makes the message
 * exactly-once; the link's own duplicate is unavoidable: the modem cannot be asked afterwards).
 */
export class MessageQueue {
  private readonly messages: QueuedMessage[] = [];
  private readonly recordBytes = new Map<number, number>();
  private seqEnd = 0;
  private idNext = 0;
  private liveBytes = 0;
  private closed = false;

  private constructor(private readonly log: RecordLog, readonly tornBytes: number) {}

  /** Opens (creating if needed) the queue at `path`; a corrupt file is quarantined (JournalError `corrupt`). */
  static open(path: string, options: Partial<MessageQueueOptions> = {}): MessageQueue {
    const o = { ...DEFAULT_MESSAGE_QUEUE_OPTIONS, ...options };
    return RecordLog.openReplayed(path, { kind: 'Q', maxBytes: o.maxBytes }, (log, torn) => new MessageQueue(log, torn), (q, r) => q.apply(r));
  }

  private apply(r: LogRecord): void {
    if (r.type === T_MESSAGE) {
      const m = decodeMessageRecord(r.body, this.log.path);
      this.keep(m, r.body.length);
    } else if (r.type === T_SENT) {
      const { seq, index } = JSON.parse(new TextDecoder().decode(r.body)) as { seq: number; index: number };
      this.applySent(seq, index);
    } else if (r.type === T_COUNTER) {
      this.seqEnd = Math.max(this.seqEnd, (JSON.parse(new TextDecoder().decode(r.body)) as { nextSeq: number }).nextSeq);
    } else throw new JournalError('corrupt', `${this.log.path}: unknown record type ${r.type}`, { path: this.log.path });
  }

  private keep(m: QueuedMessage, recordBytes: number): void {
    this.messages.push(m);
    this.recordBytes.set(m.seq, recordBytes + 9);
    this.liveBytes += recordBytes + 9;
    this.seqEnd = Math.max(this.seqEnd, m.seq + 1);
  }

  private applySent(seq: number, index: number): boolean {
    const i = this.messages.findIndex((m) => m.seq === seq);
    const m = this.messages[i];
    if (!m || m.sent[index] !== false) return false;
    m.sent[index] = true;
    if (m.sent.every(Boolean)) {
      this.messages.splice(i, 1);
      this.liveBytes -= this.recordBytes.get(seq) ?? 0;
      this.recordBytes.delete(seq);
    }
    return true;
  }

  /**
   * The wire id the next message should carry (7 bits, from the local sequence counter so ids
   * repeat only every 128 messages). Not durable: an id reserved and never enqueued is skipped.
   */
  reserveId(): number {
    this.ensureOpen();
    this.idNext = Math.max(this.idNext, this.seqEnd);
    return this.idNext++ & 0x7f;
  }

  /**
   * Journals a message (durable on return: only then is it accepted). Throws JournalError `full`
   * at the size bound (after compacting once): nothing more is accepted until parts are sent.
   */
  enqueue(message: NewQueuedMessage): QueuedMessage {
    this.ensureOpen();
    if (message.parts.length === 0 || message.parts.length > MAX_PARTS) throw new InvalidStateError(`a queued message has 1..${MAX_PARTS} parts; got ${message.parts.length}`);
    for (const p of message.parts) if (p.length === 0 || p.length > MAX_PART_BYTES) throw new InvalidStateError(`a queued part has 1..${MAX_PART_BYTES} bytes; got ${p.length}`);
    const m: QueuedMessage = {
      seq: this.seqEnd++,
      peer: message.peer,
      messageId: message.messageId,
      parts: message.parts.map((p) => p.slice()),
      speechSeconds: message.speechSeconds ?? 0,
      transcript: message.transcript ?? '',
      acceptedAtMs: Date.now(),
      sent: message.parts.map(() => false),
    };
    const body = encodeMessageRecord(m);
    if (!this.log.fits(body.length)) this.compact();
    this.log.append(T_MESSAGE, body);
    this.keep(m, body.length);
    return m;
  }

  /** The first part not yet sent, in acceptance order (undefined: nothing to send). */
  nextPart(): QueuedPart | undefined {
    for (const m of this.messages) {
      const index = m.sent.indexOf(false);
      if (index >= 0) return { seq: m.seq, peer: m.peer, messageId: m.messageId, index, count: m.parts.length, bytes: m.parts[index]! };
    }
    return undefined;
  }

  /** Records that part `index` of message `seq` was delivered to the link (durable on return); a second call is a no-op. */
  markSent(seq: number, index: number): void {
    this.ensureOpen();
    const m = this.messages.find((x) => x.seq === seq);
    if (!m || m.sent[index] !== false) return;
    this.log.append(T_SENT, new TextEncoder().encode(JSON.stringify({ seq, index })));
    this.applySent(seq, index);
    if (this.log.sizeBytes > 64 * 1024 && this.log.sizeBytes > 4 * this.liveBytes) this.compact();
  }

  /** Messages with parts still to send, in acceptance order (copies of the flags). */
  pending(): QueuedMessage[] {
    return this.messages.map((m) => ({ ...m, sent: [...m.sent] }));
  }

  /** Counts for status reports. */
  stats(): { messages: number; parts: number; bytes: number; fileBytes: number; maxBytes: number } {
    let parts = 0;
    let bytes = 0;
    for (const m of this.messages) {
      m.sent.forEach((s, i) => {
        if (!s) {
          parts++;
          bytes += m.parts[i]!.length;
        }
      });
    }
    return { messages: this.messages.length, parts, bytes, fileBytes: this.log.sizeBytes, maxBytes: this.log.maxBytes };
  }

  /** Rewrites the file with the live state only (the counter, unsent messages and their sent marks). */
  compact(): void {
    this.ensureOpen();
    const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
    const records: LogRecord[] = [{ type: T_COUNTER, body: enc({ nextSeq: this.seqEnd }) }];
    for (const m of this.messages) {
      records.push({ type: T_MESSAGE, body: encodeMessageRecord(m) });
      m.sent.forEach((s, index) => s && records.push({ type: T_SENT, body: enc({ seq: m.seq, index }) }));
    }
    this.log.rewrite(records);
  }

  get sizeBytes(): number {
    return this.log.sizeBytes;
  }

  /** Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.log.close();
  }

  private ensureOpen(): void {
    if (this.closed) throw new JournalError('closed', `${this.log.path}: message queue used after close()`);
  }
}
