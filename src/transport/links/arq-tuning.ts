import type { CodecMode } from '../../codec/frame/index.ts';
import type { ReliableReceiverOptions, ReliableSenderOptions } from '../reliability/index.ts';
import type { PacketCostModel } from './types.ts';

/**
 * ARQ settings that follow from a link's cost model (issue #14), so the ARQ never needs to know
 * which link it rides. Full-duplex links keep the defaults (ack within 100 ms, RTO from the measured
 * RTT). On a half-duplex radio every packet pays the transmitter's key-up and tail: the receiver
 * waits until the channel has been quiet that long before it acks (never into the peer's burst; one
 * ack for the burst), and the sender's RTO floor covers that wait plus the ack's own airtime.
 */
export function arqTuning(cost: PacketCostModel): { sender: Partial<ReliableSenderOptions>; receiver: Partial<ReliableReceiverOptions> } {
  if (!cost.halfDuplex) return { sender: {}, receiver: {} };
  const ack = cost.packetCost(3);
  const keyUpMs = cost.packetCost(0).airtimeMs;
  const quietMs = Math.round(keyUpMs);
  const ackDelayMs = 100;
  // A link that packs datagrams into turns (FreeDV): an ack comes after the rest of our turn and the
  // peer's answering turn, so the back-off cap must exceed two of our turns and an answer (with the
  // default 8-s cap a 4FSK turn of 23 s was resent before its ack could come: measured in hf-sim).
  const turnMs = cost.maxTurnMs ?? 0;
  // Prosody waits for its turn with its text: dropping it as stale after the default 4 s (less than
  // a turn) only made the text behind it wait for a forward notice (measured).
  const maxRto = turnMs > 0 ? { maxRtoMs: Math.max(8000, Math.round(2 * turnMs + 2 * ack.airtimeMs + 2 * quietMs)), maxProsodyAgeMs: Math.max(4000, Math.round(2 * turnMs)) } : {};
  return {
    receiver: { quietMs, ackDelayMs },
    sender: { peerAckDelayMs: ackDelayMs + quietMs, minRtoMs: Math.round(ack.airtimeMs + quietMs), ...maxRto },
  };
}

/** Payload bit/s the link can carry in 40-byte packets back to back (key-up and headers paid). */
export function linkCapacityBitsPerSecond(cost: PacketCostModel, budgetBitsPerSecond: number): number {
  const c = cost.packetCost(40);
  const ms = cost.channelBitsPerSecond ? c.airtimeMs : (c.wireBytes * 8 * 1000) / budgetBitsPerSecond;
  return (40 * 8 * 1000) / ms;
}

/**
 * `--mode auto`: the richest codec mode whose stream (minimal ~31, balanced ~36, high ~55 bit/s
 * sustained on dev, README "Results") stays a small share of what the link carries, leaving room
 * for retransmissions, acks and other calls: high from 600 bit/s of capacity, balanced from 120.
 */
export function autoMode(capacityBitsPerSecond: number): CodecMode {
  if (capacityBitsPerSecond >= 600) return 'high';
  if (capacityBitsPerSecond >= 120) return 'balanced';
  return 'minimal';
}
