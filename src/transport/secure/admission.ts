/**
 * Denial-of-service limits before authentication (issue #20), pure and transport-agnostic: the
 * WebSocket server, a UDP socket or a KISS port asks {@link HandshakeAdmission} before it spends
 * anything on a new handshake, and logs refusals through {@link AggregatedLog} so a flood costs a
 * few log lines a minute instead of one per packet. Clocks are injected (ms) for deterministic tests.
 */

/** Token bucket: `capacity` tokens, refilled at `perSecond`. */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;
  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
    nowMs: number,
  ) {
    this.tokens = capacity;
    this.lastMs = nowMs;
  }

  /** Takes one token if there is one. */
  take(nowMs: number): boolean {
    this.tokens = Math.min(this.capacity, this.tokens + ((nowMs - this.lastMs) / 1000) * this.perSecond);
    this.lastMs = nowMs;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** True when the bucket is full again (the entry can be forgotten). */
  full(nowMs: number): boolean {
    return this.tokens + ((nowMs - this.lastMs) / 1000) * this.perSecond >= this.capacity;
  }
}

export interface AdmissionOptions {
  /** Unauthenticated handshakes in progress at once, all addresses together. Default 16. */
  maxPending: number;
  /** Unauthenticated handshakes in progress at once from one address. Default 2. */
  maxPendingPerAddress: number;
  /** Attempts one address may start in a burst. Default 4. */
  perAddressBurst: number;
  /** Sustained attempts per address per minute. Default 6. */
  perAddressPerMinute: number;
  /** New attempts per second from everyone (a spoofed-address flood). Default 10. */
  globalPerSecond: number;
  /** Addresses remembered for rate limiting (oldest forgotten first; memory stays bounded). Default 1024. */
  maxTrackedAddresses: number;
  /** An unauthenticated handshake is dropped after this long, ms. Default 10000 (the link layer may pass its own, e.g. longer at 300 bit/s). */
  handshakeDeadlineMs: number;
}

export const DEFAULT_ADMISSION_OPTIONS: Readonly<AdmissionOptions> = Object.freeze({
  maxPending: 16,
  maxPendingPerAddress: 2,
  perAddressBurst: 4,
  perAddressPerMinute: 6,
  globalPerSecond: 10,
  maxTrackedAddresses: 1024,
  handshakeDeadlineMs: 10_000,
});

export type AdmissionRefusal = 'too_many_pending' | 'address_busy' | 'rate_limited' | 'flood';

export interface AdmissionCounters {
  admitted: number;
  refused: Record<AdmissionRefusal, number>;
  authenticated: number;
  failed: number;
  timedOut: number;
}

/** One admitted handshake; hand it back with {@link HandshakeAdmission.finish}. */
export interface AdmissionTicket {
  readonly id: number;
  readonly address: string;
  readonly deadlineMs: number;
}

/** Caps on concurrent unauthenticated handshakes and per-address attempts. */
export class HandshakeAdmission {
  readonly counters: AdmissionCounters = { admitted: 0, refused: { too_many_pending: 0, address_busy: 0, rate_limited: 0, flood: 0 }, authenticated: 0, failed: 0, timedOut: 0 };
  private readonly o: AdmissionOptions;
  private readonly pending = new Map<number, AdmissionTicket>();
  private readonly pendingByAddress = new Map<string, number>();
  /** Insertion-ordered: the first entry is the least recently used. */
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly global: TokenBucket;
  private nextId = 1;

  constructor(options: Partial<AdmissionOptions> = {}, nowMs = 0) {
    this.o = { ...DEFAULT_ADMISSION_OPTIONS, ...options };
    this.global = new TokenBucket(Math.max(1, this.o.globalPerSecond), this.o.globalPerSecond, nowMs);
  }

  /** Unauthenticated handshakes in progress. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Addresses currently tracked (bounded by `maxTrackedAddresses`). */
  get trackedAddresses(): number {
    return this.buckets.size;
  }

  /** May a handshake from `address` start now? Refusals are counted; nothing else is allocated for them. */
  admit(address: string, nowMs: number): { ticket: AdmissionTicket } | { refused: AdmissionRefusal } {
    this.expire(nowMs);
    if (this.pending.size >= this.o.maxPending) return this.refuse('too_many_pending');
    if ((this.pendingByAddress.get(address) ?? 0) >= this.o.maxPendingPerAddress) return this.refuse('address_busy');
    let bucket = this.buckets.get(address);
    if (bucket) this.buckets.delete(address); // re-insert: most recently used last
    else {
      bucket = new TokenBucket(this.o.perAddressBurst, this.o.perAddressPerMinute / 60, nowMs);
      this.evictFor(nowMs);
    }
    this.buckets.set(address, bucket);
    if (!bucket.take(nowMs)) return this.refuse('rate_limited');
    if (!this.global.take(nowMs)) return this.refuse('flood');
    const ticket: AdmissionTicket = { id: this.nextId++, address, deadlineMs: nowMs + this.o.handshakeDeadlineMs };
    this.pending.set(ticket.id, ticket);
    this.pendingByAddress.set(address, (this.pendingByAddress.get(address) ?? 0) + 1);
    this.counters.admitted++;
    return { ticket };
  }

