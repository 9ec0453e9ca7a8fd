import type { Frame } from '../codec/frame/index.ts';
import { LinkEmulator, type LinkOptions } from './emulator.ts';
import { ackPacket, decodeForSession } from './link-packet.ts';
import { LinkPacer, ReliableReceiver, ReliableSender, streamOf, type ReliableReceiverOptions, type ReliableSenderOptions, type StreamClass } from './reliability/index.ts';

export interface SimInput {
  frame: Frame;
  /** When the sender has this frame (end of its phrase), ms. */
  atMs: number;
}

export interface SimResult {
  /** Delivered / sent, text frames. */
  textDeliveredRatio: number;
  /** Frames delivered more than once to the application. */
  duplicates: number;
  /** Reliable frames delivered in seq order. */
  inOrder: boolean;
  /** Median over text frames of (delivery − availability − the delivering packet's own link time): the protocol's wait, ms. */
  addedLatencyMsMedian: number;
  /** 95th percentile of the same, ms. */
  addedLatencyMsP95: number;
  /** Median of delivery − availability including the link's own serialization and delay, ms. */
  linkLatencyMsMedian: number;
  /** All bits put on both directions of the link / simulated span, bit/s. */
  wireBps: number;
  forwardBps: number;
  reverseBps: number;
  bitsByStream: Record<StreamClass, number>;
  ackBits: number;
  prosodyDeliveredRatio: number;
  retransmissions: number;
  /** Packets the receiver could not use (malformed; compact packets whose implied time it lacked). */
  rejectedPackets: { malformed: number; unresolved: number };
  /** Channel time of both directions' transmissions, s (key-up included on a radio). */
  airtimeSeconds: number;
  /** Both directions' channel time ÷ the simulated span (a half-duplex channel's occupancy). */
  occupancy: number;
  /** First delivery after the last outage ended, s after its end (undefined without outages). */
  recoverySeconds?: number;
  /** When everything said before the outage ended had arrived, s after its end. */
  backlogClearedSeconds?: number;
  spanSeconds: number;
  delivered: Array<{ frame: Frame; atMs: number; linkMs: number }>;
}

/**
 * Runs frames through sender reliability → emulated link → receiver reliability, with acks on a
 * reverse link of the same kind, in virtual time. Deterministic for a given seed.
 */
