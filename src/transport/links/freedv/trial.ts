import { mulberry32 } from '../../prng.ts';
import { HfChannel, type HfChannelKind, meanPower } from '../../hf/channel.ts';
import { FreedvModem, type FreedvModemOptionsInput } from './modem.ts';
import type { FreedvDataModeName, FreedvVoiceModeName } from './modes.ts';
import { type FreedvBerStats, FreedvVoice } from './voice.ts';

/**
 * Seeded measurements of the real modems through the HF channel simulator (issue #15): bursts
 * decoded per SNR for the data modes, coded BER on test frames for the voice modes. Used by the
 * tests and by scripts/measure-freedv.ts.
 */

export interface BurstTrialOptions {
  mode: FreedvDataModeName;
  modem?: FreedvModemOptionsInput;
  channel: HfChannelKind;
  snrDb: number;
  /** Bursts sent, one frame each. */
  bursts: number;
  /** Frames per burst (the modem's framesPerBurst too). Default 1. */
  framesPerBurst?: number;
  /** Silence (noise only, at the receiver) between bursts, ms. Default 1000. */
  gapMs?: number;
  seed: number;
  /** Samples per chunk through channel and demodulator. Default 1600 (0.2 s). */
  chunkSamples?: number;
}

export interface BurstTrialResult {
  framesSent: number;
  framesDecoded: number;
  /** framesDecoded / framesSent. */
  ratio: number;
  /** Median of the demodulator's SNR estimates of decoded frames, dB (NaN if none). */
  snrEstMedianDb: number;
  crcErrors: number;
  /** Stream length, s. */
  durationS: number;
}

const median = (v: number[]): number => {
  if (v.length === 0) return Number.NaN;
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Sends `bursts` bursts of random payloads through the channel into one demodulator. */
export async function runBurstTrial(o: BurstTrialOptions): Promise<BurstTrialResult> {
  const modem = new FreedvModem({ ...o.modem, mode: o.mode, ...(o.framesPerBurst ? { framesPerBurst: o.framesPerBurst } : {}) });
  try {
    const rx = modem.createDemodulator();
    const rand = mulberry32(o.seed);
    const perBurst = o.framesPerBurst ?? 1;
    const gap = Math.round(((o.gapMs ?? 1000) * modem.info.sampleRateHz) / 1000);
    const expected = new Set<string>();
    const bursts: Int16Array[] = [];
    for (let b = 0; b < o.bursts; b++) {
      const payloads = Array.from({ length: perBurst }, () => {
        const p = new Uint8Array(modem.info.payloadBytesPerFrame);
        for (let i = 0; i < p.length; i++) p[i] = Math.floor(rand() * 256);
        expected.add(Buffer.from(p).toString('hex'));
        return p;
      });
      bursts.push(await modem.modulateBurst(payloads));
    }
    const channel = new HfChannel({ kind: o.channel, snrDb: o.snrDb, seed: o.seed, signalPower: meanPower(bursts[0]!) });
    const stream = new Int16Array(gap + bursts.reduce((n, b) => n + b.length + gap, 0));
    let at = gap;
    for (const b of bursts) {
      stream.set(b, at);
      at += b.length + gap;
    }
    const chunk = o.chunkSamples ?? 1600;
    const got = new Set<string>();
    const snrs: number[] = [];
    for (let i = 0; i < stream.length; i += chunk) {
      for (const f of await rx.push(channel.processInt16(stream.subarray(i, i + chunk)))) {
        const key = Buffer.from(f.payload).toString('hex');
        if (expected.has(key) && !got.has(key)) {
          got.add(key);
          snrs.push(f.snrDb);
        }
      }
    }
    const sent = o.bursts * perBurst;
    return { framesSent: sent, framesDecoded: got.size, ratio: got.size / sent, snrEstMedianDb: median(snrs), crcErrors: rx.stats.crcErrors, durationS: stream.length / modem.info.sampleRateHz };
  } finally {
    await modem.close();
  }
}

export interface VoiceBerTrialOptions {
  mode: FreedvVoiceModeName;
  channel: HfChannelKind;
  snrDb: number;
  /** Seconds of test frames. */
  durationS: number;
  seed: number;
  /** Counters start after this many seconds (sync acquisition excluded). Default 1. */
  settleS?: number;
}

/** Coded BER of a voice mode on libcodec2's test frames through the channel. */
export async function runVoiceBerTrial(o: VoiceBerTrialOptions): Promise<FreedvBerStats> {
  const voice = new FreedvVoice({ mode: o.mode, testFrames: true });
  try {
    const rx = voice.createReceiver();
    const rate = voice.info.modemSampleRateHz;
    const modem = await voice.modulate(new Int16Array(Math.round(o.durationS * voice.info.speechSampleRateHz)));
    const channel = new HfChannel({ kind: o.channel, snrDb: o.snrDb, seed: o.seed, signalPower: meanPower(modem) });
    const settle = Math.round((o.settleS ?? 1) * rate);
    await rx.push(channel.processInt16(modem.subarray(0, settle)));
    await rx.resetCounters();
    const chunk = 1600;
    for (let i = settle; i < modem.length; i += chunk) await rx.push(channel.processInt16(modem.subarray(i, i + chunk)));
    return rx.berStats();
  } finally {
    await voice.close();
  }
}

export interface VoiceChannelOptions {
  mode: FreedvVoiceModeName;
  channel: HfChannelKind;
  snrDb: number;
  seed: number;
  /** Silence appended so the receiver's delay flushes the end of the speech, s. Default 0.5. */
  tailS?: number;
}

export interface VoiceChannelResult {
  /** Decoded 8 kHz speech (as long as the modem audio pushed, minus what the receiver keeps). */
  speech: Int16Array;
  /** Share of demodulator steps in sync. */
  syncRatio: number;
}

/**
 * FreeDV voice as the baseline of `hf-sim` (issue #15): 8 kHz speech → the real modem → the HF
 * channel → the real demodulator → 8 kHz speech, as one continuous transmission.
 */
export async function transmitSpeech(speech: Int16Array, o: VoiceChannelOptions): Promise<VoiceChannelResult> {
  const voice = new FreedvVoice({ mode: o.mode });
  try {
    const rx = voice.createReceiver();
    const tail = new Int16Array(Math.round((o.tailS ?? 0.5) * voice.info.speechSampleRateHz));
    const input = new Int16Array(speech.length + tail.length);
    input.set(speech);
    const modem = await voice.modulate(input);
    const channel = new HfChannel({ kind: o.channel, snrDb: o.snrDb, seed: o.seed, signalPower: meanPower(modem) });
    const parts: Int16Array[] = [];
    let steps = 0;
    let synced = 0;
    for (let i = 0; i < modem.length; i += 1600) {
      const r = await rx.push(channel.processInt16(modem.subarray(i, i + 1600)));
      parts.push(r.speech);
      steps += r.modemSteps;
      synced += r.syncSteps;
    }
    const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return { speech: out, syncRatio: steps ? synced / steps : 0 };
  } finally {
    await voice.close();
  }
}
