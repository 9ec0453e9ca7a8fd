import type { KV } from 'nats';
import { sessionKey } from './subjects.ts';

/** Lease timing: an owner heartbeats every `heartbeatMs`; a lease whose revision has not moved for `ttlMs` (on the observer's own clock) is free. */
export interface LeaseOptions {
  /** Default 3000 ms. */
  ttlMs: number;
  /** Default 1000 ms. */
  heartbeatMs: number;
}

export const DEFAULT_LEASE_OPTIONS: Readonly<LeaseOptions> = Object.freeze({ ttlMs: 3000, heartbeatMs: 1000 });

/** What a lease holds (informational; ownership is the KV revision). */
interface LeaseValue {
  owner: string;
  beat: number;
}

const isCasConflict = (err: unknown) => /wrong last sequence|key exists/i.test(String((err as Error)?.message));

/**
 * Session leases in a JetStream KV bucket (one key per session). Ownership is compare-and-set on
 * the key's revision: `create` when there is no lease, `update(…, revision)` to heartbeat or to
 * take over a stale one. Staleness is judged by how long the observer has seen the same revision
 * on its own monotonic clock, so no two clocks are ever compared.
 */
export class LeaseTable {
  readonly options: Readonly<LeaseOptions>;
  private readonly seen = new Map<string, { revision: number; sinceMs: number }>();

  constructor(
    private readonly kv: KV,
    private readonly owner: string,
    options: Partial<LeaseOptions> = {},
    private readonly now: () => number = () => performance.now(),
  ) {
    this.options = Object.freeze({ ...DEFAULT_LEASE_OPTIONS, ...options });
  }

  private value(beat: number): string {
    return JSON.stringify({ owner: this.owner, beat } satisfies LeaseValue);
  }

  /**
   * Tries to own `sessionId`: returns the lease revision when this owner now holds it, undefined
   * when someone else holds a live lease. Network errors propagate (the caller retries later).
   */
  async tryAcquire(sessionId: number): Promise<number | undefined> {
    const key = sessionKey(sessionId);
    const entry = await this.kv.get(key);
    if (!entry || entry.operation !== 'PUT') {
      try {
        return await this.kv.create(key, this.value(0));
      } catch (err) {
        if (isCasConflict(err)) return undefined;
        throw err;
      }
    }
    const t = this.now();
    const seen = this.seen.get(key);
    if (!seen || seen.revision !== entry.revision) {
      this.seen.set(key, { revision: entry.revision, sinceMs: t });
      return undefined;
    }
    if (t - seen.sinceMs < this.options.ttlMs) return undefined;
    try {
      const rev = await this.kv.update(key, this.value(0), entry.revision);
      this.seen.delete(key);
      return rev;
    } catch (err) {
      if (isCasConflict(err)) return undefined;
      throw err;
    }
  }

  /**
   * Heartbeats a held lease: the new revision, or `lost` when another owner took it (the caller
   * must stop working on the session). Network errors propagate (still ours until someone takes it).
   */
  async renew(sessionId: number, revision: number, beat: number): Promise<number | 'lost'> {
    try {
      return await this.kv.update(sessionKey(sessionId), this.value(beat), revision);
    } catch (err) {
      if (isCasConflict(err)) return 'lost';
      throw err;
    }
  }

  /** Gives the lease up (the session ended); best effort. */
  async release(sessionId: number, revision: number): Promise<void> {
    try {
      await this.kv.delete(sessionKey(sessionId), { previousSeq: revision });
    } catch {
      // another owner already has it, or the server is away: its TTL frees it
    }
  }
}
