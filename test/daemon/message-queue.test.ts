import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodePart, splitMessage } from '../../src/codec/message/index.ts';
import { DecodeError } from '../../src/core/errors.ts';
import { MessageInbox } from '../../src/daemon/message-inbox.ts';
import { MessageQueue } from '../../src/daemon/message-queue.ts';
import { JournalError } from '../../src/transport/journal/index.ts';
import { errorCodeOf } from '../fixtures/errors.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'stcts-mq-'));
/** A message of `n` bytes (first bit 0: a message header) split into SBD parts with id `id`. */
function parts(n: number, id: number, maxPartBytes = 340, salt = 0): Uint8Array[] {
  const message = Uint8Array.from({ length: n }, (_, i) => (i === 0 ? 0x09 : (i * 31 + id * 7 + salt) & 255));
  return splitMessage(message, maxPartBytes, id).map(encodePart);
}

describe('MessageQueue (durable outgoing voice messages)', () => {
  it('a reopened queue resumes with the first unsent part, in acceptance order; sent parts never come back', () => {
    const path = join(tmp(), 'q.journal');
    let q = MessageQueue.open(path);
    const a = q.enqueue({ peer: 'shore', parts: parts(700, q.reserveId()), messageId: 0, speechSeconds: 12 });
    const b = q.enqueue({ peer: 'shore', parts: parts(100, q.reserveId()), messageId: null });
    expect(a.parts).toHaveLength(3);
    q.markSent(a.seq, 0);
    q.markSent(a.seq, 1);
    q.close(); // as after kill -9: nothing else is flushed on close
    q = MessageQueue.open(path);
    expect(q.nextPart()).toMatchObject({ seq: a.seq, index: 2, count: 3 });
    q.markSent(a.seq, 2);
    q.markSent(a.seq, 2); // twice: no-op
    expect(q.nextPart()).toMatchObject({ seq: b.seq, index: 0, count: 1 });
    q.markSent(b.seq, 0);
    expect(q.nextPart()).toBeUndefined();
    q.close();
    q = MessageQueue.open(path);
    expect(q.nextPart()).toBeUndefined();
    expect(q.stats()).toMatchObject({ messages: 0, parts: 0 });
    // The sequence counter survives: a new message does not reuse a seq.
    expect(q.enqueue({ peer: 'shore', parts: parts(50, 5), messageId: null }).seq).toBe(b.seq + 1);
    q.close();
  });

  it('keeps the parts byte for byte; compaction keeps the live state and the counter', () => {
    const path = join(tmp(), 'q.journal');
    let q = MessageQueue.open(path);
    const msgs = Array.from({ length: 6 }, (_, i) => parts(400 + i * 90, i));
    const seqs = msgs.map((p, i) => q.enqueue({ peer: 'shore', parts: p, messageId: i, transcript: `m${i}` }).seq);
    for (let i = 0; i < 3; i++) msgs[i]!.forEach((_, k) => q.markSent(seqs[i]!, k));
    const before = q.sizeBytes;
    q.compact();
    expect(q.sizeBytes).toBeLessThan(before);
    q.close();
    q = MessageQueue.open(path);
    const pending = q.pending();
    expect(pending.map((m) => m.transcript)).toEqual(['m3', 'm4', 'm5']);
    expect(pending[0]!.parts).toEqual(msgs[3]);
    expect(q.enqueue({ peer: 'shore', parts: parts(10, 9), messageId: null }).seq).toBe(6);
    q.close();
  });

  it('is bounded: JournalError full, and nothing half-accepted', () => {
    const q = MessageQueue.open(join(tmp(), 'q.journal'), { maxBytes: 2000 });
    q.enqueue({ peer: 'shore', parts: parts(1000, 1), messageId: 1 });
    expect(errorCodeOf(() => q.enqueue({ peer: 'shore', parts: parts(1000, 2), messageId: 2 }), JournalError)).toBe('full');
    expect(q.stats().messages).toBe(1);
    q.close();
    expect(errorCodeOf(() => q.nextPart() && q.markSent(0, 0), JournalError)).toBe('closed');
  });

  it('a corrupt queue file is quarantined, never silently emptied', () => {
    const dir = tmp();
    const path = join(dir, 'q.journal');
    const q = MessageQueue.open(path);
    q.enqueue({ peer: 'shore', parts: parts(300, 1), messageId: null });
    q.close();
    const bytes = new Uint8Array(readFileSync(path));
    bytes[20] ^= 0xff;
    writeFileSync(path, bytes);
    expect(errorCodeOf(() => MessageQueue.open(path), JournalError)).toBe('corrupt');
    expect(readdirSync(dir).some((f) => f.startsWith('q.journal.corrupt-'))).toBe(true);
  });
});

