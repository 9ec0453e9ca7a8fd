import { LinkEmulator } from './emulator.ts';
import { udpCost } from './links/cost.ts';
import { mulberry32 } from './prng.ts';

/**
 * One direction of an impaired datagram path, in the caller's clock (real time in the UDP
 * impairment proxy). Loss is the link emulator's model (src/transport/emulator.ts: Bernoulli, or
 * Gilbert–Elliott with the mean burst length), delay and jitter likewise; on top: reordering
 * (a packet held back so later ones overtake it), duplication, and an optional rate limit with a
 * FIFO queue. Every packet's fate (lost, jitter, held back, duplicated) is drawn from the seed and
 * the packet's index alone, with a fixed number of draws per packet, so the same packet sequence
 * gets the same fates whatever the timing. Only the queue (tail drop, departure time) depends on
 * when packets arrive.
 */
export interface ImpairmentOptions {
  /** Mean packet loss probability, 0..1. */
  lossRate: number;
  /** Mean loss-burst length, packets; 1 = independent loss, > 1 = Gilbert–Elliott. */
  meanBurstPackets: number;
  /** One-way delay, ms. */
  delayMs: number;
  /** Uniform jitter on the delay, ± ms (reorders packets closer than 2 × jitter). */
  jitterMs: number;
  /** Share of packets held back by {@link reorderDelayMs} (so later packets overtake them), 0..1. */
  reorderRate: number;
  /** Extra delay of a held-back packet, ms. Default 50. */
  reorderDelayMs: number;
  /** Share of packets delivered twice, 0..1. */
  duplicateRate: number;
  /** Time between a packet and its duplicate, ms. Default 5. */
  duplicateGapMs: number;
  /** Rate limit, bit/s of wire bytes (payload + IP/UDP header + `packetOverheadBytes`); 0 = none. */
  bitsPerSecond: number;
  /** Bytes charged per datagram beyond the IP/UDP header (a modem's framing). Default 0. */
  packetOverheadBytes: number;
  /** Charge IPv6 (48-byte) instead of IPv4 (28-byte) headers for the rate limit. */
  ipv6: boolean;
  /** Longest wait in the rate limiter's queue, ms; later packets are tail-dropped. Default 60 000. */
  queueLimitMs: number;
  /** Windows (from the channel's time 0) when nothing gets through. */
  outages: ReadonlyArray<{ startMs: number; durationMs: number }>;
  seed: number;
}

export const DEFAULT_IMPAIRMENT_OPTIONS: Readonly<ImpairmentOptions> = Object.freeze({
  lossRate: 0,
  meanBurstPackets: 1,
  delayMs: 0,
  jitterMs: 0,
  reorderRate: 0,
  reorderDelayMs: 50,
  duplicateRate: 0,
  duplicateGapMs: 5,
  bitsPerSecond: 0,
  packetOverheadBytes: 0,
  ipv6: false,
  queueLimitMs: 60_000,
  outages: [],
  seed: 1,
});

/** The seeded part of one packet's fate (timing-independent). */
export interface PacketFate {
  index: number;
  lost: boolean;
  /** Jitter drawn for the packet, ms (in [−jitterMs, jitterMs]). */
  jitterMs: number;
  reordered: boolean;
  duplicated: boolean;
}

/** What happened to one offered packet: when its copies arrive (ms, caller's clock), or why none. */
export type ImpairmentVerdict =
  | { delivered: true; arriveAtMs: number[]; fate: PacketFate }
  | { delivered: false; reason: 'loss' | 'queue' | 'outage'; fate: PacketFate };

export interface ImpairmentStats {
  packetsIn: number;
  bytesIn: number;
  packetsLost: number;
  /** Runs of consecutive lost packets (mean burst = packetsLost / lossBursts). */
  lossBursts: number;
  packetsTailDropped: number;
  packetsOutage: number;
  packetsReordered: number;
  packetsDuplicated: number;
  /** Datagrams handed on (duplicates included). */
  packetsOut: number;
  /** Wire bits through the rate limiter (lost packets too: they used the channel). */
  bitsOnLink: number;
}

