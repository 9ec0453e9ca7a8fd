import { InvalidStateError, TransportError, UsageError } from '../../../core/errors.ts';
import { loadCodec2Addon, type NativeModem, NativeJobQueue } from './addon.ts';
import { FREEDV_VOICE_MODES, type FreedvVoiceModeName } from './modes.ts';

/**
 * FreeDV digital voice (1600, 700D, 700E) through the real libcodec2 modems: the baselines of
 * issue #15. 8 kHz speech → 8 kHz modem audio → 8 kHz speech. With `testFrames` the transmitter
 * sends libcodec2's known test frames instead of speech and the receiver counts bit errors, raw
 * (before FEC) and coded (after LDPC: 700D/700E only; 1600 has no FEC, its coded BER is its raw BER).
 */

export interface FreedvVoiceOptions {
  mode: FreedvVoiceModeName;
  /** Send / expect test frames (BER measurement) instead of speech. Default false. */
  testFrames: boolean;
  /**
   * Receiver squelch (silence while out of sync). Default false: the output then has as many
   * samples as the modem audio pushed in (the modem's own audio is passed through while
   * unsynced, as on a radio without squelch), so speech stays time-aligned for scoring.
   */
  squelch: boolean;
}

export const DEFAULT_FREEDV_VOICE_OPTIONS: Readonly<FreedvVoiceOptions> = Object.freeze({ mode: '700d', testFrames: false, squelch: false });

export interface FreedvVoiceInfo {
  mode: FreedvVoiceModeName;
  speechSampleRateHz: number;
  modemSampleRateHz: number;
  /** Speech samples per codec frame group (one modem frame's worth). */
  speechSamplesPerFrame: number;
  /** Modem samples produced for each `speechSamplesPerFrame` speech samples. */
  modemSamplesPerFrame: number;
  bitsPerCodecFrame: number;
}

/** Bit errors counted on test frames since the receiver opened (or `resetCounters`). */
export interface FreedvBerStats {
  rawBits: number;
  rawBitErrors: number;
  /** rawBitErrors / rawBits (NaN with no bits). */
  rawBer: number;
  codedBits: number;
  codedBitErrors: number;
  /** After FEC; for 1600 (no FEC) the raw figure. NaN with no bits. */
  codedBer: number;
  /** Demodulator steps in sync / all steps (freedv_nin chunks). */
  syncRatio: number;
}

export interface FreedvVoiceRx {
  speech: Int16Array;
  syncSteps: number;
  modemSteps: number;
}

function openVoice(o: FreedvVoiceOptions): NativeModem {
  const addon = loadCodec2Addon();
  try {
    return new addon.Modem({ mode: FREEDV_VOICE_MODES[o.mode], testFrames: o.testFrames, squelch: o.squelch });
  } catch (cause) {
    throw new TransportError('refused', `libcodec2 cannot open FreeDV ${o.mode}`, { mode: o.mode }, { cause });
  }
}

/** A FreeDV voice transmitter; {@link createReceiver} opens receivers of the same mode. */
export class FreedvVoice {
  readonly options: Readonly<FreedvVoiceOptions>;
  readonly info: FreedvVoiceInfo;
  private tx: NativeModem | undefined;
  private readonly jobs = new NativeJobQueue();
  private readonly receivers = new Set<FreedvVoiceReceiver>();

  /** `EngineUnavailableError` when the addon is not built. */
  constructor(options: Partial<FreedvVoiceOptions> = {}) {
    const o = { ...DEFAULT_FREEDV_VOICE_OPTIONS, ...options };
    if (!(o.mode in FREEDV_VOICE_MODES)) throw new UsageError(`unknown FreeDV voice mode ${String(o.mode)}: use 1600, 700d or 700e`);
    this.options = Object.freeze(o);
    this.tx = openVoice(o);
    const n = this.tx.info();
    this.info = Object.freeze({
      mode: o.mode,
      speechSampleRateHz: n.speechSampleRateHz,
      modemSampleRateHz: n.modemSampleRateHz,
      speechSamplesPerFrame: n.speechSamplesPerFrame,
      modemSamplesPerFrame: n.nominalModemSamples,
      bitsPerCodecFrame: n.bitsPerCodecFrame,
    });
  }

  /** Modem audio for `speech` (8 kHz); the last partial frame is padded with silence. */
  modulate(speech: Int16Array): Promise<Int16Array> {
    const tx = this.open();
    const copy = speech.slice();
    return this.jobs.run(async () => (await tx.modulateSpeech(copy)).samples);
  }

  createReceiver(): FreedvVoiceReceiver {
    this.open();
    const r = new FreedvVoiceReceiver(openVoice(this.options), () => this.receivers.delete(r));
    this.receivers.add(r);
    return r;
  }

  /** Idempotent; closes the receivers opened here too. */
  async close(): Promise<void> {
    const tx = this.tx;
    if (!tx) return;
    this.tx = undefined;
    await Promise.all([...this.receivers].map((r) => r.close()));
    await this.jobs.idle();
    tx.close();
  }

  private open(): NativeModem {
    if (!this.tx) throw new InvalidStateError('FreedvVoice used after close()');
    return this.tx;
  }
}

/** Streaming FreeDV voice receiver: push modem audio in any chunk size, get speech out. */
export class FreedvVoiceReceiver {
  private rx: NativeModem | undefined;
  private readonly jobs = new NativeJobQueue();
  private steps = 0;
  private syncSteps = 0;

  constructor(
    rx: NativeModem,
    private readonly onClose: () => void,
  ) {
    this.rx = rx;
  }

  push(modem: Int16Array): Promise<FreedvVoiceRx> {
    const rx = this.open();
    const copy = modem.slice();
    return this.jobs.run(async () => {
      const r = await rx.demodulateSpeech(copy);
      this.steps += r.modemFrames;
      this.syncSteps += r.syncFrames;
      return { speech: r.samples, syncSteps: r.syncFrames, modemSteps: r.modemFrames };
    });
  }

  /** Bit-error counters (meaningful with `testFrames`). */
  berStats(): FreedvBerStats {
    const s = this.open().stats();
    const coded = s.totalBitsCoded > 0;
    return {
      rawBits: s.totalBits,
      rawBitErrors: s.totalBitErrors,
      rawBer: s.totalBits > 0 ? s.totalBitErrors / s.totalBits : Number.NaN,
      codedBits: coded ? s.totalBitsCoded : s.totalBits,
      codedBitErrors: coded ? s.totalBitErrorsCoded : s.totalBitErrors,
      codedBer: coded ? s.totalBitErrorsCoded / s.totalBitsCoded : s.totalBits > 0 ? s.totalBitErrors / s.totalBits : Number.NaN,
      syncRatio: this.steps > 0 ? this.syncSteps / this.steps : 0,
    };
  }

  /** Zeroes the bit-error counters (e.g. after sync acquisition). Waits for a running push. */
  async resetCounters(): Promise<void> {
    const rx = this.open();
    await this.jobs.run(async () => rx.resetStats());
    this.steps = 0;
    this.syncSteps = 0;
  }

  async close(): Promise<void> {
    const rx = this.rx;
    if (!rx) return;
    this.rx = undefined;
    this.onClose();
    await this.jobs.idle();
    rx.close();
  }

  private open(): NativeModem {
    if (!this.rx) throw new InvalidStateError('FreedvVoiceReceiver used after close()');
    return this.rx;
  }
}