export function simulateLink(
  inputs: readonly SimInput[],
  link: Partial<LinkOptions>,
  sender: Partial<ReliableSenderOptions> = {},
  limits: { maxSimMs?: number } = {},
  receiver: Partial<ReliableReceiverOptions> = {},
): SimResult {
  // A half-duplex link (a simplex radio) is one channel for both directions.
  const channel = link.cost?.halfDuplex ? { busyUntilMs: 0 } : undefined;
  const fwd = new LinkEmulator({ ...link, sharedChannel: channel });
  const rev = new LinkEmulator({ ...link, sharedChannel: channel, seed: (link.seed ?? 1) * 7919 + 13 });
  const sessionId = inputs[0]?.frame.sessionId ?? 1;
  const tx = new ReliableSender(sessionId, { pacer: new LinkPacer(fwd.options.bitsPerSecond, link.cost), ...sender });
  const rx = new ReliableReceiver(receiver);
  const revPacer = new LinkPacer(rev.options.bitsPerSecond, link.cost);
  const pending = [...inputs].sort((a, b) => a.atMs - b.atMs);
  const inflight: Array<{ atMs: number; bytes: Uint8Array; toReceiver: boolean; linkMs: number }> = [];
  const delivered: Array<{ frame: Frame; atMs: number; linkMs: number }> = [];
  const availableAt = new Map<number, number>();
  let reverseBits = 0;
  let ackBits = 0;
  let now = 0;
  const rejected = { malformed: 0, unresolved: 0 };
  const maxSimMs = limits.maxSimMs ?? (pending.at(-1)?.atMs ?? 0) + 30 * 60_000;

  for (let steps = 0; steps < 5_000_000; steps++) {
    // Next event time.
    const ackAt = rx.ackDueMs === undefined ? undefined : Math.max(rx.ackDueMs, revPacer.freeAtMs);
    const candidates = [pending[0]?.atMs, tx.nextWakeMs(now), ackAt, ...inflight.map((p) => p.atMs)].filter((t): t is number => t !== undefined);
    if (candidates.length === 0) break;
    now = Math.max(now, Math.min(...candidates));
    if (now > maxSimMs) break;
    while (pending.length && pending[0]!.atMs <= now) {
      const p = pending.shift()!;
      availableAt.set(p.frame.seq, p.atMs);
      tx.submit(p.frame, p.atMs);
    }
    for (let i = inflight.length - 1; i >= 0; i--) {
      const p = inflight[i]!;
      if (p.atMs > now) continue;
      inflight.splice(i, 1);
      if (p.toReceiver) {
        const { frames, reject } = decodeForSession(p.bytes, sessionId, (seq) => rx.timeOf(seq));
        if (reject) rejected[reject]++;
        for (const f of rx.accept(frames, now)) delivered.push({ frame: f, atMs: now, linkMs: p.linkMs });
      } else {
        const { ack } = decodeForSession(p.bytes, sessionId, () => undefined);
        if (ack) tx.onAck(ack, now);
      }
    }
    // Acks wait while the reverse link is still busy with the previous one.
    const ack = now >= revPacer.freeAtMs ? rx.takeAck(now) : undefined;
    if (ack) {
      const bytes = ackPacket(sessionId, ack, false);
      const before = rev.stats.bitsOnLink;
      revPacer.chargePacket(bytes.length, now);
      const v = rev.send(bytes.length, now);
      reverseBits += rev.stats.bitsOnLink - before;
      ackBits += rev.stats.bitsOnLink - before;
      if (v.delivered) inflight.push({ atMs: v.arriveAtMs, bytes, toReceiver: false, linkMs: v.arriveAtMs - now });
    }
    for (let guard = 0; guard < 64; guard++) {
      const packet = tx.nextPacket(now);
      if (!packet) break;
      const v = fwd.send(packet.length, now);
      if (v.delivered) inflight.push({ atMs: v.arriveAtMs, bytes: packet, toReceiver: true, linkMs: v.arriveAtMs - now });
    }
    if (pending.length === 0 && inflight.length === 0 && tx.idle && rx.ackDueMs === undefined) break;
  }

  const textSent = inputs.filter((i) => streamOf(i.frame) === 'text');
  const textDelivered = delivered.filter((d) => streamOf(d.frame) === 'text');
  const seen = new Set<number>();
  let duplicates = 0;
  for (const d of delivered) {
    if (seen.has(d.frame.seq)) duplicates++;
    seen.add(d.frame.seq);
  }
  const reliableSeqs = delivered.filter((d) => streamOf(d.frame) !== 'prosody').map((d) => d.frame.seq);
  const inOrder = reliableSeqs.every((s, i) => i === 0 || s > reliableSeqs[i - 1]!);
  // Added latency = time a phrase waits because of our protocol (queueing, pacing, retransmission):
  // delivery − availability − the emulated link's own time for the delivering packet
  // (its serialization at the link rate + propagation delay + jitter).
  const latencies = textDelivered.map((d) => d.atMs - (availableAt.get(d.frame.seq) ?? d.atMs) - d.linkMs).sort((a, b) => a - b);
  const totals = textDelivered.map((d) => d.atMs - (availableAt.get(d.frame.seq) ?? d.atMs)).sort((a, b) => a - b);
  const pctOf = (xs: number[], q: number) => (xs.length ? xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]! : NaN);
  const pct = (q: number) => pctOf(latencies, q);
  const firstMs = inputs.length ? Math.min(...inputs.map((i) => i.atMs)) : 0;
  const spanSeconds = Math.max(1e-3, (now - firstMs) / 1000);
  const prosodySent = inputs.filter((i) => streamOf(i.frame) === 'prosody').length;
  const result: SimResult = {
    textDeliveredRatio: textSent.length ? new Set(textDelivered.map((d) => d.frame.seq)).size / textSent.length : 1,
    duplicates,
    inOrder,
    addedLatencyMsMedian: pct(0.5),
    addedLatencyMsP95: pct(0.95),
    linkLatencyMsMedian: pctOf(totals, 0.5),
    wireBps: (fwd.stats.bitsOnLink + reverseBits) / spanSeconds,
    forwardBps: fwd.stats.bitsOnLink / spanSeconds,
    reverseBps: reverseBits / spanSeconds,
    bitsByStream: { ...tx.stats.bitsByStream },
    ackBits,
    prosodyDeliveredRatio: prosodySent ? delivered.filter((d) => streamOf(d.frame) === 'prosody').length / prosodySent : 1,
    retransmissions: tx.stats.retransmissions,
    rejectedPackets: rejected,
    airtimeSeconds: (fwd.stats.airtimeMs + rev.stats.airtimeMs) / 1000,
    occupancy: (fwd.stats.airtimeMs + rev.stats.airtimeMs) / 1000 / spanSeconds,
    spanSeconds,
    delivered,
  };
  const outage = [...fwd.options.outages].sort((a, b) => a.startMs - b.startMs).at(-1);
  if (outage) {
    const end = outage.startMs + outage.durationMs;
    const after = delivered.filter((d) => d.atMs >= end);
    if (after.length) result.recoverySeconds = (after[0]!.atMs - end) / 1000;
    const before = delivered.filter((d) => (availableAt.get(d.frame.seq) ?? Infinity) < end);
    if (before.length) result.backlogClearedSeconds = Math.max(0, (Math.max(...before.map((d) => d.atMs)) - end) / 1000);
  }
  return result;
}
