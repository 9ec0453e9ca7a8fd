import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Frame } from '../../src/codec/frame/index.ts';
import { InboxJournal, OutboxJournal } from '../../src/transport/journal/index.ts';
import { LinkSession } from '../../src/transport/link-session.ts';

const SID = 777;
const text = (seq: number): Frame => ({ version: 1, sessionId: SID, seq, time: seq, payload: { type: 'text', coding: 'lm', coded: new Uint8Array(12).fill(seq) } as Frame['payload'] });

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'journal-resume-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const fast = { sender: { bitsPerSecond: 1_000_000, initialRtoMs: 50, minRtoMs: 20, maxRtoMs: 200 }, receiver: { ackDelayMs: 1 } };

/** Wires two sessions together; `cut()` makes the wire drop everything (a process that died). */
function wire(a: LinkSession, b: LinkSession) {
  let up = true;
  a.attach({ connected: true, send: (p) => { if (up) queueMicrotask(() => void b.onPacket(p)); } });
  b.attach({ connected: true, send: (p) => { if (up) queueMicrotask(() => void a.onPacket(p)); } });
  return { cut: () => (up = false) };
}

async function collect(s: LinkSession, n: number, out: number[]): Promise<void> {
  for await (const f of s.frames()) {
    out.push(f.seq);
    if (out.length >= n) return;
  }
}

describe('resume from the journals (in process)', () => {
  it('a sender restarted from its outbox and a receiver restarted from its inbox deliver every frame once, in order', async () => {
    const outPath = join(dir, 'outbox.journal');
    const inPath = join(dir, 'inbox.journal');
    const outbox = OutboxJournal.open(outPath);
    outbox.begin({ sessionId: SID, mode: 'balanced' });
    const inbox = InboxJournal.open(inPath);
    inbox.begin(SID);
    const a = new LinkSession(SID, { ...fast, journal: { append: (f) => void outbox.append(f), acked: (k) => void outbox.acked(k) } });
    const r = new LinkSession(SID, { ...fast, journal: { accepted: (fs) => inbox.accept(fs) } });
    const w = wire(a, r);
    const first: number[] = [];
    for (let s = 0; s < 6; s++) a.send(text(s));
    await collect(r, 6, first);
    for (let s = 6; s < 10; s++) a.send(text(s));
    // Both processes die now: frames 6..9 journalled at the sender, maybe not sent.
    w.cut();
    a.close();
    r.close();
    outbox.close();
    inbox.close();

    const outbox2 = OutboxJournal.open(outPath);
    const inbox2 = InboxJournal.open(inPath);
    expect(outbox2.pending().map((f) => f.seq)).toEqual(expect.arrayContaining([6, 7, 8, 9]));
    const a2 = new LinkSession(SID, { ...fast, journal: { append: (f) => void outbox2.append(f), acked: (k) => void outbox2.acked(k) } });
    const r2 = new LinkSession(SID, { ...fast, journal: { accepted: (fs) => inbox2.accept(fs) } });
    const replayed = r2.restoreReceiver(inbox2.accepted()).map((f) => f.seq);
    expect(replayed.slice(0, 6)).toEqual([0, 1, 2, 3, 4, 5]);
    a2.restoreSender(outbox2.pending(), outbox2.acknowledgedBelow);
    wire(a2, r2);
    const rest: number[] = [];
    await collect(r2, 10 - replayed.length, rest);
    expect([...replayed, ...rest]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    while (!a2.sender.idle) await new Promise((res) => setTimeout(res, 10));
    expect(outbox2.pending()).toEqual([]);
    a2.close();
    r2.close();
    outbox2.close();
    inbox2.close();
  });
});
