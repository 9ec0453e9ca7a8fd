/**
 * FreeDV modes offered by Debian's libcodec2 1.0.5 (freedv_api.h), as names the rest of stcts uses.
 * Numbers are the library's `FREEDV_MODE_*` constants.
 */

/**
 * Raw data modes: bursts of whole frames, each frame's last 2 bytes a CRC-16. `fsk_ldpc` is
 * FREEDV_MODE_FSK_LDPC with the link's {@link FskLdpcOptions} (default 4FSK at 100 baud);
 * `fsk_ldpc_200` the same at twice the symbol rate (200 baud, tones 400 Hz apart): twice the
 * throughput, 100 % of frames down to −4 dB instead of −8 (measured, README).
 */
export type FreedvDataModeName = 'datac0' | 'datac1' | 'datac3' | 'fsk_ldpc' | 'fsk_ldpc_200';
/** Digital-voice modes (Codec2 speech inside the modem), the baselines of issue #15. */
export type FreedvVoiceModeName = '1600' | '700d' | '700e';

export const FREEDV_DATA_MODES: Readonly<Record<FreedvDataModeName, number>> = Object.freeze({ datac0: 14, datac1: 10, datac3: 12, fsk_ldpc: 9, fsk_ldpc_200: 9 });
export const FREEDV_VOICE_MODES: Readonly<Record<FreedvVoiceModeName, number>> = Object.freeze({ '1600': 0, '700d': 7, '700e': 13 });

/** Parameters of `FREEDV_MODE_FSK_LDPC` (freedv_open_advanced). */
export interface FskLdpcOptions {
  /** 2 or 4 (tones). Default 4. */
  m: 2 | 4;
  /** Symbol rate, Hz (baud). Default 100. */
  symbolRateHz: number;
  /** Modem sample rate, Hz. Default 8000 (the channel and sound-card rate used everywhere here). */
  sampleRateHz: number;
  /**
   * Lowest tone, Hz. Default 1000. (The receiver uses libcodec2's "mask" tone estimator, which
   * knows the spacing: the default peak picker lost frames whose symbols do not visit every tone.)
   */
  firstToneHz: number;
  /** Spacing of the tones, Hz. Default 200 (tones 1000–1600 Hz: inside any SSB filter). */
  toneSpacingHz: number;
  /**
   * LDPC code name from libcodec2's ldpc_codes.c. Default `H_128_256_5` (rate 1/2, 128 data bits:
   * 14 payload bytes + CRC per frame; 100 % of bursts at −6 dB AWGN, links.md).
   */
  ldpcCode: string;
}

export const DEFAULT_FSK_LDPC_OPTIONS: Readonly<FskLdpcOptions> = Object.freeze({
  m: 4,
  symbolRateHz: 100,
  sampleRateHz: 8000,
  firstToneHz: 1000,
  toneSpacingHz: 200,
  ldpcCode: 'H_128_256_5',
});

/** Bytes of CRC-16 at the end of every raw data frame (freedv_gen_crc16, high byte first). */
export const FREEDV_CRC_BYTES = 2;

/** Is this one of the FSK_LDPC modes (one preamble per turn, no sync report while a burst is on the air)? */
export const isFskMode = (mode: FreedvDataModeName): boolean => mode === 'fsk_ldpc' || mode === 'fsk_ldpc_200';

/** The FSK parameters a mode runs with: `fsk_ldpc_200` doubles the symbol rate and the tone spacing. */
export function fskOptionsFor(mode: FreedvDataModeName, fsk: FskLdpcOptions): FskLdpcOptions {
  return mode === 'fsk_ldpc_200' ? { ...fsk, symbolRateHz: 2 * fsk.symbolRateHz, toneSpacingHz: 2 * fsk.toneSpacingHz } : fsk;
}
