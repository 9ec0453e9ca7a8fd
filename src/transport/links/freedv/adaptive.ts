import type { FreedvDataModeName } from './modes.ts';

/**
 * Adaptive mode choice of a FreeDV link (issue #15). Each datagram of an adaptive link starts with
 * one header byte: bits 7–6 version (0), bits 5–3 the index (in the candidate list both ends share)
 * of the mode we want the peer to transmit in, 7 = no wish yet; bits 2–0 reserved (0). The wish
 * comes from the SNR we measure on the peer's frames, so both ends switch together: a receiver
 * demodulates every candidate at once and needs no announcement of what comes next.
 */

export const ADAPTIVE_HEADER_BYTES = 1;
/** What a lost frame counts as in the chooser's recent SNRs, dB (below every threshold). */
const LOST_DB = -99;
const NO_REQUEST = 7;

export function writeModeRequest(index: number | undefined, datagram: Uint8Array): Uint8Array {
  const out = new Uint8Array(datagram.length + 1);
  out[0] = ((index ?? NO_REQUEST) & 7) << 3;
  out.set(datagram, 1);
  return out;
}

/** The wished mode index, −1 for none, undefined for a datagram that is not an adaptive one. */
export function readModeRequest(datagram: Uint8Array): number | undefined {
  if (datagram.length < 1 || (datagram[0]! & 0xc7) !== 0) return undefined;
  const i = (datagram[0]! >> 3) & 7;
  return i === NO_REQUEST ? -1 : i;
}

/**
 * Lowest SNR (dB in 3 kHz, AWGN) at which a mode is the better carrier under the ARQ, from the
 * measurements in the issue and links.md: DATAC0 100 % of frames down to −1 dB, 93 % at −2, 60 % at
 * −3 (with retransmissions still several times FSK_LDPC's 46 bit/s: a first threshold of 0 dB sent a
 * −2 dB call into FSK_LDPC and made it slower, measured; its estimate reads ~0.5 dB low at −2 dB, so
 * −3 here; −2.5 and −3.5 were slower in hf-call); DATAC3 100 % down to −3, 10 % at −4;
 * FSK_LDPC at 200 baud 100 % down to −4, 87 % at −5, 63 % at −6 (30 one-frame bursts, seed 3);
 * FSK_LDPC 100 % at −6, 93 % at −8. DATAC1 was not measured (assumed +5).
 */
export const MODE_MIN_SNR_DB: Readonly<Record<FreedvDataModeName, number>> = Object.freeze({ datac1: 5, datac0: -3, datac3: -3.5, fsk_ldpc_200: -5, fsk_ldpc: Number.NEGATIVE_INFINITY });

/**
 * The demodulator's estimate as channel SNR in 3 kHz: OFDM modes report it on that scale (±1.5 dB,
 * measured); libcodec2's FSK estimate reads higher and flatter: at 100 baud +9.2, +10.9, +12.8,
 * +14.8 dB at −6, −4, −2, 0 dB AWGN; at 200 baud +7.1, +8.4, +10.1, +12.0 (30 bursts each, seed
 * 3), each mapped linearly through its points (0.88 and 0.89 per dB).
 */
export function channelSnrDb(mode: FreedvDataModeName, estimateDb: number): number {
  if (mode === 'fsk_ldpc') return -4 + (estimateDb - 10.9) / 0.88;
  if (mode === 'fsk_ldpc_200') return -4 + (estimateDb - 8.4) / 0.89;
  return estimateDb;
}

/**
 * Mean power of each mode's bursts out of libcodec2 1.0.5 at level 1, dB re 1 LSB² (measured: one
 * and three frames agree within 0.4 dB). FSK's constant envelope carries 3.6 dB more than OFDM at
 * the same peak: a mode's SNR on the same channel differs by the difference of these.
 */
export const MODE_MEAN_POWER_DB: Readonly<Record<FreedvDataModeName, number>> = Object.freeze({ datac0: 77.7, datac1: 76.5, datac3: 77.2, fsk_ldpc: 81.3, fsk_ldpc_200: 81.3 });

/**
 * The receiving side's wish from the median SNR of the last 3 frames, up only 1 dB above the
 * threshold. (Going down on the lower of the last estimate and the median made a −2 dB call flap
 * between DATAC0 and FSK on single low estimates: 9 switches and a 4.6-s median against 6 and 3.6 s,
 * measured in hf-call; a real drop is also caught by unanswered turns, FreedvLink.) An SNR heard in
 * one mode is carried over to the others through their mean powers at the peer's transmit levels
 * (`powerDb`, taken as ours: both ends configured alike): without it FSK heard at −2.4 dB asked for
 * DATAC0, which the same channel gave −6 dB.
 */
export class ModeChooser {
  /** Recent SNRs (the last 3), as the first candidate would see them, dB. */
  private readonly recent: number[] = [];
  private wish: number | undefined;
  private readonly powerDb: number[];

  constructor(
    private readonly modes: readonly FreedvDataModeName[],
    /** Transmit level per mode (FreedvLinkOptions.levels); default 1. */
    levels: Partial<Record<FreedvDataModeName, number>> = {},
  ) {
    this.powerDb = modes.map((m) => MODE_MEAN_POWER_DB[m] + 20 * Math.log10(levels[m] ?? 1));
  }

  heard(modeIndex: number, estimateDb: number): void {
    if (!Number.isFinite(estimateDb)) return;
    this.recent.push(channelSnrDb(this.modes[modeIndex]!, estimateDb) - this.powerDb[modeIndex]! + this.powerDb[0]!);
    if (this.recent.length > 3) this.recent.shift();
    this.choose();
  }

  private choose(): void {
    const snr0 = [...this.recent].sort((a, b) => a - b)[this.recent.length >> 1]!;
    const current = this.wish ?? this.modes.length - 1;
    let pick = this.modes.length - 1;
    for (let i = 0; i < this.modes.length; i++) {
      const snr = snr0 + this.powerDb[i]! - this.powerDb[0]!;
      if (snr >= MODE_MIN_SNR_DB[this.modes[i]!] + (i < current ? 1 : 0)) {
        pick = i;
        break;
      }
    }
    this.wish = pick;
  }

  /**
   * A frame of `modeIndex` failed its CRC or a datagram lost a fragment: counts as an SNR below every
   * threshold. On a fading channel (CCIR poor) the SNR estimate of the frames that do get through
   * looked fine while most multi-frame datagrams lost a fragment: the link stayed in 200-baud FSK and
   * delivered nothing at 0 dB (measured); two losses among the last three frames now step down.
   */
  lost(modeIndex: number): void {
    this.recent.push(LOST_DB);
    if (this.recent.length > 3) this.recent.shift();
    this.choose();
  }

  /**
   * Nothing heard from the peer for a while (our turns unanswered): what we measured is stale; ask
   * for one mode more robust than before (at least `atLeast`) until frames come again.
   */
  stale(atLeast: number): void {
    this.recent.length = 0;
    this.wish = Math.min(this.modes.length - 1, Math.max(atLeast, (this.wish ?? 0) + 1));
  }

  /** The mode index to ask the peer for (undefined before any frame was heard). */
  request(): number | undefined {
    return this.wish;
  }
}
