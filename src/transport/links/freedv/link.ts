import { InvalidStateError, TransportError, UsageError } from '../../../core/errors.ts';
import { chargeIn, newDatagramLinkStats, type DatagramLink, type DatagramLinkStats, type LinkState, type PacketCostModel } from '../types.ts';
import { mulberry32 } from '../../prng.ts';
import type { Ptt } from '../ptt/types.ts';
import type { ModemAudioPort } from './audio-port.ts';
import { freedvCost } from './cost.ts';
import { DatagramReassembler, fragmentDatagram, fragmentsFor, MAX_FRAGMENTS, maxDatagramBytes } from './fragments.ts';
import { type FreedvDemodulator, FreedvModem } from './modem.ts';
import type { FreedvDataModeName, FskLdpcOptions } from './modes.ts';

/**
 * FreeDV link adapter (issue #15, first part): datagrams ↔ modem bursts over a {@link ModemAudioPort},
 * half duplex. Datagrams are fragmented into frames (fragments.ts); a transmit turn packs the queued
 * datagrams into one transmission (up to `maxFramesPerTurn` frames: one preamble per
 * `framesPerBurst` frames instead of one per packet) and starts only when the channel has been
 * quiet for `holdoffMs` (no frame, no demodulator sync, not our own transmission): listen before
 * talk, so acks are batched into our next turn instead of keying up over the peer's burst.
 * Time is stream time (samples received), so runs through {@link SimulatedHfAudio} are deterministic.
 *
 * With a {@link Ptt}, the transmitter is keyed (and confirmed) before a turn's audio (which starts
 * with `txDelayMs` of silence) and released when the port has sent it all (`txTailMs` included).
 */

export interface FreedvLinkOptions {
  mode: FreedvDataModeName;
  /** Frames per burst on both ends (see FreedvModemOptions.framesPerBurst). Default 1. */
  framesPerBurst: number;
  fsk?: Partial<FskLdpcOptions>;
  /** Silence sent after keying before the modem audio (transmitter key-up), ms. Default 100. */
  txDelayMs: number;
  /** Silence sent after the audio before unkeying, ms. Default 20. */
  txTailMs: number;
  /** Most frames in one turn. Default 8. */
  maxFramesPerTurn: number;
  /**
   * Quiet channel time needed before transmitting, ms. Default 600. FSK_LDPC reports no sync
   * while a burst is on the air, only its frames (one per 1.44 s), so there at least 1.5 frame
   * times + 200 ms are used.
   */
  holdoffMs: number;
  /**
   * Quiet time needed after OUR OWN transmission, ms: longer than `holdoffMs` so that the peer,
   * which heard our turn end, answers first (turn taking: whoever spoke last waits longer; both
   * ready at once never key together). Default: `holdoffMs` + one 1-frame burst (about the time the
   * peer's demodulator needs to report a burst's sync: an answer that began just before we would key
   * up is seen in time) + 300 ms.
   */
  holdoffAfterOwnMs?: number;
  /**
   * Extra quiet time drawn per turn, uniformly 0…this, ms (seeded by `seed`): two ends that
   * became ready together do not key up together. Default 0.
   */
  holdoffJitterMs: number;
  seed: number;
  /** Datagrams waiting for a turn; more are dropped (`queue_full`). Default 64. */
  queueCapacity: number;
  /** Largest datagram. Default: what `maxFramesPerTurn` frames carry, at most 1200. */
  mtu?: number;
  /** Keys the radio around each turn; owned by the link (closed with it). Default none (VOX). */
  ptt?: Ptt;
}

export const DEFAULT_FREEDV_LINK_OPTIONS: Readonly<FreedvLinkOptions> = Object.freeze({
  mode: 'datac0',
  framesPerBurst: 1,
  txDelayMs: 100,
  txTailMs: 20,
  maxFramesPerTurn: 8,
  holdoffMs: 600,
  holdoffJitterMs: 0,
  seed: 1,
  queueCapacity: 64,
});

export interface FreedvLinkStats extends DatagramLinkStats {
  /** Transmit turns (keyings). */
  turns: number;
  /** Frames received with a good CRC / lost to their CRC. */
  framesIn: number;
  crcErrors: number;
  /** Datagrams lost because one of their fragments was (reassembly). */
  incompleteIn: number;
  /** The demodulator's SNR estimate of the last good frame, dB (NaN before the first). */
  lastSnrDb: number;
  /** PTT keyings confirmed, and PTT commands that failed (a turn whose keying failed waits and retries). */
  pttKeyings: number;
  pttErrors: number;
}

