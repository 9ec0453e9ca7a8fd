import { InvalidStateError, TransportError, UsageError } from '../../../core/errors.ts';
import { chargeIn, newDatagramLinkStats, type DatagramLink, type DatagramLinkStats, type LinkState, type PacketCostModel } from '../types.ts';
import { mulberry32 } from '../../prng.ts';
import type { Ptt } from '../ptt/types.ts';
import type { ModemAudioPort } from './audio-port.ts';
import { freedvCost } from './cost.ts';
import { DatagramReassembler, FRAGMENT_HEADER_BYTES, fragmentDatagram, fragmentsFor, isOver, markOver, MAX_FRAGMENTS, maxDatagramBytes } from './fragments.ts';
import { ADAPTIVE_HEADER_BYTES, ModeChooser, readModeRequest, writeModeRequest } from './adaptive.ts';
import { type FreedvDemodulator, FreedvModem } from './modem.ts';
import { isFskMode, type FreedvDataModeName, type FskLdpcOptions } from './modes.ts';

/**
 * FreeDV link adapter (issue #15, first part): datagrams ↔ modem bursts over a {@link ModemAudioPort},
 * half duplex. Datagrams are fragmented into frames (fragments.ts); a transmit turn packs the queued
 * datagrams into one transmission (up to `maxFramesPerTurn` frames: one preamble per
 * `framesPerBurst` frames instead of one per packet) and starts only when the channel has been
 * quiet for `holdoffMs` (no frame, no demodulator sync, not our own transmission): listen before
 * talk, so acks are batched into our next turn instead of keying up over the peer's burst. A turn's
 * last frame says "over" (fragments.ts): the peer that hears it answers after the postamble and
 * tail (`OVER_MARGIN_MS`), without the holdoff; a lost over frame leaves the holdoff in force.
 * Time is stream time (samples received), so runs through {@link SimulatedHfAudio} are deterministic.
 *
 * With a {@link Ptt}, the transmitter is keyed (and confirmed) before a turn's audio (which starts
 * with `txDelayMs` of silence) and released when the port has sent it all (`txTailMs` included).
 */

export interface FreedvLinkOptions {
  mode: FreedvDataModeName;
  /**
   * Adaptive mode choice (issue #15): the candidate modes, most capable first, the same list on
   * both ends. Every candidate is demodulated in parallel (a receiver never needs to know which
   * comes); each datagram carries one header byte with the mode we want the peer to send in, from
   * the SNR we measure (adaptive.ts); a sender whose turns go unanswered steps down by itself.
   * `mode` is then the first mode sent in. Unset or one mode: a plain link (no header byte).
   */
  modes?: readonly FreedvDataModeName[];
  /** Frames per burst on both ends (see FreedvModemOptions.framesPerBurst). Default 1. */
  framesPerBurst: number;
  fsk?: Partial<FskLdpcOptions>;
  /** Silence sent after keying before the modem audio (transmitter key-up), ms. Default 100. */
  txDelayMs: number;
  /** Silence sent after the audio before unkeying, ms. Default 20. */
  txTailMs: number;
  /**
   * Most frames in one turn. Default 24: a turn carries what is queued, so this only matters with a
   * backlog, where long turns pay the turn-around less often (4FSK at 100 baud: 8 frames a turn
   * could not keep up with a 40 bit/s call, 16 and 24 did; measured in hf-sim).
   */
  maxFramesPerTurn: number;
  /**
   * Quiet channel time needed before transmitting, ms. Default 600. FSK_LDPC reports no sync
   * while a burst is on the air, only its frames (one per 1.44 s at 100 baud), so there at least
   * 2.5 frame times + 200 ms are used (with 1.5, one frame lost at −7 dB mid-turn let the peer key
   * over the rest of the turn, measured). A turn's over frame (fragments.ts) ends it sooner.
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
  /**
   * Transmit level per mode, a gain on the modem's audio (the operator's drive setting), default 1.
   * libcodec2's FSK bursts carry 3.6 dB more mean power than its OFDM bursts at the same peak: an
   * adaptive link whose modes should reach the channel with the same mean power (as the FreeDV SNR
   * convention counts it) sets FSK's level to 0.66 (hf-call.ts does).
   */
  levels?: Partial<Record<FreedvDataModeName, number>>;
  /** Keys the radio around each turn; owned by the link (closed with it). Default none (VOX). */
  ptt?: Ptt;
}

