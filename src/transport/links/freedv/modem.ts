import { InvalidStateError, TransportError, UsageError } from '../../../core/errors.ts';
import { type Codec2Addon, loadCodec2Addon, type NativeModem, type NativeModemInfo, NativeJobQueue } from './addon.ts';
import { DEFAULT_FSK_LDPC_OPTIONS, FREEDV_CRC_BYTES, FREEDV_DATA_MODES, fskOptionsFor, isFskMode, type FreedvDataModeName, type FskLdpcOptions } from './modes.ts';

/**
 * libcodec2's raw data modems (issue #15) behind a small typed API: bursts of frames out, a stream
 * of 8 kHz samples in. Padding rule: every frame carries exactly `payloadBytesPerFrame` bytes
 * (bytes per modem frame − 2 CRC bytes); a shorter payload is zero-padded to that size and the
 * receiver gets the padded frame: delimiting shorter messages (a length byte) is the link
 * adapter's job. Frames whose CRC fails are counted and never returned.
 */

export interface FreedvModemOptions {
  mode: FreedvDataModeName;
  /** FSK_LDPC parameters (ignored by the OFDM modes). */
  fsk: FskLdpcOptions;
  /**
   * Frames in every burst (OFDM modes), and what the receiver's burst state machine expects
   * (freedv_set_frames_per_burst). Both ends must agree: measured on libcodec2 1.0.5, a DATAC3
   * receiver set for N frames loses bursts of fewer frames and the frames past the first of longer
   * ones, and without it only the first of a series of bursts is received (links.md). So a burst
   * always has exactly this many frames: {@link FreedvModem.modulateBurst} fills missing ones with
   * all-zero filler frames (returned by the receiver like any frame). Default 1. FSK_LDPC ignores
   * it: one preamble, then all the frames back to back (its receiver tracks a run of frames), but
   * bursts must be ≥ 0.5 s apart (back-to-back bursts lost a third of their frames, measured), and
   * it returns a frame up to one frame time (1.44 s) after the frame ended: keep feeding it.
   */
  framesPerBurst: number;
}

export const DEFAULT_FREEDV_MODEM_OPTIONS: Readonly<FreedvModemOptions> = Object.freeze({ mode: 'datac0', fsk: DEFAULT_FSK_LDPC_OPTIONS, framesPerBurst: 1 });

/** Caller options: any subset, with a partial FSK block. */
export type FreedvModemOptionsInput = Partial<Omit<FreedvModemOptions, 'fsk'>> & { fsk?: Partial<FskLdpcOptions> };

/** Sizes of one data mode. Sample counts are at `sampleRateHz`. */
export interface FreedvModemInfo {
  mode: FreedvDataModeName;
  sampleRateHz: number;
  /** Bytes of one modem frame, CRC included. */
  bytesPerFrame: number;
  /** Payload bytes of one frame (bytesPerFrame − 2). */
  payloadBytesPerFrame: number;
  frameSamples: number;
  preambleSamples: number;
  postambleSamples: number;
  /** Samples handed to the demodulator at most per step (freedv_get_n_max_modem_samples). */
  maxRxStepSamples: number;
}

/** A frame that passed its CRC. */
export interface FreedvRxFrame {
  /** `payloadBytesPerFrame` bytes (padding included). */
  payload: Uint8Array;
  /**
   * The demodulator's SNR estimate at the frame, dB. OFDM modes: in 3 kHz (FreeDV convention),
   * within ~1.5 dB of the channel's SNR from +2 to −4 dB AWGN (measured, DATAC0/DATAC3). FSK_LDPC:
   * libcodec2's FSK estimate, on another scale: it read +11 … +7 dB at −4 … −10 dB AWGN.
   */
  snrDb: number;
  /** Stream position just after the frame, samples since the demodulator opened or was reset. */
  endSample: number;
}

export interface FreedvDemodulatorStats {
  samplesIn: number;
  /** Demodulator steps (freedv_nin chunks) and how many of them were in sync. */
  modemSteps: number;
  syncSteps: number;
  framesOk: number;
  crcErrors: number;
  /** SNR estimate of the last decoded frame, dB (NaN before the first). */
  lastSnrDb: number;
}

function mergeOptions(o: FreedvModemOptionsInput): FreedvModemOptions {
  const merged: FreedvModemOptions = { ...DEFAULT_FREEDV_MODEM_OPTIONS, ...o, fsk: { ...DEFAULT_FSK_LDPC_OPTIONS, ...(o.fsk ?? {}) } };
  if (!(merged.mode in FREEDV_DATA_MODES)) throw new UsageError(`unknown FreeDV data mode ${String(merged.mode)}: use datac0, datac1, datac3, fsk_ldpc or fsk_ldpc_200`);
  if (!Number.isInteger(merged.framesPerBurst) || merged.framesPerBurst < 1) throw new UsageError('framesPerBurst must be a positive integer');
  return merged;
}

