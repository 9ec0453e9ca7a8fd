import { randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JournalError } from '../transport/journal/journal-error.ts';
import { InboxJournal, OutboxJournal, ProfileStore } from '../transport/journal/index.ts';

/** Finished incoming sessions kept per peer (their journals answer a restarted sender's late retries). */
const FINISHED_KEPT = 64;

/**
 * The daemon's `state_dir` (issue #16 item 5):
 *
 *     instance-id                      this node's process identity (see {@link instanceId})
 *     profiles.journal                 speaker profiles received (by content hash), all peers
 *     peers/<peer>/out-<session>.journal   an outgoing call session's unacknowledged frames
 *     peers/<peer>/in-<session>.journal    an incoming session's accepted frames and rendered mark
 *     peers/<peer>/done-<session>.journal  the same, once its End was rendered (the newest 64 are kept:
 *                                      they answer a restarted sender that missed our last ack)
 *     peers/<peer>/peer-profiles.journal   profile hashes that peer acknowledged
 *
 * Peer names are config names (letters, digits, `.`, `_`, `-`), so they are safe as directory names.
 * One daemon per directory.
 */
export class DaemonStateDir {
  private constructor(readonly path: string) {}

  static open(path: string): DaemonStateDir {
    try {
      mkdirSync(join(path, 'peers'), { recursive: true });
    } catch (err) {
      throw new JournalError('io', `state_dir ${path} cannot be created: ${(err as Error).message}`, { path }, { cause: err });
    }
    return new DaemonStateDir(path);
  }

  /**
   * The node's instance id, kept across restarts. A peer that sees a new instance id concludes
   * that our state is gone and starts its calls to us over (the in-memory behaviour); with a
   * state dir our state survives a restart, so the id does too and the peer simply continues its
   * sessions (we restore them from the journals).
   */
  instanceId(): Uint8Array {
    const file = join(this.path, 'instance-id');
    if (existsSync(file)) {
      const hex = readFileSync(file, 'utf8').trim();
      if (/^[0-9a-f]{16}$/.test(hex)) return Buffer.from(hex, 'hex');
      const aside = `${file}.corrupt-${Date.now()}`;
      renameSync(file, aside);
      throw new JournalError('corrupt', `${file} is not a 16-digit hex instance id; moved it to ${aside} (start again: peers will see a restart)`, { path: file });
    }
    const id = randomBytes(8);
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, id.toString('hex') + '\n');
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, file);
    return id;
  }

  get profiles(): string {
    return join(this.path, 'profiles.journal');
  }

  peerDir(peer: string): string {
    const dir = join(this.path, 'peers', peer);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  peerProfiles(peer: string): ProfileStore {
    return ProfileStore.open(join(this.peerDir(peer), 'peer-profiles.journal'));
  }

  outbox(peer: string, sessionId: number): OutboxJournal {
    return OutboxJournal.open(join(this.peerDir(peer), `out-${sessionId}.journal`));
  }

  /** Session ids with an outbox for `peer` (unfinished outgoing sessions after a restart), oldest first. */
  outboxes(peer: string): number[] {
    return this.sessionFiles(peer, 'out');
  }

  /** The journal of incoming session `sessionId` of `peer`: 'open' (unfinished), 'done' (its End was rendered), or undefined (never seen). */
  inboxState(peer: string, sessionId: number): 'open' | 'done' | undefined {
    const dir = this.peerDir(peer);
    if (existsSync(join(dir, `in-${sessionId}.journal`))) return 'open';
    return existsSync(join(dir, `done-${sessionId}.journal`)) ? 'done' : undefined;
  }

  /** Opens (creating) the incoming session's journal, finished or not. */
  inbox(peer: string, sessionId: number): InboxJournal {
    const dir = this.peerDir(peer);
    const done = join(dir, `done-${sessionId}.journal`);
    return InboxJournal.open(existsSync(done) ? done : join(dir, `in-${sessionId}.journal`));
  }

  /** The session's End was rendered: its journal (closed by the caller) becomes a finished one; the oldest finished beyond 64 go. */
  finishInbox(peer: string, sessionId: number): void {
    const dir = this.peerDir(peer);
    const open = join(dir, `in-${sessionId}.journal`);
    if (existsSync(open)) renameSync(open, join(dir, `done-${sessionId}.journal`));
    const done = this.sessionFiles(peer, 'done');
    for (const id of done.slice(0, Math.max(0, done.length - FINISHED_KEPT))) {
      try {
        unlinkSync(join(dir, `done-${id}.journal`));
      } catch {
        // already gone
      }
    }
  }

  /** Moves a peer's incoming session journal aside (the peer lost that session: it will not resume it). */
  abandonInbox(peer: string, sessionId: number): void {
    const f = join(this.peerDir(peer), `in-${sessionId}.journal`);
    if (existsSync(f)) renameSync(f, `${f}.abandoned-${Date.now()}`);
  }

  private sessionFiles(peer: string, kind: 'in' | 'out' | 'done'): number[] {
    const dir = this.peerDir(peer);
    const re = new RegExp(`^${kind}-(\\d+)\\.journal$`);
    return readdirSync(dir)
      .flatMap((f) => {
        const m = re.exec(f);
        return m ? [{ id: Number(m[1]), at: statSync(join(dir, f)).mtimeMs }] : [];
      })
      .sort((a, b) => a.at - b.at)
      .map((e) => e.id);
  }
}

/** Appends one JSON line to the daemon's transcript file and fsyncs it (what each side accepted, `out`, and rendered, `in`). */
export function appendTranscriptLine(path: string, line: object): void {
  const fd = openSync(path, 'a');
  try {
    appendFileSync(fd, JSON.stringify(line) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Highest seq per peer and session recorded as rendered (`dir: 'in'`) in a daemon transcript file: what was played before a crash. */
export function renderedSeqsOf(path: string | undefined): Map<string, Map<number, number>> {
  const out = new Map<string, Map<number, number>>();
  if (!path || !existsSync(path)) return out;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    try {
      const l = JSON.parse(line) as { dir?: unknown; peer?: unknown; session?: unknown; seq?: unknown };
      if (l.dir !== 'in' || typeof l.peer !== 'string' || typeof l.session !== 'number' || typeof l.seq !== 'number') continue;
      let sessions = out.get(l.peer);
      if (!sessions) out.set(l.peer, (sessions = new Map()));
      sessions.set(l.session, Math.max(sessions.get(l.session) ?? -1, l.seq));
    } catch {
      // a torn last line
    }
  }
  return out;
}