export const newImpairmentStats = (): ImpairmentStats => ({
  packetsIn: 0, bytesIn: 0, packetsLost: 0, lossBursts: 0, packetsTailDropped: 0, packetsOutage: 0, packetsReordered: 0, packetsDuplicated: 0, packetsOut: 0, bitsOnLink: 0,
});

const checkShare = (name: string, v: number, max = 1) => {
  if (!(v >= 0 && v <= max)) throw new RangeError(`${name} must be in [0, ${max}], got ${v}`);
};

export class ImpairmentChannel {
  readonly options: Readonly<ImpairmentOptions>;
  readonly stats: ImpairmentStats = newImpairmentStats();
  /** Loss only: the emulator's Bernoulli / Gilbert–Elliott model, one draw per packet. */
  private readonly loss: LinkEmulator;
  private readonly random: () => number;
  private index = 0;
  private lastLost = false;
  private busyUntilMs = 0;

  constructor(options: Partial<ImpairmentOptions> = {}) {
    const o = (this.options = Object.freeze({ ...DEFAULT_IMPAIRMENT_OPTIONS, ...options }));
    checkShare('reorderRate', o.reorderRate);
    checkShare('duplicateRate', o.duplicateRate);
    for (const k of ['delayMs', 'jitterMs', 'reorderDelayMs', 'duplicateGapMs', 'bitsPerSecond', 'packetOverheadBytes', 'queueLimitMs'] as const) {
      if (!(o[k] >= 0)) throw new RangeError(`${k} must be ≥ 0, got ${o[k]}`);
    }
    // Rate, queue and jitter are ours; the emulator only decides loss (it range-checks lossRate
    // and meanBurstPackets).
    this.loss = new LinkEmulator({ lossRate: o.lossRate, meanBurstPackets: o.meanBurstPackets, seed: o.seed, bitsPerSecond: Number.MAX_VALUE, queueLimitMs: Infinity });
    this.random = mulberry32((o.seed ^ 0x5bd1e995) >>> 0);
  }

  /** Draws the next packet's fate: exactly one loss draw and three others, whatever the outcome. */
  nextFate(): PacketFate {
    const o = this.options;
    const lost = !this.loss.send(0, 0).delivered;
    const uJitter = this.random();
    const uReorder = this.random();
    const uDuplicate = this.random();
    return {
      index: this.index++,
      lost,
      jitterMs: o.jitterMs > 0 ? (uJitter * 2 - 1) * o.jitterMs : 0,
      reordered: uReorder < o.reorderRate,
      duplicated: uDuplicate < o.duplicateRate,
    };
  }

  /** Offers a datagram of `payloadBytes` at `nowMs`. */
  offer(payloadBytes: number, nowMs: number): ImpairmentVerdict {
    const o = this.options;
    const s = this.stats;
    const fate = this.nextFate();
    s.packetsIn++;
    s.bytesIn += payloadBytes;
    if (fate.lost) {
      s.packetsLost++;
      if (!this.lastLost) s.lossBursts++;
    }
    this.lastLost = fate.lost;
    let departMs = nowMs;
    if (o.bitsPerSecond > 0) {
      const start = Math.max(nowMs, this.busyUntilMs);
      if (start - nowMs > o.queueLimitMs) {
        s.packetsTailDropped++;
        return { delivered: false, reason: 'queue', fate };
      }
      const bits = (udpCost({ ipv6: o.ipv6 }).packetCost(payloadBytes).wireBytes + o.packetOverheadBytes) * 8;
      s.bitsOnLink += bits;
      departMs = this.busyUntilMs = start + (bits * 1000) / o.bitsPerSecond;
    }
    if (o.outages.some((w) => departMs >= w.startMs && departMs < w.startMs + w.durationMs)) {
      s.packetsOutage++;
      return { delivered: false, reason: 'outage', fate };
    }
    if (fate.lost) return { delivered: false, reason: 'loss', fate };
    const arrive = departMs + Math.max(0, o.delayMs + fate.jitterMs) + (fate.reordered ? o.reorderDelayMs : 0);
    if (fate.reordered) s.packetsReordered++;
    const arriveAtMs = [arrive];
    if (fate.duplicated) {
      s.packetsDuplicated++;
      arriveAtMs.push(arrive + o.duplicateGapMs);
    }
    s.packetsOut += arriveAtMs.length;
    return { delivered: true, arriveAtMs, fate };
  }
}
