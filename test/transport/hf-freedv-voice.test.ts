import { expect, it } from 'vitest';
import { CODEC2_ADDON, describeWith } from '../fixtures/components.ts';
import { InvalidStateError, UsageError } from '../../src/core/errors.ts';
import { FreedvVoice, type FreedvVoiceModeName } from '../../src/transport/links/freedv/index.ts';
import { runVoiceBerTrial, transmitSpeech } from '../../src/transport/links/freedv/trial.ts';

/** A voiced, speech-like test signal: 150 Hz harmonics under a 3 Hz syllable envelope, 8 kHz. */
function speechLike(seconds: number): Int16Array {
  return Int16Array.from({ length: seconds * 8000 }, (_, i) => {
    const t = i / 8000;
    const env = 0.5 + 0.5 * Math.sin(2 * Math.PI * 3 * t);
    let v = 0;
    for (let h = 1; h <= 12; h++) v += Math.sin(2 * Math.PI * 150 * h * t) / h;
    return Math.round(4000 * env * v);
  });
}

const rms = (x: Int16Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / Math.max(1, x.length));

describeWith('FreeDV voice modes (libcodec2)', [CODEC2_ADDON], () => {
  for (const mode of ['1600', '700d', '700e'] as FreedvVoiceModeName[]) {
    it(`${mode}: speech → modem audio → speech keeps the length and carries the speech`, async () => {
      const voice = new FreedvVoice({ mode });
      try {
        const speech = speechLike(3);
        const modem = await voice.modulate(speech);
        const frames = Math.ceil(speech.length / voice.info.speechSamplesPerFrame);
        expect(modem.length).toBe(frames * voice.info.modemSamplesPerFrame);
        expect(rms(modem)).toBeGreaterThan(500);
        const rx = voice.createReceiver();
        const out: Int16Array[] = [];
        for (let i = 0; i < modem.length; i += 1000) out.push((await rx.push(modem.subarray(i, i + 1000))).speech);
        const decoded = Int16Array.from(out.flatMap((o) => [...o]));
        // Without squelch the receiver emits as many speech samples as modem samples it consumed
        // (± what freedv_nin has not taken yet or took early to track timing: under a modem frame).
        expect(decoded.length).toBeGreaterThan(modem.length - 2 * voice.info.modemSamplesPerFrame);
        expect(decoded.length).toBeLessThanOrEqual(modem.length + voice.info.modemSamplesPerFrame);
        const berStats = rx.berStats();
        expect(berStats.syncRatio).toBeGreaterThan(0.7);
        // Decoded speech in the second half has energy comparable to the input (Codec2 is lossy,
        // waveform matching is not expected).
        const half = decoded.subarray(decoded.length >> 1);
        expect(rms(half)).toBeGreaterThan(0.2 * rms(speech));
        expect(rms(half)).toBeLessThan(5 * rms(speech));
      } finally {
        await voice.close();
      }
    });

    it(`${mode}: test frames on a clean channel have ~zero coded BER, at −6 dB far more`, async () => {
      const clean = await runVoiceBerTrial({ mode, channel: 'awgn', snrDb: 20, durationS: 6, seed: 5 });
      expect(clean.codedBits).toBeGreaterThan(1000);
      expect(clean.codedBer).toBeLessThan(0.002);
      expect(clean.syncRatio).toBeGreaterThan(0.9);
      const noisy = await runVoiceBerTrial({ mode, channel: 'awgn', snrDb: -6, durationS: 6, seed: 5 });
      // Either sync is lost (no bits counted) or the BER is high: never a clean result at −6 dB.
      expect(Number.isNaN(noisy.codedBer) || noisy.codedBer > 0.05 || noisy.syncRatio < 0.5).toBe(true);
    });
  }

  it('transmitSpeech: 700D speech through CCIR poor at +15 dB stays in sync and keeps its length; at −8 dB it does not', async () => {
    const speech = speechLike(4);
    const good = await transmitSpeech(speech, { mode: '700d', channel: 'poor', snrDb: 15, seed: 2 });
    expect(good.syncRatio).toBeGreaterThan(0.8);
    expect(good.speech.length).toBeGreaterThan(speech.length);
    expect(good.speech.length).toBeLessThan(speech.length + 8000);
    const bad = await transmitSpeech(speech, { mode: '700d', channel: 'poor', snrDb: -8, seed: 2 });
    expect(bad.syncRatio).toBeLessThan(good.syncRatio - 0.2);
  });

  it('refuses unknown modes; close() is idempotent; use after close throws', async () => {
    expect(() => new FreedvVoice({ mode: '2020' as FreedvVoiceModeName })).toThrow(UsageError);
    const voice = new FreedvVoice({ mode: '700e' });
    const rx = voice.createReceiver();
    await voice.close();
    await voice.close();
    expect(() => voice.modulate(new Int16Array(640))).toThrow(InvalidStateError);
    expect(() => rx.push(new Int16Array(640))).toThrow(InvalidStateError);
  });
});
