import type { PacketCost, PacketCostModel } from '../types.ts';
import { FRAGMENT_HEADER_BYTES, fragmentsFor } from './fragments.ts';
import type { FreedvModemInfo } from './modem.ts';
import { isFskMode } from './modes.ts';

export interface FreedvCostOptions {
  /** Transmitter key-up before the audio starts (PTT → RF), ms. */
  txDelayMs: number;
  /** Carrier held after the audio ends, ms. */
  txTailMs: number;
  /** Frames per burst of the mode (OFDM; FSK_LDPC: 1, every datagram its own preamble here). */
  framesPerBurst: number;
  /** Most frames the link sends in one turn (FreedvLinkOptions.maxFramesPerTurn). Default 24. */
  maxFramesPerTurn?: number;
}

/**
 * Airtime cost of one datagram sent alone on a FreeDV modem (issue #15): key-up, then per burst
 * preamble + `framesPerBurst` frames (the last burst filled) + postamble, then the tail. Wire
 * bytes are the modem frames it occupies (payload + fragment headers + padding + CRC). A turn that
 * packs several datagrams into one burst costs less than the sum: this is the price of one alone.
 */
export function freedvCost(info: FreedvModemInfo, o: FreedvCostOptions): PacketCostModel {
  const frameMs = (info.frameSamples * 1000) / info.sampleRateHz;
  const overheadMs = ((info.preambleSamples + info.postambleSamples) * 1000) / info.sampleRateHz;
  const perBurst = isFskMode(info.mode) ? Number.POSITIVE_INFINITY : Math.max(1, o.framesPerBurst);
  const turnFrames = o.maxFramesPerTurn ?? 24;
  const turnBursts = perBurst === Number.POSITIVE_INFINITY ? 1 : Math.ceil(turnFrames / perBurst);
  return {
    halfDuplex: true,
    maxTurnMs: o.txDelayMs + turnBursts * overheadMs + turnFrames * frameMs + o.txTailMs,
    channelBitsPerSecond: (info.bytesPerFrame * 8 * 1000) / frameMs,
    packetCost(n: number): PacketCost {
      const frames = fragmentsFor(n, info.payloadBytesPerFrame);
      const bursts = perBurst === Number.POSITIVE_INFINITY ? 1 : Math.ceil(frames / perBurst);
      const sentFrames = perBurst === Number.POSITIVE_INFINITY ? frames : bursts * perBurst;
      return { wireBytes: sentFrames * info.bytesPerFrame, airtimeMs: o.txDelayMs + bursts * overheadMs + sentFrames * frameMs + o.txTailMs };
    },
    packedCost(n: number): PacketCost {
      const frames = fragmentsFor(n, info.payloadBytesPerFrame);
      // Preambles amortized over full bursts (FSK_LDPC: one per turn, counted in the turn).
      const share = perBurst === Number.POSITIVE_INFINITY ? 0 : (frames / perBurst) * overheadMs;
      return { wireBytes: frames * info.bytesPerFrame, airtimeMs: frames * frameMs + share };
    },
  };
}

/** Payload bytes one frame carries for datagrams (after the fragment header). */
export const datagramBytesPerFrame = (info: FreedvModemInfo): number => info.payloadBytesPerFrame - FRAGMENT_HEADER_BYTES;