describe('MessageInbox (durable received parts and dedupe)', () => {
  it('holds parts across a restart until the message is complete; delivered once, duplicates dropped after restarts', () => {
    const path = join(tmp(), 'in.journal');
    const p = parts(800, 42, 270);
    expect(p).toHaveLength(3);
    let inbox = MessageInbox.open(path);
    expect(inbox.receive(p[2]!)).toMatchObject({ kind: 'held', have: 1, count: 3 });
    expect(inbox.receive(p[0]!)).toMatchObject({ kind: 'held', have: 2 });
    expect(inbox.receive(p[0]!).kind).toBe('duplicate');
    inbox.close(); // crash mid-message
    inbox = MessageInbox.open(path);
    expect(inbox.incomplete()).toEqual([{ key: 'g42/3', have: 2, count: 3 }]);
    const done = inbox.receive(p[1]!);
    expect(done.kind).toBe('complete');
    const key = done.kind === 'complete' ? done.message.key : '';
    expect(key).toMatch(/^42-[0-9a-f]{8}$/);
    inbox.close(); // crash before delivery was recorded: handed out again, same key
    inbox = MessageInbox.open(path);
    expect(inbox.ready().map((m) => m.key)).toEqual([key]);
    inbox.delivered(key);
    expect(inbox.ready()).toEqual([]);
    inbox.close();
    inbox = MessageInbox.open(path);
    // The sender resent a part after its own crash: a duplicate, not a new message.
    for (const x of p) expect(inbox.receive(x).kind).toBe('duplicate');
    // The id came round again with another message: that one is new.
    const again = parts(600, 42, 270, 1);
    expect(inbox.receive(again[0]!).kind).toBe('held');
    expect(inbox.receive(again[1]!).kind).toBe('held');
    expect(inbox.receive(again[2]!).kind).toBe('complete');
    inbox.close();
  });

  it('single-part messages are told apart by content; not-a-part bytes are a DecodeError and not journalled', () => {
    const path = join(tmp(), 'in.journal');
    const inbox = MessageInbox.open(path);
    const [one] = parts(100, 0);
    const r = inbox.receive(one!);
    expect(r.kind).toBe('complete');
    if (r.kind === 'complete') inbox.delivered(r.message.key);
    expect(inbox.receive(one!).kind).toBe('duplicate');
    expect(inbox.receive(parts(100, 0, 340, 3)[0]!).kind).toBe('complete');
    const size = inbox.sizeBytes;
    expect(errorCodeOf(() => inbox.receive(Uint8Array.of(0x80)), DecodeError)).toBe('truncated');
    expect(inbox.sizeBytes).toBe(size);
    inbox.close();
  });

  it('is bounded: JournalError full', () => {
    const inbox = MessageInbox.open(join(tmp(), 'in.journal'), { maxBytes: 700 });
    const p = parts(2000, 3, 270);
    expect(inbox.receive(p[0]!).kind).toBe('held');
    expect(inbox.receive(p[1]!).kind).toBe('held');
    expect(errorCodeOf(() => inbox.receive(p[2]!), JournalError)).toBe('full');
    inbox.close();
  });
});
