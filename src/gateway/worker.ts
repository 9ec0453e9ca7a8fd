import { InvalidStateError } from '../core/errors.ts';
import { listKeys, type GatewayJetStream } from './jetstream.ts';
import { LeaseTable, type LeaseOptions } from './lease.ts';
import { runSessionOwner, type SessionOwnerDeps } from './session-owner.ts';
import { runTalkOwner, type TalkOwnerDeps } from './talk-owner.ts';
import { runMessageOwner } from './message-owner.ts';
import { runSbdTalkOwner } from './sbd-talk-owner.ts';
import type { TextModel } from '../codec/text/index.ts';
import { sessionKey, type CallRecord } from './subjects.ts';

/** Settings of a {@link GatewayWorker}. */
export interface WorkerOptions {
  /** Unique id of this worker (the lease owner), e.g. `host-pid`. */
  id: string;
  /** Sessions owned at once. Default 8. */
  maxSessions: number;
  /** How often the call registry is scanned for unowned sessions, ms. Default 250. */
  scanMs: number;
  /**
   * A worker that already owns n sessions waits n × this before claiming a new call, ms, so calls
   * spread over workers. Default 150.
   */
  claimDelayPerSessionMs: number;
  lease: Partial<LeaseOptions>;
}

export const DEFAULT_WORKER_OPTIONS: Readonly<Omit<WorkerOptions, 'id'>> = Object.freeze({ maxSessions: 8, scanMs: 250, claimDelayPerSessionMs: 150, lease: Object.freeze({}) });

/** Counters of a worker (monotonic). */
export interface WorkerStats {
  sessionsTaken: number;
  sessionsEnded: number;
  /** Sessions given up because another worker took the lease. */
  leasesLost: number;
  phrasesRendered: number;
  /** Phrases decoded again on a take-over, not synthesized again. */
  phrasesReplayed: number;
  /** Shore→ship phrases coded and stored (a take-over's recoded ones not counted). */
  phrasesCoded: number;
}

interface Owned {
  abort: AbortController;
  done: Promise<void>;
}

/**
 * A session-affine recognition/synthesis worker (issue #18): claims calls from the registry,
 * holds one lease per owned session (heartbeated), and runs each session's receiver codec + TTS
 * (runSessionOwner) — or, for a shore→ship session, the sender pipeline on the shore client's
 * speech (runTalkOwner; needs `deps.talk`), or for an Iridium SBD voice message its parts
 * (runMessageOwner; needs `deps.messageTextModel`). When a worker dies its leases go stale and the others take its sessions
 * over, replaying their frames from JetStream.
 */
export class GatewayWorker {
  readonly options: Readonly<WorkerOptions>;
  readonly stats: WorkerStats = { sessionsTaken: 0, sessionsEnded: 0, leasesLost: 0, phrasesRendered: 0, phrasesReplayed: 0, phrasesCoded: 0 };
  private readonly leases: LeaseTable;
  private readonly owned = new Map<number, Owned>();
  private readonly done = new Set<number>();
  private readonly firstSeen = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private scanning = false;
  private closed = false;

  constructor(
    private readonly jet: GatewayJetStream,
    private readonly deps: Omit<SessionOwnerDeps, 'js' | 'jsm'> & { talk?: Omit<TalkOwnerDeps, 'js' | 'jsm'>; /** Iridium SBD voice messages (always LM-coded): loads the text model when one comes; none = not claimed. */ messageTextModel?: () => Promise<TextModel> },
    options: Partial<WorkerOptions> & { id: string },
  ) {
    this.options = Object.freeze({ ...DEFAULT_WORKER_OPTIONS, ...options });
    this.leases = new LeaseTable(jet.leases, this.options.id, this.options.lease);
  }

  /** Sessions this worker owns now. */
  get ownedSessions(): number[] {
    return [...this.owned.keys()];
  }

  start(): void {
    if (this.closed) throw new InvalidStateError('GatewayWorker used after close()');
    if (this.timer) return;
    const tick = () => {
      void this.scan().finally(() => {
        if (!this.closed) this.timer = setTimeout(tick, this.options.scanMs);
      });
    };
    tick();
  }

