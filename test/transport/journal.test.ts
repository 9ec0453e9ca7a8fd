import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Frame } from '../../src/codec/frame/index.ts';
import { InboxJournal, JournalError, OutboxJournal, ProfileStore, RecordLog } from '../../src/transport/journal/index.ts';
import { LinkSession, type PacketPort } from '../../src/transport/link-session.ts';
import { ReliableReceiver } from '../../src/transport/reliability/receiver.ts';
import { mulberry32 } from '../../src/transport/prng.ts';

const SID = 4242;
const text = (seq: number, n = 8): Frame => ({ version: 1, sessionId: SID, seq, time: seq, payload: { type: 'text', coding: 'lm', coded: new Uint8Array(n).fill(seq & 0xff) } as Frame['payload'] });
const prosody = (seq: number): Frame => ({ version: 1, sessionId: SID, seq, time: seq, payload: { type: 'prosody', coded: new Uint8Array([1, 2, 3]) } });
const ack = (cumulative: number, sack = 0n) => ({ type: 'ack' as const, cumulative, sack, nack: [] });

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'journal-test-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function expectJournalError(fn: () => unknown, code: string): JournalError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(JournalError);
    expect((err as JournalError).code).toBe(code);
    return err as JournalError;
  }
  throw new Error(`expected JournalError ${code}`);
}

describe('OutboxJournal', () => {
  it('keeps appended reliable frames across a reopen until acknowledged, in seq order', () => {
    const path = join(dir, 'outbox.journal');
    const j = OutboxJournal.open(path);
    j.begin({ sessionId: SID, mode: 'balanced' });
    for (const s of [0, 1, 2, 3, 4]) j.append(text(s));
    expect(j.append(prosody(5))).toBe(false); // best effort: never journalled
    j.append(text(6));
    expect(j.acked(ack(2, 0b10n)).map((f) => f.seq)).toEqual([0, 1, 4]); // cumulative 2, SACK of seq 4
    j.close();
    const k = OutboxJournal.open(path);
    expect(k.current).toEqual({ sessionId: SID, mode: 'balanced' });
    expect(k.pending().map((f) => f.seq)).toEqual([2, 3, 6]);
    expect(k.pending()[0]).toEqual(text(2));
    expect(k.nextSeq).toBe(7);
    expect(k.acknowledgedBelow).toBe(2);
    expect(k.ended).toBe(false);
    k.close();
  });

  it('compaction keeps the live set, the next seq and the End', () => {
    const path = join(dir, 'outbox.journal');
    const j = OutboxJournal.open(path);
    j.begin({ sessionId: SID, mode: 'high' });
    for (let s = 0; s < 50; s++) j.append(text(s, 100));
    j.append({ version: 1, sessionId: SID, seq: 50, time: 60, payload: { type: 'end', reason: 'normal' } });
    j.acked(ack(49));
    const before = j.sizeBytes;
    j.compact();
    expect(j.sizeBytes).toBeLessThan(before / 5);
    j.close();
    const k = OutboxJournal.open(path);
    expect(k.pending().map((f) => f.seq)).toEqual([49, 50]);
    expect(k.ended).toBe(true);
    expect(k.lastTime).toBe(60);
    k.acked(ack(51));
    expect(k.done).toBe(true);
    k.complete();
    expect(existsSync(path)).toBe(false);
  });

  it('refuses a frame beyond its size bound with JournalError full, and accepts again once acks free room', () => {
    const j = OutboxJournal.open(join(dir, 'outbox.journal'), { maxBytes: 2000 });
    j.begin({ sessionId: SID, mode: 'balanced' });
    let accepted = 0;
    const err = expectJournalError(() => { for (let s = 0; s < 1000; s++) { j.append(text(s, 100)); accepted++; } }, 'full');
    expect(err.details?.maxBytes).toBe(2000);
    expect(accepted).toBeGreaterThan(5);
    expect(accepted).toBeLessThan(20);
    j.acked(ack(accepted));
    j.append(text(accepted, 100)); // compaction made room
    expect(j.pending().map((f) => f.seq)).toEqual([accepted]);
    j.close();
  });

  it('used after close() is a JournalError closed', () => {
    const j = OutboxJournal.open(join(dir, 'o.journal'));
    j.close();
    j.close();
    expectJournalError(() => j.begin({ sessionId: 1, mode: 'balanced' }), 'closed');
  });
});