export class FreedvLink implements DatagramLink {
  readonly kind = 'freedv' as const;
  readonly options: Readonly<FreedvLinkOptions>;
  readonly mtu: number;
  readonly cost: PacketCostModel;
  readonly stats: FreedvLinkStats = { ...newDatagramLinkStats(), turns: 0, framesIn: 0, crcErrors: 0, incompleteIn: 0, lastSnrDb: Number.NaN, pttKeyings: 0, pttErrors: 0 };
  private readonly modem: FreedvModem;
  private readonly rx: FreedvDemodulator;
  private readonly reassembler = new DatagramReassembler();
  private readonly queue: Uint8Array[] = [];
  private handler: ((d: Uint8Array) => void) | undefined;
  private readonly stateHandlers: Array<(s: LinkState) => void> = [];
  private linkState: LinkState = 'up';
  private nowSamples = 0;
  private lastBusySamples = Number.NEGATIVE_INFINITY;
  private closing: Promise<void> | undefined;
  private readonly holdoffMs: number;
  private readonly holdoffAfterOwnMs: number;
  private lastBusyOwn = false;
  private pttKeyed = false;
  private readonly random: () => number;
  private jitterMs = 0;

  /** `EngineUnavailableError` when the libcodec2 addon is not built. */
  constructor(
    private readonly port: ModemAudioPort,
    options: Partial<FreedvLinkOptions> = {},
  ) {
    const o: FreedvLinkOptions = { ...DEFAULT_FREEDV_LINK_OPTIONS, ...options };
    if (!Number.isInteger(o.maxFramesPerTurn) || o.maxFramesPerTurn < 1) throw new UsageError('maxFramesPerTurn must be a positive integer');
    this.options = Object.freeze(o);
    this.modem = new FreedvModem({ mode: o.mode, framesPerBurst: o.framesPerBurst, ...(o.fsk ? { fsk: o.fsk } : {}) });
    this.rx = this.modem.createDemodulator();
    // A datagram must fit one turn and the fragment index (MAX_FRAGMENTS frames).
    const frames = Math.min(MAX_FRAGMENTS, o.maxFramesPerTurn);
    this.mtu = Math.min(o.mtu ?? 1200, (frames * maxDatagramBytes(this.modem.info.payloadBytesPerFrame)) / MAX_FRAGMENTS);
    const frameMs = (this.modem.info.frameSamples * 1000) / this.modem.info.sampleRateHz;
    this.holdoffMs = o.mode === 'fsk_ldpc' ? Math.max(o.holdoffMs, 1.5 * frameMs + 200) : o.holdoffMs;
    this.cost = freedvCost(this.modem.info, { txDelayMs: o.txDelayMs, txTailMs: o.txTailMs, framesPerBurst: o.framesPerBurst });
    this.holdoffAfterOwnMs = Math.max(this.holdoffMs, o.holdoffAfterOwnMs ?? this.holdoffMs + this.cost.packetCost(0).airtimeMs + 300);
    this.random = mulberry32(o.seed);
    this.jitterMs = this.random() * o.holdoffJitterMs;
    port.onReceive((samples) => this.receive(samples));
  }

  get description(): string {
    return `freedv ${this.options.mode} (${this.modem.info.payloadBytesPerFrame}-byte frames)`;
  }

  get state(): LinkState {
    return this.linkState;
  }

  /** Stream time, ms (samples received so far). */
  get timeMs(): number {
    return (this.nowSamples * 1000) / this.modem.info.sampleRateHz;
  }

  /** Datagrams waiting for a turn. */
  get queued(): number {
    return this.queue.length;
  }

  send(datagram: Uint8Array): void {
    if (this.closing) throw new InvalidStateError('FreedvLink used after close()');
    if (datagram.length > this.mtu) throw new TransportError('too_large', `datagram of ${datagram.length} bytes exceeds the FreeDV ${this.options.mode} link MTU of ${this.mtu}`, { bytes: datagram.length, mtu: this.mtu });
    if (this.queue.length >= this.options.queueCapacity) {
      this.stats.dropped.queue_full++;
      return;
    }
    this.queue.push(datagram.slice());
  }