function openNative(addon: Codec2Addon, o: FreedvModemOptions): NativeModem {
  const mode = FREEDV_DATA_MODES[o.mode];
  try {
    return new addon.Modem(isFskMode(o.mode) ? { mode, fsk: { ...fskOptionsFor(o.mode, o.fsk) }, framesPerBurst: o.framesPerBurst } : { mode, framesPerBurst: o.framesPerBurst });
  } catch (cause) {
    throw new TransportError('refused', `libcodec2 cannot open FreeDV mode ${o.mode} with these parameters (LDPC code name?)`, { mode: o.mode }, { cause });
  }
}

function describe(o: FreedvModemOptions, n: NativeModemInfo): FreedvModemInfo {
  const bytesPerFrame = n.bitsPerModemFrame / 8;
  return Object.freeze({
    mode: o.mode,
    sampleRateHz: n.modemSampleRateHz,
    bytesPerFrame,
    payloadBytesPerFrame: bytesPerFrame - FREEDV_CRC_BYTES,
    frameSamples: n.txModemSamplesPerFrame,
    preambleSamples: n.txPreambleSamples,
    postambleSamples: n.txPostambleSamples,
    maxRxStepSamples: n.maxModemSamples,
  });
}

/** A FreeDV raw data modem: modulates bursts; {@link createDemodulator} opens receivers. */
export class FreedvModem {
  readonly options: Readonly<FreedvModemOptions>;
  readonly info: FreedvModemInfo;
  private readonly addon: Codec2Addon;
  private tx: NativeModem | undefined;
  private readonly jobs = new NativeJobQueue();
  private readonly demodulators = new Set<FreedvDemodulator>();

  /** Opens the mode; `EngineUnavailableError` when the addon is not built. */
  constructor(options: FreedvModemOptionsInput = {}) {
    this.options = Object.freeze(mergeOptions(options));
    this.addon = loadCodec2Addon();
    this.tx = openNative(this.addon, this.options);
    this.info = describe(this.options, this.tx.info());
  }

  /** Frames a burst carrying `payloads` payloads really sends (filler included). */
  framesInBurst(payloads: number): number {
    if (isFskMode(this.options.mode)) return Math.max(1, payloads);
    return Math.max(1, Math.ceil(payloads / this.options.framesPerBurst)) * this.options.framesPerBurst;
  }

  /** Frames per burst (preamble … postamble); for FSK_LDPC all the frames of one call. */
  private perBurst(payloads: number): number {
    return isFskMode(this.options.mode) ? Math.max(1, payloads) : this.options.framesPerBurst;
  }

  /** Samples of the transmission of `payloads` payloads: per burst, preamble + frames + postamble. */
  burstSamples(payloads: number): number {
    const { preambleSamples, frameSamples, postambleSamples } = this.info;
    const perBurst = this.perBurst(payloads);
    const bursts = Math.max(1, Math.ceil(payloads / perBurst));
    return bursts * (preambleSamples + perBurst * frameSamples + postambleSamples);
  }

  /** Airtime of the transmission of `payloads` payloads, ms. */
  burstDurationMs(payloads: number): number {
    return (this.burstSamples(payloads) * 1000) / this.info.sampleRateHz;
  }

  /** One frame as a whole burst (preamble + frame + postamble). See {@link modulateBurst}. */
  modulate(payload: Uint8Array): Promise<Int16Array> {
    return this.modulateBurst([payload]);
  }

