/**
 * One datagram-link interface beneath the ARQ (issue #14). Every carrier a link packet can ride —
 * WebSocket, UDP, a KISS TNC, a FreeDV modem — is a {@link DatagramLink}: it sends and receives
 * whole datagrams up to its MTU, reports its state, and says what a packet really costs on the wire
 * ({@link PacketCostModel}: bytes with the link's own headers and framing, and airtime on a
 * radio). The ARQ, the pacer, the daemon and `stcts sim` only ever see this interface.
 */

/** Kinds of link, as in the link URL scheme. */
export type LinkKind = 'ws' | 'udp' | 'kiss' | 'freedv' | 'emulated';

/**
 * `connecting`: not yet able to carry packets (dialing, TNC not attached, handshake running);
 * `up`: packets are carried; `down`: lost (the adapter may retry by itself and go `connecting`);
 * `closed`: closed by us, final.
 */
export type LinkState = 'connecting' | 'up' | 'down' | 'closed';

/** What one packet costs on the wire. */
export interface PacketCost {
  /** Bytes on the wire: the payload plus every header, escape and flag the link adds. */
  wireBytes: number;
  /**
   * Channel time the packet occupies, ms: on a radio key-up (TXDELAY) + bits at the modem's baud
   * rate + tail; on a wired/IP link its serialization at the configured budget rate (0 = unknown).
   */
  airtimeMs: number;
}

/** How a link charges a packet (pure: same answer for the same size). */
export interface PacketCostModel {
  /** Cost of one datagram of `payloadBytes` sent alone. */
  packetCost(payloadBytes: number): PacketCost;
  /**
   * Half-duplex channel (one side transmits at a time, e.g. a simplex radio): the ARQ must not ack
   * while the peer is mid-burst, and batches acks into its own turn.
   */
  readonly halfDuplex: boolean;
  /**
   * Raw channel rate, bit/s, when the link has one (modem baud rate); undefined for IP links whose
   * rate is only the configured budget.
   */
  readonly channelBitsPerSecond?: number;
  /**
   * Half-duplex links that pack queued datagrams into one transmission: the longest such turn,
   * ms. An ack can only come after the turn that carried the packet ended, so the ARQ's timeouts
   * must cover it (arqTuning).
   */
  readonly maxTurnMs?: number;
  /**
   * Such links: what a datagram adds to a turn that carries others too (its frames; the turn's
   * key-up, preamble and tail are paid once per turn). The pacer charges this when present.
   */
  packedCost?(payloadBytes: number): PacketCost;
}

/** Why an adapter dropped something instead of delivering it (counted, never thrown at the caller). */
export type DropReason = 'malformed' | 'too_large' | 'not_connected' | 'foreign_source' | 'queue_full';

/** Counters of one link (monotonic). */
export interface DatagramLinkStats {
  datagramsOut: number;
  datagramsIn: number;
  /** Payload bytes (what the ARQ handed us / got from us). */
  payloadBytesOut: number;
  payloadBytesIn: number;
  /** Wire bytes including the link's headers and framing ({@link PacketCostModel}). */
  wireBytesOut: number;
  wireBytesIn: number;
  /** Channel time of what we transmitted, ms. */
  airtimeMsOut: number;
  /** Keepalives and other link-internal packets sent (their bytes are in wireBytesOut too). */
  controlPacketsOut: number;
  dropped: Record<DropReason, number>;
}

export const newDatagramLinkStats = (): DatagramLinkStats => ({
  datagramsOut: 0,
  datagramsIn: 0,
  payloadBytesOut: 0,
  payloadBytesIn: 0,
  wireBytesOut: 0,
  wireBytesIn: 0,
  airtimeMsOut: 0,
  controlPacketsOut: 0,
  dropped: { malformed: 0, too_large: 0, not_connected: 0, foreign_source: 0, queue_full: 0 },
});

/**
 * A carrier of whole datagrams (link packets) to one peer.
 * - `send` never blocks and never throws for transient conditions: while not `up` a datagram is
 *   dropped and counted (`not_connected`), the ARQ resends later. A datagram above `mtu` is a
 *   caller bug: `TransportError('too_large')`.
 * - Received datagrams go to the handler set by `onDatagram` (one handler; events are for data here
 *   only because sockets push: the LinkSession serializes them).
 * - `close()` is idempotent; `send` after close throws `InvalidStateError`.
 */
export interface DatagramLink {
  readonly kind: LinkKind;
  /** Human-readable address of the far end or the device (for logs and /metrics). */
  readonly description: string;
  /** Largest datagram payload, bytes. */
  readonly mtu: number;
  readonly cost: PacketCostModel;
  readonly state: LinkState;
  readonly stats: DatagramLinkStats;
  send(datagram: Uint8Array): void;
  onDatagram(handler: (datagram: Uint8Array) => void): void;
  onState(handler: (state: LinkState) => void): void;
  close(): Promise<void>;
}

/** Adds one sent datagram to `stats` by the link's cost model. */
export function chargeOut(stats: DatagramLinkStats, cost: PacketCostModel, payloadBytes: number): PacketCost {
  const c = cost.packetCost(payloadBytes);
  stats.datagramsOut++;
  stats.payloadBytesOut += payloadBytes;
  stats.wireBytesOut += c.wireBytes;
  stats.airtimeMsOut += c.airtimeMs;
  return c;
}

/** Adds one received datagram to `stats` by the link's cost model. */
export function chargeIn(stats: DatagramLinkStats, cost: PacketCostModel, payloadBytes: number): void {
  stats.datagramsIn++;
  stats.payloadBytesIn += payloadBytes;
  stats.wireBytesIn += cost.packetCost(payloadBytes).wireBytes;
}
