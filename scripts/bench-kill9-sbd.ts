/**
 * Kill-9 runs of the SBD daemon peer (issue #16 items 4–5): a child process (test/fixtures/
 * sbd-peer-child.ts) queues voice-message parts and sends them through the modem emulator on a
 * socat pseudo-terminal (seeded failed sessions, back-off), while mobile-terminated parts for it
 * arrive at the emulated gateway one by one (ring alerts). At a seeded point (after the k-th event
 * the child prints — a message accepted, a part sent or received — plus a seeded delay) it gets
 * SIGKILL and is restarted on the same state directory. Measured:
 * - MO, part level, at the emulator (the gateway): parts of accepted messages never delivered
 *   (lost) and extra copies (resends: a part whose session succeeded but whose `sent` record was
 *   not yet on disk is sent again; the modem cannot be asked afterwards);
 * - MO, message level: the gateway's copies through a MessageInbox (the receiver's dedupe):
 *   accepted messages never complete (lost) or complete twice (duplicated);
 * - MT: messages of the gateway missing from, or twice in, the child's `messages/in.jsonl`.
 *
 *   node --import tsx scripts/bench-kill9-sbd.ts [--points 20] [--seed 1] [--json]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePart, splitMessage } from '../src/codec/message/index.ts';
import { MessageInbox } from '../src/daemon/message-inbox.ts';
import { mulberry32 } from '../src/transport/prng.ts';
import { startSbdPty } from '../test/fixtures/sbd-pty.ts';
import { isMain, numberArg, ROOT, runPoints } from './kill9-common.ts';

const CHILD = join(ROOT, 'test/fixtures/sbd-peer-child.ts');

export interface SbdKillPointResult {
  seed: number;
  /** The kill came `delayMs` after the child's `afterEvents`-th event. */
  afterEvents: number;
  delayMs: number;
  /** False when the child had finished before the kill point (nothing was interrupted). */
  killedMidRun: boolean;
  /** The restarted child finished everything within 20 s. */
  settled: boolean;
  /** Messages whose `accepted` line was printed before the kill. */
  accepted: number;
  /** Parts sent / MT parts received (of 9 / 4) when the kill came. */
  sentAtKill: number;
  receivedAtKill: number;
  /** Accepted messages' parts never delivered to the gateway. */
  partsLost: number;
  /** Extra copies of parts at the gateway (part-level duplicates). */
  partResends: number;
  /** Accepted messages the receiver's dedupe never completed / completed more than once. */
  messagesLost: number;
  messagesDuplicated: number;
  /** Gateway (MT) messages missing from / duplicated in the child's in.jsonl. */
  mtLost: number;
  mtDuplicated: number;
  seconds: number;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function message(n: number, id: number, salt: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i === 0 ? 0x09 : (i * 31 + id * 7 + salt) & 255));
}

function startChild(args: string[], lines: string[]): ChildProcess {
  const c = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let buf = '';
  c.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  c.stderr!.resume();
  return c;
}