describe('RecordLog corruption', () => {
  function journalWith(n: number, name = 'outbox.journal'): string {
    const path = join(dir, name);
    const j = OutboxJournal.open(path);
    j.begin({ sessionId: SID, mode: 'balanced' });
    for (let s = 0; s < n; s++) j.append(text(s));
    j.close();
    return path;
  }

  it('a torn last record (seeded cut points) is cut off: every complete record survives', () => {
    const five = readFileSync(journalWith(5, 'five.journal')).length;
    const path = journalWith(6);
    const whole = readFileSync(path);
    const rnd = mulberry32(7);
    for (let i = 0; i < 20; i++) {
      writeFileSync(path, whole);
      // Cut anywhere inside the last record.
      const cut = five + 1 + Math.floor(rnd() * (whole.length - five - 1));
      truncateSync(path, cut);
      const j = OutboxJournal.open(path);
      expect(j.tornBytes).toBeGreaterThan(0);
      expect(j.pending().map((f) => f.seq)).toEqual([0, 1, 2, 3, 4]);
      j.append(text(5)); // appends after the cut: the file is whole again
      j.close();
      expect(OutboxJournal.open(path).pending().map((f) => f.seq)).toEqual([0, 1, 2, 3, 4, 5]);
    }
  });

  it('a zero-filled tail is torn, not corrupt', () => {
    const path = journalWith(3);
    appendFileSync(path, new Uint8Array(100));
    const j = OutboxJournal.open(path);
    expect(j.tornBytes).toBe(100);
    expect(j.pending()).toHaveLength(3);
    j.close();
  });

  it('a flipped bit inside the log is quarantined (renamed aside), never used nor dropped', () => {
    const path = journalWith(6);
    const bytes = readFileSync(path);
    bytes[40] ^= 0x10; // inside the second record
    writeFileSync(path, bytes);
    const err = expectJournalError(() => OutboxJournal.open(path), 'corrupt');
    const aside = err.details?.quarantinedTo as string;
    expect(existsSync(path)).toBe(false);
    expect(readFileSync(aside)).toEqual(bytes); // kept byte for byte for inspection
    expect(readdirSync(dir).filter((f) => f.includes('.corrupt-'))).toHaveLength(1);
    // The next run starts empty.
    const fresh = OutboxJournal.open(path);
    expect(fresh.current).toBeUndefined();
    fresh.close();
  });

  it('garbage, a foreign file and an impossible length are quarantined', () => {
    const rnd = mulberry32(3);
    const garbage = Uint8Array.from({ length: 500 }, () => Math.floor(rnd() * 256));
    const p1 = join(dir, 'a.journal');
    writeFileSync(p1, garbage);
    expectJournalError(() => OutboxJournal.open(p1), 'corrupt');
    const p2 = journalWith(2);
    expectJournalError(() => InboxJournal.open(p2), 'corrupt'); // an outbox is not an inbox
    const p3 = journalWith(2, 'p3.journal');
    const b = readFileSync(p3);
    b.writeUInt32LE(0x7fffffff, 8); // the first record's length field
    writeFileSync(p3, b);
    expectJournalError(() => OutboxJournal.open(p3), 'corrupt');
  });

  it('a torn file header (crash while creating) starts empty', () => {
    const p = join(dir, 'h.journal');
    writeFileSync(p, Buffer.from('STC'));
    const { log, records, tornBytes } = RecordLog.open(p, { kind: 'O', maxBytes: 1000 });
    expect(records).toEqual([]);
    expect(tornBytes).toBe(3);
    log.close();
  });
});