  private async scan(): Promise<void> {
    if (this.scanning || this.closed) return;
    this.scanning = true;
    try {
      const keys: string[] = [];
      keys.push(...(await listKeys(this.jet.calls)));
      const now = performance.now();
      // Ended calls leave the registry: forget them (bounded memory over a long uptime).
      const present = new Set(keys.map(Number));
      for (const id of this.done) if (!present.has(id)) this.done.delete(id);
      for (const id of this.firstSeen.keys()) if (!present.has(id)) this.firstSeen.delete(id);
      for (const k of keys) {
        const id = Number(k);
        if (this.closed || this.done.has(id) || this.owned.has(id)) continue;
        if (this.owned.size >= this.options.maxSessions) break;
        const first = this.firstSeen.get(id) ?? now;
        this.firstSeen.set(id, first);
        if (now - first < this.owned.size * this.options.claimDelayPerSessionMs) continue;
        const entry = await this.jet.calls.get(k);
        if (!entry || entry.operation !== 'PUT') continue;
        const call = JSON.parse(new TextDecoder().decode(entry.value)) as CallRecord;
        if (call.state === 'done' || (call.direction === 'down' && !this.deps.talk) || (call.via === 'sbd' && !this.deps.messageTextModel) || (call.direction === 'message' && !this.deps.messageTextModel)) {
          this.done.add(id);
          continue;
        }
        const revision = await this.leases.tryAcquire(id);
        if (revision !== undefined) this.own(call, revision);
      }
    } catch {
      // server away (restart): the next scan retries
    } finally {
      this.scanning = false;
    }
  }

  private own(call: CallRecord, revision: number): void {
    const id = call.sessionId;
    const abort = new AbortController();
    this.stats.sessionsTaken++;
    let rev = revision;
    let beat = 0;
    const heartbeat = setInterval(() => {
      this.leases.renew(id, rev, ++beat).then(
        (r) => {
          if (r === 'lost') {
            this.stats.leasesLost++;
            abort.abort();
          } else rev = r;
        },
        () => {}, // unreachable server: the lease is ours until someone else takes it
      );
    }, this.leases.options.heartbeatMs);
    const deps: SessionOwnerDeps = {
      ...this.deps,
      js: this.jet.js,
      jsm: this.jet.jsm,
      onPhrase: (s, seq, replayed) => {
        if (replayed) this.stats.phrasesReplayed++;
        else this.stats.phrasesRendered++;
        this.deps.onPhrase?.(s, seq, replayed);
      },
    };
    const talk = this.deps.talk;
    const talkDeps: TalkOwnerDeps | undefined = talk && {
      ...talk,
      js: this.jet.js,
      jsm: this.jet.jsm,
      onPhrase: (s, seq, text, replayed) => {
        if (!replayed) this.stats.phrasesCoded++;
        talk.onPhrase?.(s, seq, text, replayed);
      },
    };
    const loadModel = this.deps.messageTextModel;
    const run = call.direction === 'message' && loadModel
      ? async () => runMessageOwner(call, { ...deps, textModel: await loadModel() }, abort.signal)
      : call.direction === 'down' && talkDeps
        ? call.via === 'sbd' && loadModel
          ? async () => runSbdTalkOwner(id, call.subject, call.downSubject!, { ...talkDeps, textModel: await loadModel() }, abort.signal)
          : () => runTalkOwner(id, call.subject, call.downSubject!, talkDeps, abort.signal)
        : () => runSessionOwner(id, call.subject, deps, abort.signal);
    const done = (async () => {
      try {
        const outcome = await run();
        if (outcome === 'ended') {
          await this.markDone(call);
          this.done.add(id);
          this.stats.sessionsEnded++;
          clearInterval(heartbeat);
          await this.leases.release(id, rev);
        }
      } catch {
        // aborted or failed: the lease lapses and a worker (maybe this one) retries
      } finally {
        clearInterval(heartbeat);
        this.owned.delete(id);
      }
    })();
    this.owned.set(id, { abort, done });
  }

  /**
   * An ended call leaves the registry (its End in the PCM stream is what any later owner would
   * find). A shore→ship one stays, marked `done`, until the vessel acknowledged its End (the
   * terminator deletes it then).
   */
  private async markDone(call: CallRecord): Promise<void> {
    for (let i = 0; i < 40 && !this.closed; i++) {
      try {
        if (call.direction === 'down') {
          // Only if still there: the vessel may have acknowledged the End already (and the terminator deleted it).
          const e = await this.jet.calls.get(sessionKey(call.sessionId));
          if (e && e.operation === 'PUT') await this.jet.calls.update(sessionKey(call.sessionId), JSON.stringify({ ...call, state: 'done' }), e.revision).catch(() => {});
          return;
        }
        await this.jet.calls.delete(sessionKey(call.sessionId));
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  /** Stops claiming, aborts owned sessions (their leases lapse for others to take); idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const o of this.owned.values()) o.abort.abort();
    await Promise.all([...this.owned.values()].map((o) => o.done));
  }
}