export const DEFAULT_FREEDV_LINK_OPTIONS: Readonly<FreedvLinkOptions> = Object.freeze({
  mode: 'datac0',
  framesPerBurst: 1,
  txDelayMs: 100,
  txTailMs: 20,
  maxFramesPerTurn: 24,
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
  /**
   * The peer's turns we heard end (their over frame), and of those, turns that brought no complete
   * datagram: the peer sent something we lost, and only an answer from us can tell it so soon.
   */
  oversHeard: number;
  emptyTurnsHeard: number;
  /** The demodulator's SNR estimate of the last good frame, dB (NaN before the first). */
  lastSnrDb: number;
  /** PTT keyings confirmed, and PTT commands that failed (a turn whose keying failed waits and retries). */
  pttKeyings: number;
  pttErrors: number;
  /** Adaptive: the mode we send in now, the switches, and every mode we sent in. */
  txMode: FreedvDataModeName;
  modeSwitches: number;
  modesUsed: FreedvDataModeName[];
}

/** Margin after the peer's over frame, its postamble and tail before we key up, ms. */
const OVER_MARGIN_MS = 100;

export class FreedvLink implements DatagramLink {
  readonly kind = 'freedv' as const;
  readonly options: Readonly<FreedvLinkOptions>;
  readonly mtu: number;
  readonly stats: FreedvLinkStats;
  private readonly modems: FreedvModem[];
  private readonly rxs: FreedvDemodulator[];
  private readonly reassemblers: DatagramReassembler[];
  private readonly costs: PacketCostModel[];
  private readonly holdoffs: number[];
  private readonly chooser: ModeChooser | undefined;
  private tx = 0;
  private lastHeard = 0;
  private unanswered = 0;
  private readonly queue: Uint8Array[] = [];
  private handler: ((d: Uint8Array) => void) | undefined;
  private readonly stateHandlers: Array<(s: LinkState) => void> = [];
  private linkState: LinkState = 'up';
  private nowSamples = 0;
  private lastBusySamples = Number.NEGATIVE_INFINITY;
  private closing: Promise<void> | undefined;
  private readonly holdoffAfterOwnMs: number;
  private lastBusyOwn = false;
  private pttKeyed = false;
  private readonly random: () => number;
  private jitterMs = 0;
  /** Stream time of the peer's last "over" frame (its turn ended), samples. */
  private overSamples = Number.NEGATIVE_INFINITY;
  /** Until then the demodulators' sync without a frame is the over turn's postamble, not a new turn. */
  private ignoreSyncUntil = Number.NEGATIVE_INFINITY;
  /** Per mode: quiet time after the peer's over frame before we key (its postamble + tail + margin), ms. */
  private readonly overGuards: number[];
  /** Complete datagrams heard since the peer's last over frame. */
  private datagramsThisTurn = 0;

  /** `EngineUnavailableError` when the libcodec2 addon is not built. */
  constructor(
    private readonly port: ModemAudioPort,
    options: Partial<FreedvLinkOptions> = {},
  ) {
    const o: FreedvLinkOptions = { ...DEFAULT_FREEDV_LINK_OPTIONS, ...options };
    if (!Number.isInteger(o.maxFramesPerTurn) || o.maxFramesPerTurn < 1) throw new UsageError('maxFramesPerTurn must be a positive integer');
    for (const [mode, level] of Object.entries(o.levels ?? {})) if (!(level > 0 && level <= 4)) throw new UsageError(`transmit level of ${mode} must be in (0, 4], got ${String(level)}`);
    this.options = Object.freeze(o);
    const modes = o.modes && o.modes.length > 1 ? [...o.modes] : [o.mode];
    if (!modes.includes(o.mode)) throw new UsageError(`mode ${o.mode} is not among the adaptive modes ${modes.join(',')}`);
    this.modems = modes.map((mode) => new FreedvModem({ mode, framesPerBurst: o.framesPerBurst, ...(o.fsk ? { fsk: o.fsk } : {}) }));
    this.rxs = this.modems.map((m) => m.createDemodulator());
    this.reassemblers = this.modems.map(() => new DatagramReassembler());
    this.tx = modes.indexOf(o.mode);
    this.chooser = modes.length > 1 ? new ModeChooser(modes, o.levels) : undefined;
    const header = this.chooser ? ADAPTIVE_HEADER_BYTES : 0;
    // A datagram must fit one turn and the fragment index (MAX_FRAGMENTS frames), in every mode.
    const frames = Math.min(MAX_FRAGMENTS, o.maxFramesPerTurn);
    this.mtu = Math.min(o.mtu ?? 1200, ...this.modems.map((m) => (frames * maxDatagramBytes(m.info.payloadBytesPerFrame)) / MAX_FRAGMENTS - header));
    this.holdoffs = this.modems.map((m) => {
      const frameMs = (m.info.frameSamples * 1000) / m.info.sampleRateHz;
      return isFskMode(m.info.mode) ? Math.max(o.holdoffMs, 2.5 * frameMs + 200) : o.holdoffMs;
    });
    this.costs = this.modems.map((m) => freedvCost(m.info, { txDelayMs: o.txDelayMs, txTailMs: o.txTailMs, framesPerBurst: o.framesPerBurst, maxFramesPerTurn: o.maxFramesPerTurn }));
    // After our own turn, wait longer than any candidate's peer needs to see a burst begin.
    // FSK_LDPC hands a frame out up to a frame time after it ended, so the peer's holdoff starts that
    // much later: one more 1-frame burst of margin there (measured: the sender keyed over the ack).
    this.holdoffAfterOwnMs = o.holdoffAfterOwnMs ?? Math.max(...this.modems.map((m, i) => this.holdoffs[i]! + (isFskMode(m.info.mode) ? 2 : 1) * this.costs[i]!.packetCost(0).airtimeMs + 300));
    this.overGuards = this.modems.map((m) => (m.info.postambleSamples * 1000) / m.info.sampleRateHz + o.txTailMs + OVER_MARGIN_MS);
    this.lastHeard = this.tx;
    this.stats = { ...newDatagramLinkStats(), turns: 0, framesIn: 0, crcErrors: 0, incompleteIn: 0, oversHeard: 0, emptyTurnsHeard: 0, lastSnrDb: Number.NaN, pttKeyings: 0, pttErrors: 0, txMode: o.mode, modeSwitches: 0, modesUsed: [] };
    this.random = mulberry32(o.seed);
    this.jitterMs = this.random() * o.holdoffJitterMs;
    port.onReceive((samples) => this.receive(samples));
  }

  get description(): string {
    const m = this.modems[this.tx]!.info;
    return this.chooser ? `freedv adaptive ${this.modems.map((x) => x.info.mode).join('/')} (now ${m.mode})` : `freedv ${m.mode} (${m.payloadBytesPerFrame}-byte frames)`;
  }

  /** Cost of a datagram in the mode we send in now. */
  get cost(): PacketCostModel {
    return this.costs[this.tx]!;
  }

  get state(): LinkState {
    return this.linkState;
  }

  /** Stream time, ms (samples received so far). */
  get timeMs(): number {
    return this.nowSamples / 8;
  }

  /**
   * The channel has been quiet long enough for our next turn (listen before talk): datagrams sent
   * now go out with the next chunk of received audio. A caller that hands datagrams over only then
   * starts its timers at the air time (hf-call.ts).
   */
  get clearToSend(): boolean {
    if (this.closing || this.port.transmitting) return false;
    const quietMs = (this.nowSamples - this.lastBusySamples) / 8;
    if (!this.lastBusyOwn && this.overSamples === this.lastBusySamples) return quietMs >= this.overGuards[this.lastHeard]!;
    return quietMs >= (this.lastBusyOwn ? this.holdoffAfterOwnMs : this.holdoffs[this.lastHeard]!) + this.jitterMs;
  }

  /** Datagrams waiting for a turn. */
  get queued(): number {
    return this.queue.length;
  }

  /** Bytes of the datagrams waiting for a turn. */
  get queuedBytes(): number {
    return this.queue.reduce((n, d) => n + d.length, 0);
  }

  /** Datagram bytes one turn carries at most in the mode we send in now (`maxFramesPerTurn` full frames). */
  get turnBytes(): number {
    const info = this.modems[this.tx]!.info;
    return this.options.maxFramesPerTurn * (info.payloadBytesPerFrame - FRAGMENT_HEADER_BYTES) - (this.chooser ? ADAPTIVE_HEADER_BYTES : 0);
  }

  send(datagram: Uint8Array): void {
    if (this.closing) throw new InvalidStateError('FreedvLink used after close()');
    if (datagram.length > this.mtu) throw new TransportError('too_large', `datagram of ${datagram.length} bytes exceeds the FreeDV ${this.stats.txMode} link MTU of ${this.mtu}`, { bytes: datagram.length, mtu: this.mtu });
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
        await Promise.all(this.modems.map((m) => m.close()));
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
    const before = this.rxs.map((r) => r.stats.syncSteps);
    const crcBefore = this.rxs.map((r) => r.stats.crcErrors);
    // Every candidate mode's demodulator on the same audio, in parallel on the thread pool.
    const results = await Promise.all(this.rxs.map((r) => r.push(samples)));
    this.nowSamples += samples.length;
    this.stats.crcErrors = this.rxs.reduce((n, r) => n + r.stats.crcErrors, 0);
    // A frame that failed its CRC was still the peer on the air.
    const framed = results.findIndex((frames, i) => frames.length > 0 || this.rxs[i]!.stats.crcErrors > crcBefore[i]!);
    const synced = results.findIndex((_, i) => this.rxs[i]!.stats.syncSteps > before[i]!);
    // Sync alone right after the peer said "over" is that turn's postamble fading out.
    const heard = framed >= 0 ? framed : this.nowSamples < this.ignoreSyncUntil ? -1 : synced;
    if (this.port.transmitting) {
      this.lastBusySamples = this.nowSamples;
      this.lastBusyOwn = true;
    } else if (heard >= 0) {
      this.lastBusySamples = this.nowSamples;
      this.lastBusyOwn = false;
      this.lastHeard = heard;
    }
    for (const [i, frames] of results.entries()) {
      for (let k = crcBefore[i]!; k < this.rxs[i]!.stats.crcErrors; k++) this.chooser?.lost(i);
      for (const f of frames) {
        this.stats.framesIn++;
        const over = isOver(f.payload) && !this.port.transmitting;
        if (over) {
          // The peer's turn is over: the channel is free once its postamble and tail have passed.
          this.overSamples = this.lastBusySamples = this.nowSamples;
          this.lastBusyOwn = false;
          this.lastHeard = i;
          this.ignoreSyncUntil = this.nowSamples + this.overGuards[i]! * 8;
        }
        this.stats.lastSnrDb = f.snrDb;
        this.chooser?.heard(i, f.snrDb);
        const r = this.reassemblers[i]!;
        const incomplete = r.dropped.incomplete;
        const d = r.push(f.payload);
        this.stats.incompleteIn += r.dropped.incomplete - incomplete;
        for (let k = incomplete; k < r.dropped.incomplete; k++) this.chooser?.lost(i);
        this.stats.dropped.malformed = this.reassemblers.reduce((n, x) => n + x.dropped.malformed, 0);
        if (d) this.datagramsThisTurn++;
        if (over) {
          this.stats.oversHeard++;
          if (this.datagramsThisTurn === 0) this.stats.emptyTurnsHeard++;
          this.datagramsThisTurn = 0;
        }
        if (!d) continue;
        this.unanswered = 0;
        let body = d;
        if (this.chooser) {
          const want = readModeRequest(d);
          if (want === undefined) {
            this.stats.dropped.malformed++;
            continue;
          }
          if (want >= 0 && want < this.modems.length) this.switchTo(want);
          // The peer has no wish yet (it never heard us): the path is the same both ways, so answer
          // in the mode we would ask of it (measured: acks in DATAC0 at −7 dB, never heard, and
          // no wish to move them).
          else if (want < 0 && this.chooser.request() !== undefined) this.switchTo(this.chooser.request()!);
          body = d.subarray(ADAPTIVE_HEADER_BYTES);
        }
        chargeIn(this.stats, this.costs[i]!, body.length);
        this.handler?.(body);
      }
    }
    if (this.pttKeyed && !this.port.transmitting) await this.release();
    if (this.queue.length === 0 || !this.clearToSend) return;
    this.jitterMs = this.random() * this.options.holdoffJitterMs;
    // Feedback stopped: two of our turns in a row went unanswered (one, before the peer was ever
    // heard: no evidence the mode works at all): one step more robust.
    if (this.chooser && this.unanswered >= (this.stats.datagramsIn > 0 ? 2 : 1) && this.tx < this.modems.length - 1) {
      this.switchTo(this.tx + 1);
      this.chooser.stale(this.tx);
      this.unanswered = 0;
    }
    await this.transmitTurn();
  }

  private switchTo(index: number): void {
    if (index === this.tx) return;
    this.tx = index;
    this.stats.txMode = this.modems[index]!.info.mode;
    this.stats.modeSwitches++;
  }

  /** Packs queued datagrams (whole ones, in order) into one transmission and keys up. */
  private async transmitTurn(): Promise<void> {
    const modem = this.modems[this.tx]!;
    const info = modem.info;
    const header = this.chooser ? ADAPTIVE_HEADER_BYTES : 0;
    const payloads: Uint8Array[] = [];
    const taken: Uint8Array[] = [];
    while (this.queue.length) {
      const need = fragmentsFor(this.queue[0]!.length + header, info.payloadBytesPerFrame);
      if (payloads.length > 0 && payloads.length + need > this.options.maxFramesPerTurn) break;
      const d = this.queue.shift()!;
      taken.push(d);
      payloads.push(...fragmentDatagram(this.chooser ? writeModeRequest(this.chooser.request(), d) : d, info.payloadBytesPerFrame));
    }
    // The burst's filler frames go here (not in the modem), so that the turn's very last frame says "over".
    while (payloads.length < modem.framesInBurst(payloads.length)) payloads.push(new Uint8Array(info.payloadBytesPerFrame));
    payloads[payloads.length - 1] = markOver(payloads[payloads.length - 1]!);
    if (!this.stats.modesUsed.includes(info.mode)) this.stats.modesUsed.push(info.mode);
    this.unanswered++;
    const audio = await modem.modulateBurst(payloads);
    if (this.closing) return;
    const level = this.options.levels?.[info.mode] ?? 1;
    if (level !== 1) for (let k = 0; k < audio.length; k++) audio[k] = Math.max(-32768, Math.min(32767, Math.round(audio[k]! * level)));
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
      this.stats.wireBytesOut += fragmentsFor(d.length + header, info.payloadBytesPerFrame) * info.bytesPerFrame;
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