describe('InboxJournal', () => {
  it("keeps the session's resume secret across a reopen (a restarted plain receiver still knows who may resume)", () => {
    const path = join(dir, 'inbox.journal');
    const j = InboxJournal.open(path);
    expect(() => j.setResumeSecret('ab'.repeat(16))).toThrow(/begin\(\) a session/);
    j.begin(77);
    expect(j.resumeSecret).toBeUndefined();
    j.setResumeSecret('ab'.repeat(16));
    j.close();
    const k = InboxJournal.open(path);
    expect(k.sessionId).toBe(77);
    expect(k.resumeSecret).toBe('ab'.repeat(16));
    k.close();
  });

  it('replaying the accepted batches rebuilds the receiver: same deliveries, duplicates dropped after the restart', () => {
    const path = join(dir, 'inbox.journal');
    const j = InboxJournal.open(path);
    j.begin(SID);
    const live = new ReliableReceiver();
    const delivered: number[] = [];
    // Seq 2 arrives late: 3 and 4 are held (and SACKed) meanwhile.
    for (const batch of [[text(0), text(1)], [text(3), text(4)]]) {
      delivered.push(...live.accept(batch, 0).map((f) => f.seq));
      j.accept(live.lastAccepted);
    }
    // (crash here, with 3 and 4 held and SACKed)
    expect(delivered).toEqual([0, 1]);
    j.rendered(1);
    j.close();
    const k = InboxJournal.open(path);
    expect(k.sessionId).toBe(SID);
    expect(k.renderedSeq).toBe(1);
    const restored = new ReliableReceiver();
    const replayed = k.accepted().flatMap((b) => restored.accept(b, 0)).map((f) => f.seq);
    expect(replayed).toEqual([0, 1]);
    expect(restored.cumulative).toBe(2);
    // The sender resends 3 (a duplicate now) and 2: 2, 3, 4 come out once.
    expect(restored.accept([text(3)], 0)).toEqual([]);
    expect(restored.accept([text(2)], 0).map((f) => f.seq)).toEqual([2, 3, 4]);
    k.close();
  });

  it('a LinkSession journals what it accepts before its ack can leave; a journal that refuses stops the session unacknowledged', async () => {
    const sent: Uint8Array[] = [];
    let t = 0;
    const port: PacketPort = { connected: true, send: (p) => void sent.push(p) };
    const peer = new LinkSession(SID, { now: () => t });
    peer.send(text(0));
    peer.attach({ connected: true, send: (p) => void sent.push(p) });
    const pkt = sent.pop()!;
    sent.length = 0;
    const journalled: number[] = [];
    let refuse = false;
    const rx = new LinkSession(SID, { now: () => t, journal: { accepted: (fs) => { if (refuse) throw new JournalError('full', 'full'); journalled.push(...fs.map((f) => f.seq)); } } });
    rx.attach(port);
    sent.length = 0;
    await rx.onPacket(pkt);
    expect(rx.rejects).toEqual({ malformed: 0, unresolved: 0 });
    expect(journalled).toEqual([0]);
    t += 10_000;
    peer.send(text(1));
    const pkt2 = sent.pop()!;
    refuse = true;
    sent.length = 0;
    t += 10_000;
    await rx.onPacket(pkt2);
    expect(rx.receiver.cumulative).toBe(2); // taken, but not durable…
    expect(rx.failure).toBeInstanceOf(JournalError);
    expect(sent).toEqual([]); // nothing acknowledged
    peer.close();
    rx.close();
  });
});

describe('ProfileStore', () => {
  it('persists the profile cache: a reopened store knows the profile', () => {
    const path = join(dir, 'profiles.journal');
    const s = ProfileStore.open(path);
    const cache = s.cache();
    cache.set(0xdeadbeef, new Uint8Array([1, 2, 3]));
    cache.set(0xdeadbeef, new Uint8Array([1, 2, 3]));
    s.close();
    const t = ProfileStore.open(path);
    expect(t.cache().get(0xdeadbeef)).toEqual(new Uint8Array([1, 2, 3]));
    expect(t.hashes()).toEqual([0xdeadbeef]);
    t.close();
  });
});
