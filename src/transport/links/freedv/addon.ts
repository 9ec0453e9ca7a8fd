import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { EngineUnavailableError } from '../../../core/errors.ts';

/**
 * The libcodec2 FreeDV addon (native/codec2, issue #15): its raw interface, loaded on first use.
 * Only this file knows the addon's path; everything else goes through {@link loadCodec2Addon}.
 */

export const CODEC2_ADDON_PATH = fileURLToPath(new URL('../../../../native/codec2/build/Release/stcts_codec2.node', import.meta.url));

/** What `freedv_open` / `freedv_open_advanced` are given. */
export interface NativeModemConfig {
  mode: number;
  fsk?: { m: number; symbolRateHz: number; sampleRateHz: number; firstToneHz: number; toneSpacingHz: number; ldpcCode: string };
  framesPerBurst?: number;
  testFrames?: boolean;
  squelch?: boolean;
}

/** The sizes libcodec2 reports for an open mode (samples at the modem rate). */
export interface NativeModemInfo {
  mode: number;
  data: boolean;
  bitsPerModemFrame: number;
  bitsPerCodecFrame: number;
  modemSampleRateHz: number;
  speechSampleRateHz: number;
  speechSamplesPerFrame: number;
  maxSpeechSamplesPerFrame: number;
  nominalModemSamples: number;
  maxModemSamples: number;
  txModemSamplesPerFrame: number;
  txPreambleSamples: number;
  txPostambleSamples: number;
  symbolRateHz: number;
}

export interface NativeRxFrame {
  bytes: Uint8Array;
  snrDb: number;
  sync: number;
  rxStatus: number;
  /** Samples pushed since open/resetReceiver up to the end of the modem frame that completed it. */
  endSample: number;
}

export interface NativeJobResult {
  samples: Int16Array;
  frames: NativeRxFrame[];
  syncFrames: number;
  modemFrames: number;
}

/** Bit-error and sync counters (freedv_get_total_* since the last resetStats). */
export interface NativeModemStats {
  sync: number;
  snrDb: number;
  totalBits: number;
  totalBitErrors: number;
  totalBitsCoded: number;
  totalBitErrorsCoded: number;
  totalPackets: number;
  totalPacketErrors: number;
  bufferedSamples: number;
  nin: number;
}

export interface NativeModem {
  info(): NativeModemInfo;
  modulateData(frames: Uint8Array, preamble: boolean, postamble: boolean): Promise<NativeJobResult>;
  demodulateData(samples: Int16Array): Promise<NativeJobResult>;
  modulateSpeech(speech: Int16Array): Promise<NativeJobResult>;
  demodulateSpeech(samples: Int16Array): Promise<NativeJobResult>;
  stats(): NativeModemStats;
  resetStats(): void;
  resetReceiver(): void;
  close(): void;
}

export interface Codec2Addon {
  Modem: new (config: NativeModemConfig) => NativeModem;
  /** freedv_gen_crc16 (CRC-16/CCITT-FALSE as FreeDV computes it) over the bytes. */
  crc16(bytes: Uint8Array): number;
  /** freedv_get_version(). */
  version: number;
}

export const CODEC2_REMEDY = 'apt-get install libcodec2-dev pkg-config build-essential, then node scripts/build-native.mjs';

/** True when the addon has been built (tests gate on this). */
export const codec2AddonBuilt = (): boolean => existsSync(CODEC2_ADDON_PATH);

/** Loads the addon (`path`: for tests); `EngineUnavailableError` (engine `freedv`) naming the Debian package when it is not built. */
export function loadCodec2Addon(path = CODEC2_ADDON_PATH): Codec2Addon {
  if (!existsSync(path)) throw new EngineUnavailableError('freedv', 'the libcodec2 FreeDV addon is not built', CODEC2_REMEDY);
  try {
    return createRequire(import.meta.url)(path) as Codec2Addon;
  } catch (cause) {
    throw new EngineUnavailableError('freedv', 'the libcodec2 FreeDV addon does not load (libcodec2 missing or a different version?)', CODEC2_REMEDY, { cause });
  }
}

/** Runs native jobs one after another (the addon refuses a second call while one is running). */
export class NativeJobQueue {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(job: () => Promise<T>): Promise<T> {
    const p = this.tail.then(job);
    this.tail = p.catch(() => undefined);
    return p;
  }
  /** Resolves when every job queued so far has settled. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}