  onDatagram(handler: (datagram: Uint8Array) => void): void {
    this.handler = handler;
  }

  onState(handler: (state: LinkState) => void): void {
    this.stateHandlers.push(handler);
  }

  async close(): Promise<void> {
    if (!this.closing) {
      this.closing = (async () => {
        this.queue.length = 0;
        await this.modem.close();
        await this.options.ptt?.close();
        this.port.close?.();
        this.linkState = 'closed';
        for (const h of this.stateHandlers) h('closed');
      })();
    }
    return this.closing;
  }

  private async receive(samples: Int16Array): Promise<void> {
    if (this.closing) return;
    const before = this.rx.stats;
    const frames = await this.rx.push(samples);
    this.nowSamples += samples.length;
    const after = this.rx.stats;
    this.stats.crcErrors = after.crcErrors;
    if (this.port.transmitting) {
      this.lastBusySamples = this.nowSamples;
      this.lastBusyOwn = true;
    } else if (frames.length > 0 || after.syncSteps > before.syncSteps) {
      this.lastBusySamples = this.nowSamples;
      this.lastBusyOwn = false;
    }
    for (const f of frames) {
      this.stats.framesIn++;
      this.stats.lastSnrDb = f.snrDb;
      const incomplete = this.reassembler.dropped.incomplete;
      const d = this.reassembler.push(f.payload);
      this.stats.incompleteIn += this.reassembler.dropped.incomplete - incomplete;
      this.stats.dropped.malformed = this.reassembler.dropped.malformed;
      if (!d) continue;
      chargeIn(this.stats, this.cost, d.length);
      this.handler?.(d);
    }
    if (this.pttKeyed && !this.port.transmitting) await this.release();
    if (this.closing || this.queue.length === 0 || this.port.transmitting) return;
    const quietMs = ((this.nowSamples - this.lastBusySamples) * 1000) / this.modem.info.sampleRateHz;
    if (quietMs < (this.lastBusyOwn ? this.holdoffAfterOwnMs : this.holdoffMs) + this.jitterMs) return;
    this.jitterMs = this.random() * this.options.holdoffJitterMs;
    await this.transmitTurn();
  }

  /** Packs queued datagrams (whole ones, in order) into one transmission and keys up. */
  private async transmitTurn(): Promise<void> {
    const info = this.modem.info;
    const payloads: Uint8Array[] = [];
    const taken: Uint8Array[] = [];
    while (this.queue.length) {
      const need = fragmentsFor(this.queue[0]!.length, info.payloadBytesPerFrame);
      if (payloads.length > 0 && payloads.length + need > this.options.maxFramesPerTurn) break;
      const d = this.queue.shift()!;
      taken.push(d);
      payloads.push(...fragmentDatagram(d, info.payloadBytesPerFrame));
    }
    const audio = await this.modem.modulateBurst(payloads);
    if (this.closing) return;
    const ptt = this.options.ptt;
    if (ptt) {
      try {
        await ptt.set(true);
        this.pttKeyed = true;
        this.stats.pttKeyings++;
      } catch {
        // Not keyed: nothing goes out; the datagrams wait a holdoff and try again.
        this.stats.pttErrors++;
        this.queue.unshift(...taken);
        this.lastBusySamples = this.nowSamples;
        return;
      }
    }
    const rate = info.sampleRateHz;
    const lead = Math.round((this.options.txDelayMs * rate) / 1000);
    const tail = Math.round((this.options.txTailMs * rate) / 1000);
    const keyed = new Int16Array(lead + audio.length + tail);
    keyed.set(audio, lead);
    this.port.transmit(keyed);
    this.lastBusySamples = this.nowSamples;
    this.lastBusyOwn = true;
    this.stats.turns++;
    this.stats.airtimeMsOut += (keyed.length * 1000) / rate;
    for (const d of taken) {
      this.stats.datagramsOut++;
      this.stats.payloadBytesOut += d.length;
      this.stats.wireBytesOut += fragmentsFor(d.length, info.payloadBytesPerFrame) * info.bytesPerFrame;
    }
  }

  private async release(): Promise<void> {
    try {
      await this.options.ptt!.set(false);
      this.pttKeyed = false;
    } catch {
      this.stats.pttErrors++; // retried with the next chunk of audio
    }
  }
}