const exited = (c: ChildProcess) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r())));
const isEvent = (l: string) => l.startsWith('accepted ') || l.includes('"part sent"') || l.includes('"part received"') || l.includes('"message received"');

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** One seeded kill point. */
export async function runSbdKillPoint(seed: number): Promise<SbdKillPointResult> {
  const t0 = Date.now();
  const rand = mulberry32(seed * 7919 + 1);
  const dir = mkdtempSync(join(tmpdir(), 'stcts-kill9-sbd-'));
  const pty = await startSbdPty(dir);
  try {
    pty.emu.writeTimeoutMs = 300;
    pty.emu.sessionMs = 5 + Math.floor(rand() * 10);
    for (let i = 0; i < 200; i++) pty.emu.sessionOutcomes.push(rand() < 0.25 ? (rand() < 0.5 ? 32 : 18) : 0);
    // Outgoing: 4 messages, 1–4 parts each; incoming: 2 messages (3 parts and 1) at the gateway.
    const mo = [700, 150, 1000, 300].map((n, i) => splitMessage(message(n, i, seed), 340, i).map(encodePart));
    const mtMessages = [message(600, 100, seed), message(120, 101, seed)];
    const mt = mtMessages.flatMap((m, i) => splitMessage(m, 270, 100 + i).map(encodePart));
    const file = join(dir, 'messages.json');
    writeFileSync(file, JSON.stringify(mo.map((parts) => parts.map(hex))));
    const stateDir = join(dir, 'state');
    const base = ['--device', pty.dte, '--state-dir', stateDir];
    const totalEvents = mo.length + mo.flat().length + mt.length;
    const afterEvents = 1 + Math.floor(rand() * (totalEvents - 1));
    const delayMs = Math.floor(rand() * 20);

    const lines: string[] = [];
    const after: string[] = [];
    let child = startChild([...base, '--enqueue', file, '--spacing-ms', '40'], lines);
    // The gateway gets the MT parts while the child runs (each rings), so kills land mid-receive too.
    const arrivals: NodeJS.Timeout[] = [];
    void waitFor(() => [...lines, ...after].some((l) => l.includes('"modem ready"')), 20_000).then(() => mt.forEach((p, i) => arrivals.push(setTimeout(() => pty.emu.queueMt(p), 20 + i * 50))));
    await waitFor(() => lines.filter(isEvent).length >= afterEvents || lines.includes('idle'), 20_000);
    await new Promise((r) => setTimeout(r, delayMs));
    const killedMidRun = !lines.includes('idle') || pty.emu.gatewayQueue.length > 0;
    child.kill('SIGKILL');
    await exited(child);
    const accepted = lines.filter((l) => l.startsWith('accepted ')).length;
    const sentAtKill = lines.filter((l) => l.includes('"part sent"')).length;
    const receivedAtKill = lines.filter((l) => l.includes('"part received"')).length;

    child = startChild(base, after);
    const logPath = join(stateDir, 'messages', 'in.jsonl');
    const mtLines = () => (existsSync(logPath) ? readFileSync(logPath, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { messageId: string }).messageId) : []);
    const allSent = () => mo.slice(0, accepted).flat().every((p) => pty.emu.delivered.some((d) => hex(d) === hex(p)));
    // Up to 60 s: on a loaded CI box the restarted child (tsx start-up, then its mailbox checks every 5 s) needed more than 20.
    const settled = await waitFor(() => after.includes('idle') && allSent() && pty.emu.gatewayQueue.length === 0 && mtLines().length >= mtMessages.length, 60_000);
    // A little longer: a late duplicate would show up now.
    await new Promise((r) => setTimeout(r, 200));
    for (const t of arrivals) clearTimeout(t);
    child.kill('SIGTERM');
    await exited(child);

    const copies = (p: Uint8Array) => pty.emu.delivered.filter((d) => hex(d) === hex(p)).length;
    const acceptedParts = mo.slice(0, accepted).flat();
    const partsLost = acceptedParts.filter((p) => copies(p) === 0).length;
    const partResends = mo.flat().reduce((s, p) => s + Math.max(0, copies(p) - 1), 0);
    // The receiving side's dedupe over what the gateway got.
    const inbox = MessageInbox.open(join(dir, 'gateway-inbox.journal'));
    const completed = new Map<string, number>();
    for (const d of pty.emu.delivered) {
      const r = inbox.receive(d);
      if (r.kind === 'complete') {
        completed.set(r.message.key, (completed.get(r.message.key) ?? 0) + 1);
        inbox.delivered(r.message.key);
      }
    }
    inbox.close();
    const keyOf = (parts: Uint8Array[]) => {
      const probe = MessageInbox.open(join(dir, `probe-${Math.random()}.journal`));
      let key = '';
      for (const p of parts) {
        const r = probe.receive(p);
        if (r.kind === 'complete') key = r.message.key;
      }
      probe.close();
      return key;
    };
    const moKeys = mo.slice(0, accepted).map(keyOf);
    const mtKeys = mtMessages.map((m, i) => keyOf(splitMessage(m, 270, 100 + i).map(encodePart)));
    const got = mtLines();
    return {
      seed,
      afterEvents,
      delayMs,
      killedMidRun,
      settled,
      accepted,
      sentAtKill,
      receivedAtKill,
      partsLost,
      partResends,
      messagesLost: moKeys.filter((k) => !completed.has(k)).length,
      messagesDuplicated: [...completed.values()].filter((n) => n > 1).length,
      mtLost: mtKeys.filter((k) => !got.includes(k)).length,
      mtDuplicated: mtKeys.filter((k) => got.filter((g) => g === k).length > 1).length,
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    pty.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runSbdKill9(points: number, seed0: number, onResult?: (r: SbdKillPointResult) => void): Promise<SbdKillPointResult[]> {
  return runPoints(points, seed0, runSbdKillPoint, onResult);
}

if (isMain(import.meta.url)) {
  const arg = numberArg;
  const json = process.argv.includes('--json');
  const results = await runSbdKill9(arg('points', 20), arg('seed', 1), (r) => {
    if (!json) process.stderr.write(`seed ${r.seed}: kill after event ${r.afterEvents} + ${r.delayMs} ms${r.killedMidRun ? '' : ' (run already over)'} (${r.sentAtKill} parts sent, ${r.receivedAtKill} received): ${r.accepted} accepted; parts lost ${r.partsLost}, resent ${r.partResends}; messages lost ${r.messagesLost}, duplicated ${r.messagesDuplicated}; MT lost ${r.mtLost}, duplicated ${r.mtDuplicated} (${r.seconds.toFixed(1)} s)\n`);
  });
  const sum = (f: (r: SbdKillPointResult) => number) => results.reduce((s, r) => s + f(r), 0);
  const summary = {
    points: results.length,
    midRun: results.filter((r) => r.killedMidRun).length,
    settled: results.filter((r) => r.settled).length,
    midAccept: results.filter((r) => r.accepted < 4).length,
    midReceive: results.filter((r) => r.receivedAtKill > 0 && r.receivedAtKill < 4).length,
    messagesAccepted: sum((r) => r.accepted),
    partsLost: sum((r) => r.partsLost),
    partResends: sum((r) => r.partResends),
    messagesLost: sum((r) => r.messagesLost),
    messagesDuplicated: sum((r) => r.messagesDuplicated),
    mtLost: sum((r) => r.mtLost),
    mtDuplicated: sum((r) => r.mtDuplicated),
  };
  process.stdout.write(json ? JSON.stringify({ summary, results }, null, 2) + '\n' : `${JSON.stringify(summary)}\n`);
  process.exit(summary.partsLost + summary.messagesLost + summary.messagesDuplicated + summary.mtLost + summary.mtDuplicated === 0 ? 0 : 1);
}