  /** The handshake of `ticket` ended (idempotent). */
  finish(ticket: AdmissionTicket, outcome: 'authenticated' | 'failed' | 'timeout'): void {
    if (!this.pending.delete(ticket.id)) return;
    const n = (this.pendingByAddress.get(ticket.address) ?? 1) - 1;
    if (n <= 0) this.pendingByAddress.delete(ticket.address);
    else this.pendingByAddress.set(ticket.address, n);
    if (outcome === 'authenticated') this.counters.authenticated++;
    else if (outcome === 'failed') this.counters.failed++;
    else this.counters.timedOut++;
  }

  /** Tickets past their deadline, now released as timed out: the caller closes those handshakes. */
  expire(nowMs: number): AdmissionTicket[] {
    const out: AdmissionTicket[] = [];
    for (const t of this.pending.values()) if (t.deadlineMs <= nowMs) out.push(t);
    for (const t of out) this.finish(t, 'timeout');
    return out;
  }

  /** Earliest pending deadline, ms (Infinity when none): when to call {@link expire} next. */
  nextDeadlineMs(): number {
    let m = Infinity;
    for (const t of this.pending.values()) m = Math.min(m, t.deadlineMs);
    return m;
  }

  /** Prometheus text lines (counters) for the daemon's /metrics. */
  metricsLines(prefix = 'stcts_link_handshakes'): string[] {
    const c = this.counters;
    const lines = [`# HELP ${prefix}_total Unauthenticated handshakes by outcome (refused = before any work)`, `# TYPE ${prefix}_total counter`];
    lines.push(`${prefix}_total{outcome="admitted"} ${c.admitted}`, `${prefix}_total{outcome="authenticated"} ${c.authenticated}`, `${prefix}_total{outcome="failed"} ${c.failed}`, `${prefix}_total{outcome="timeout"} ${c.timedOut}`);
    for (const [reason, n] of Object.entries(c.refused)) lines.push(`${prefix}_total{outcome="refused",reason="${reason}"} ${n}`);
    lines.push(`# HELP ${prefix}_pending Unauthenticated handshakes in progress`, `# TYPE ${prefix}_pending gauge`, `${prefix}_pending ${this.pending.size}`);
    return lines;
  }

  private refuse(reason: AdmissionRefusal): { refused: AdmissionRefusal } {
    this.counters.refused[reason]++;
    return { refused: reason };
  }

  private evictFor(nowMs: number): void {
    if (this.buckets.size < this.o.maxTrackedAddresses) return;
    // Forget a full bucket first (it would behave as new anyway), else the least recently used.
    for (const [a, b] of this.buckets) {
      if (b.full(nowMs) && !this.pendingByAddress.has(a)) {
        this.buckets.delete(a);
        return;
      }
    }
    const oldest = this.buckets.keys().next().value;
    if (oldest !== undefined) this.buckets.delete(oldest);
  }
}

export interface AggregatedLogOptions {
  /** At most one line per event kind per this many ms. Default 60000. */
  intervalMs: number;
  /** Distinct details (e.g. addresses) remembered per kind and interval. Default 8. */
  maxDetails: number;
}

interface Bucket {
  count: number;
  sinceMs: number;
  lastLoggedMs: number;
  details: Map<string, number>;
  byReason: Map<string, number>;
}

/**
 * Rate-limited, aggregated log lines: the first event of a kind is logged at once, the rest are
 * counted and summarised at most once per interval ("refused 412 handshakes in 60 s: rate_limited
 * 400, flood 12; from 10.0.0.5 ×300, …"). Memory is bounded by kinds × maxDetails.
 */
export class AggregatedLog {
  private readonly o: AggregatedLogOptions;
  private readonly kinds = new Map<string, Bucket>();
  /** Every event noted, by kind (also for /metrics). */
  readonly totals = new Map<string, number>();

  constructor(
    private readonly write: (msg: string, fields: Record<string, unknown>) => void,
    options: Partial<AggregatedLogOptions> = {},
  ) {
    this.o = { intervalMs: 60_000, maxDetails: 8, ...options };
  }

  /** Records one event (`kind` e.g. 'handshake_refused', `reason` e.g. 'rate_limited', `detail` e.g. the address). */
  note(kind: string, reason: string, detail: string, nowMs: number): void {
    this.totals.set(kind, (this.totals.get(kind) ?? 0) + 1);
    let b = this.kinds.get(kind);
    if (!b) {
      b = { count: 0, sinceMs: nowMs, lastLoggedMs: -Infinity, details: new Map(), byReason: new Map() };
      this.kinds.set(kind, b);
    }
    b.count++;
    b.byReason.set(reason, (b.byReason.get(reason) ?? 0) + 1);
    if (b.details.has(detail) || b.details.size < this.o.maxDetails) b.details.set(detail, (b.details.get(detail) ?? 0) + 1);
    if (nowMs - b.lastLoggedMs >= this.o.intervalMs) this.emit(kind, b, nowMs);
  }

  /** Writes the summaries that are due (call from a timer, e.g. every few seconds). */
  flush(nowMs: number, force = false): void {
    for (const [kind, b] of this.kinds) if (b.count > 0 && (force || nowMs - b.lastLoggedMs >= this.o.intervalMs)) this.emit(kind, b, nowMs);
  }

  private emit(kind: string, b: Bucket, nowMs: number): void {
    this.write(kind, {
      count: b.count,
      seconds: Math.round((nowMs - b.sinceMs) / 1000),
      reasons: Object.fromEntries(b.byReason),
      from: Object.fromEntries(b.details),
      total: this.totals.get(kind) ?? 0,
    });
    b.count = 0;
    b.sinceMs = nowMs;
    b.lastLoggedMs = nowMs;
    b.details.clear();
    b.byReason.clear();
  }
}
