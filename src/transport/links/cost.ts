import type { PacketCost, PacketCostModel } from './types.ts';

/**
 * Per-packet cost models of the link kinds (issue #14): what a datagram of n payload bytes really
 * costs in bytes and channel time. "Bits on the wire" everywhere in stcts means these wire bytes.
 */

/** Serialization time of `bytes` at `bitsPerSecond`, ms (0 when the rate is unknown). */
const serializeMs = (bytes: number, bitsPerSecond: number | undefined): number => (bitsPerSecond ? (bytes * 8 * 1000) / bitsPerSecond : 0);

/**
 * WebSocket (RFC 6455): 2-byte frame header up to 125 bytes of payload, 4 up to 65535, plus the
 * 4-byte masking key on client-to-server frames. The TCP/IP below is not counted (a WebSocket
 * rides a stream the operator pays per byte of, whatever segments TCP makes).
 */
export function webSocketCost(o: { client: boolean; budgetBitsPerSecond?: number }): PacketCostModel {
  return {
    halfDuplex: false,
    packetCost(n: number): PacketCost {
      const wireBytes = n + (n <= 125 ? 2 : n <= 65535 ? 4 : 10) + (o.client ? 4 : 0);
      return { wireBytes, airtimeMs: serializeMs(wireBytes, o.budgetBitsPerSecond) };
    },
  };
}

/** UDP: 8 bytes of UDP header plus 20 of IPv4 (40 of IPv6) per datagram. */
export function udpCost(o: { ipv6?: boolean; budgetBitsPerSecond?: number } = {}): PacketCostModel {
  const header = 8 + (o.ipv6 ? 40 : 20);
  return {
    halfDuplex: false,
    packetCost(n: number): PacketCost {
      const wireBytes = n + header;
      return { wireBytes, airtimeMs: serializeMs(wireBytes, o.budgetBitsPerSecond) };
    },
  };
}

/** AX.25 UI header: destination + source address (7 bytes each), control 0x03, PID 0xF0. */
export const AX25_UI_HEADER_BYTES = 16;
/** HDLC frame check sequence (CRC-16), bytes. */
export const HDLC_FCS_BYTES = 2;
/** Shortest frame direwolf 1.6 accepts from a KISS client (shorter ones are padded), bytes. */
export const KISS_MIN_FRAME_BYTES = 15;
/** Longest frame direwolf 1.6 accepts from a KISS client, bytes. */
export const KISS_MAX_FRAME_BYTES = 2123;

export interface KissCostOptions {
  /** Modem rate on the air, baud (1200 AFSK, 300 HF AFSK, 9600 G3RUH…). */
  baud: number;
  /** Transmitter key-up before the frame (flags are sent meanwhile), ms. direwolf default 300. */
  txDelayMs: number;
  /** Tail after the frame before the transmitter unkeys, ms. direwolf default 100. */
  txTailMs: number;
  /** Payloads are wrapped in AX.25 UI frames (amateur mode). */
  ax25: boolean;
}

export const DEFAULT_KISS_COST_OPTIONS: Readonly<KissCostOptions> = Object.freeze({ baud: 1200, txDelayMs: 300, txTailMs: 100, ax25: false });

/**
 * A packet through a KISS TNC onto the air: [AX.25 header] + payload (padded to the TNC's minimum)
 * + FCS, between HDLC flags, bit-stuffed (≈ 1 bit in 62 on random data: taken as 1/62), after the
 * TXDELAY key-up and before the tail. Wire bytes are the HDLC frame (what the channel carries);
 * airtime includes key-up and tail, the cost a half-duplex radio really pays per packet.
 */
export function kissCost(options: Partial<KissCostOptions> = {}): PacketCostModel & { readonly options: Readonly<KissCostOptions> } {
  const o = Object.freeze({ ...DEFAULT_KISS_COST_OPTIONS, ...options });
  return {
    options: o,
    halfDuplex: true,
    channelBitsPerSecond: o.baud,
    packetCost(n: number): PacketCost {
      const frame = Math.max(KISS_MIN_FRAME_BYTES, (o.ax25 ? AX25_UI_HEADER_BYTES : 0) + n);
      const wireBytes = frame + HDLC_FCS_BYTES + 2; // + opening and closing flag
      const bits = wireBytes * 8 * (1 + 1 / 62);
      return { wireBytes, airtimeMs: o.txDelayMs + (bits * 1000) / o.baud + o.txTailMs };
    },
  };
}

/** A model with a fixed number of bytes added per packet (the emulator's `packetOverheadBytes`). */
export function fixedOverheadCost(overheadBytes: number, budgetBitsPerSecond?: number): PacketCostModel {
  return {
    halfDuplex: false,
    packetCost: (n) => ({ wireBytes: n + overheadBytes, airtimeMs: serializeMs(n + overheadBytes, budgetBitsPerSecond) }),
  };
}