  /**
   * One transmission: preamble, one frame per payload (each ≤ payloadBytesPerFrame, zero-padded,
   * CRC appended), postamble; OFDM modes: as many bursts of `framesPerBurst` frames as needed, the
   * last filled with all-zero frames; FSK_LDPC: one preamble and all the frames. 8 kHz int16
   * audio, computed on the thread pool.
   */
  modulateBurst(payloads: readonly Uint8Array[]): Promise<Int16Array> {
    const tx = this.open();
    const { bytesPerFrame, payloadBytesPerFrame } = this.info;
    if (payloads.length === 0) throw new UsageError('a burst needs at least one frame');
    const nFrames = this.framesInBurst(payloads.length);
    const frames = new Uint8Array(nFrames * bytesPerFrame);
    const all = [...payloads, ...Array.from({ length: nFrames - payloads.length }, () => new Uint8Array(0))];
    all.forEach((p, i) => {
      if (p.length > payloadBytesPerFrame) throw new TransportError('too_large', `${this.info.mode} frames carry at most ${payloadBytesPerFrame} bytes, got ${p.length}`, { mtu: payloadBytesPerFrame, bytes: p.length });
      const at = i * bytesPerFrame;
      frames.set(p, at);
      const crc = this.addon.crc16(frames.subarray(at, at + payloadBytesPerFrame));
      frames[at + payloadBytesPerFrame] = crc >> 8;
      frames[at + payloadBytesPerFrame + 1] = crc & 0xff;
    });
    const perBurst = this.perBurst(payloads.length);
    return this.jobs.run(async () => {
      const parts: Int16Array[] = [];
      for (let f = 0; f < nFrames; f += perBurst) parts.push((await tx.modulateData(frames.subarray(f * bytesPerFrame, (f + perBurst) * bytesPerFrame), true, true)).samples);
      if (parts.length === 1) return parts[0]!;
      const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) {
        out.set(p, at);
        at += p.length;
      }
      return out;
    });
  }

  /** A new receiver of this mode (its own libcodec2 state). Closed with the modem. */
  createDemodulator(): FreedvDemodulator {
    this.open();
    const d = new FreedvDemodulator(this.info, openNative(this.addon, this.options), this.addon, () => this.demodulators.delete(d));
    this.demodulators.add(d);
    return d;
  }

  /** Idempotent; waits for running jobs, closes the demodulators opened here. */
  async close(): Promise<void> {
    const tx = this.tx;
    if (!tx) return;
    this.tx = undefined;
    await Promise.all([...this.demodulators].map((d) => d.close()));
    await this.jobs.idle();
    tx.close();
  }

  private open(): NativeModem {
    if (!this.tx) throw new InvalidStateError('FreedvModem used after close()');
    return this.tx;
  }
}

/**
 * A streaming receiver: push 8 kHz int16 audio in any chunk size; frames come out as soon as the
 * demodulator (driven by freedv_nin) completes them. Pushes are processed in order on the thread pool.
 */
export class FreedvDemodulator {
  readonly info: FreedvModemInfo;
  private rx: NativeModem | undefined;
  private readonly jobs = new NativeJobQueue();
  private readonly s: FreedvDemodulatorStats = { samplesIn: 0, modemSteps: 0, syncSteps: 0, framesOk: 0, crcErrors: 0, lastSnrDb: Number.NaN };

  constructor(
    info: FreedvModemInfo,
    rx: NativeModem,
    private readonly addon: Codec2Addon,
    private readonly onClose: () => void,
  ) {
    this.info = info;
    this.rx = rx;
  }

  get stats(): Readonly<FreedvDemodulatorStats> {
    return { ...this.s };
  }

  /** Demodulates `samples` (copied); resolves with the frames completed by them, CRC checked. */
  push(samples: Int16Array): Promise<FreedvRxFrame[]> {
    const rx = this.open();
    const copy = samples.slice();
    return this.jobs.run(async () => {
      const r = await rx.demodulateData(copy);
      this.s.samplesIn += copy.length;
      this.s.modemSteps += r.modemFrames;
      this.s.syncSteps += r.syncFrames;
      const out: FreedvRxFrame[] = [];
      const n = this.info.payloadBytesPerFrame;
      for (const f of r.frames) {
        if (f.bytes.length !== this.info.bytesPerFrame || this.addon.crc16(f.bytes.subarray(0, n)) !== ((f.bytes[n]! << 8) | f.bytes[n + 1]!)) {
          this.s.crcErrors++;
          continue;
        }
        this.s.framesOk++;
        this.s.lastSnrDb = f.snrDb;
        out.push({ payload: f.bytes.slice(0, n), snrDb: f.snrDb, endSample: f.endSample });
      }
      return out;
    });
  }

  /** Frames of a whole stream of sample chunks (pull-based). */
  async *frames(source: AsyncIterable<Int16Array>, signal?: AbortSignal): AsyncGenerator<FreedvRxFrame> {
    for await (const chunk of source) {
      signal?.throwIfAborted();
      for (const f of await this.push(chunk)) yield f;
    }
  }

  /** Drops buffered samples and makes the demodulator search for sync again. */
  async reset(): Promise<void> {
    const rx = this.open();
    await this.jobs.run(async () => rx.resetReceiver());
  }

  /** Idempotent; waits for a running push. */
  async close(): Promise<void> {
    const rx = this.rx;
    if (!rx) return;
    this.rx = undefined;
    this.onClose();
    await this.jobs.idle();
    rx.close();
  }

  private open(): NativeModem {
    if (!this.rx) throw new InvalidStateError('FreedvDemodulator used after close()');
    return this.rx;
  }
}
