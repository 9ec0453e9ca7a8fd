import { mulberry32 } from './prng.ts';
import type { PacketCostModel } from './links/types.ts';

export interface LinkOptions {
  /** Link rate, bits per second (token bucket: packets serialize one after another). */
  bitsPerSecond: number;
  /** Mean packet loss probability, 0..1. */
  lossRate: number;
  /** Mean loss-burst length in packets; 1 = independent (Bernoulli) loss, > 1 = Gilbert–Elliott. */
  meanBurstPackets: number;
  /** One-way propagation delay, ms. */
  delayMs: number;
  /** Uniform jitter added to each packet's delay, ±ms (may reorder packets). */
  jitterMs: number;
  /** Link-layer bytes added to every packet (e.g. a radio modem's own framing). Default 0. */
  packetOverheadBytes: number;
  /**
   * The link kind's packet cost model (src/transport/links/cost.ts): wire bytes with its headers,
   * and on a radio (`channelBitsPerSecond`) the airtime incl. key-up at the modem rate, which then
   * replaces `bitsPerSecond`. Replaces `packetOverheadBytes` when given.
   */
  cost: PacketCostModel | undefined;
  /**
   * A channel shared with the reverse direction (half duplex: one side transmits at a time, carrier
   * sense waits for the other). Pass the same object to both directions' emulators.
   */
  sharedChannel: { busyUntilMs: number } | undefined;
  /** Largest queue in front of the link, ms of transmission time; later packets are tail-dropped. */
  queueLimitMs: number;
  /** Periods when nothing gets through. */
  outages: Array<{ startMs: number; durationMs: number }>;
  seed: number;
}

export const DEFAULT_LINK_OPTIONS: Readonly<LinkOptions> = Object.freeze({
  bitsPerSecond: 300,
  lossRate: 0,
  meanBurstPackets: 1,
  delayMs: 0,
  jitterMs: 0,
  packetOverheadBytes: 0,
  cost: undefined,
  sharedChannel: undefined,
  queueLimitMs: 60_000,
  outages: [],
  seed: 1,
});

export interface LinkStats {
  packetsIn: number;
  packetsLost: number;
  packetsTailDropped: number;
  packetsOutage: number;
  /** Bits put on the link (sent packets incl. overhead; lost ones count too: they used the channel). */
  bitsOnLink: number;
  /** Channel time of everything sent, ms (key-up included on a radio). */
  airtimeMs: number;
}

/** What happened to one packet. */
export type LinkVerdict = { delivered: true; arriveAtMs: number } | { delivered: false; reason: 'loss' | 'queue' | 'outage' };

/**
 * One direction of a thin lossy link, driven by the caller's clock (virtual in tests and `stcts
 * sim`, real in `stcts relay`). Rate limit, Bernoulli or Gilbert–Elliott loss, delay, jitter
 * (hence reordering), outages; seeded so every run is reproducible.
 */
export class LinkEmulator {
  readonly options: Readonly<LinkOptions>;
  readonly stats: LinkStats = { packetsIn: 0, packetsLost: 0, packetsTailDropped: 0, packetsOutage: 0, bitsOnLink: 0, airtimeMs: 0 };
  private readonly random: () => number;
  private busyUntilMs = 0;
  private bad = false;
  private readonly pGoodToBad: number;
  private readonly pBadToGood: number;

  constructor(options: Partial<LinkOptions> = {}) {
    this.options = Object.freeze({ ...DEFAULT_LINK_OPTIONS, ...options });
    const { lossRate: p, meanBurstPackets: k } = this.options;
    if (!(this.options.bitsPerSecond > 0)) throw new RangeError('bitsPerSecond must be > 0');
    if (p < 0 || p >= 1) throw new RangeError('lossRate must be in [0, 1)');
    if (k < 1) throw new RangeError('meanBurstPackets must be ≥ 1');
    this.random = mulberry32(this.options.seed);
    // Gilbert–Elliott with loss only in the bad state: mean burst k → P(bad→good) = 1/k; the bad
    // state's stationary share equals the mean loss p → P(good→bad) = p / (k (1 − p)).
    this.pBadToGood = 1 / k;
    this.pGoodToBad = p === 0 ? 0 : p / (k * (1 - p));
  }

  /** Earliest time the link could start sending a new packet. */
  get busyUntil(): number {
    return this.options.sharedChannel ? this.options.sharedChannel.busyUntilMs : this.busyUntilMs;
  }

  /** Offers a packet of `bytes` at `nowMs`; returns its fate. */
  send(bytes: number, nowMs: number): LinkVerdict {
    const o = this.options;
    this.stats.packetsIn++;
    const c = o.cost?.packetCost(bytes);
    const bits = (c ? c.wireBytes : bytes + o.packetOverheadBytes) * 8;
    const start = Math.max(nowMs, this.busyUntil);
    if (start - nowMs > o.queueLimitMs) {
      this.stats.packetsTailDropped++;
      return { delivered: false, reason: 'queue' };
    }
    const txMs = c && o.cost?.channelBitsPerSecond ? c.airtimeMs : (bits / o.bitsPerSecond) * 1000;
    this.busyUntilMs = start + txMs;
    if (o.sharedChannel) o.sharedChannel.busyUntilMs = this.busyUntilMs;
    this.stats.bitsOnLink += bits;
    this.stats.airtimeMs += txMs;
    if (o.outages.some((w) => start < w.startMs + w.durationMs && start + txMs > w.startMs)) {
      this.stats.packetsOutage++;
      return { delivered: false, reason: 'outage' };
    }
    let lost: boolean;
    if (o.meanBurstPackets <= 1) {
      lost = this.random() < o.lossRate;
    } else {
      this.bad = this.bad ? this.random() >= this.pBadToGood : this.random() < this.pGoodToBad;
      lost = this.bad;
    }
    if (lost) {
      this.stats.packetsLost++;
      return { delivered: false, reason: 'loss' };
    }
    const jitter = o.jitterMs > 0 ? (this.random() * 2 - 1) * o.jitterMs : 0;
    return { delivered: true, arriveAtMs: this.busyUntilMs + Math.max(0, o.delayMs + jitter) };
  }
}
