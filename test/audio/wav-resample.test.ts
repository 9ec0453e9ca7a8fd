import { describe, expect, it } from 'vitest';
import { decodeWav, encodeWav, resample, toPcm16k } from '../../src/audio/index.ts';
import { AudioError } from '../../src/core/errors.ts';

function sine(freqHz: number, rateHz: number, seconds: number, amp = 0.5): Float32Array {
  const n = Math.round(rateHz * seconds);
  return Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * freqHz * i) / rateHz));
}

/** Amplitude of one frequency by correlation (the signal's own DFT bin). */
function amplitudeAt(x: Float32Array, freqHz: number, rateHz: number): number {
  let re = 0, im = 0;
  for (let i = 0; i < x.length; i++) {
    re += (x[i] as number) * Math.cos((2 * Math.PI * freqHz * i) / rateHz);
    im += (x[i] as number) * Math.sin((2 * Math.PI * freqHz * i) / rateHz);
  }
  return (2 * Math.hypot(re, im)) / x.length;
}

function wavBytes(format: number, bits: number, channels: number, rate: number, samples: number[]): Uint8Array {
  const bps = bits / 8;
  const data = new Uint8Array(samples.length * bps);
  const dv = new DataView(data.buffer);
  samples.forEach((s, i) => {
    const o = i * bps;
    if (format === 3) dv.setFloat32(o, s, true);
    else if (bits === 8) dv.setUint8(o, Math.round(s * 127) + 128);
    else if (bits === 16) dv.setInt16(o, Math.round(s * 32767), true);
    else if (bits === 24) { const v = Math.round(s * 8388607); dv.setUint8(o, v & 255); dv.setUint8(o + 1, (v >> 8) & 255); dv.setInt8(o + 2, v >> 16); }
    else dv.setInt32(o, Math.round(s * 2147483647), true);
  });
  const h = new Uint8Array(44 + 6); // plus an odd-sized unknown chunk before data
  const v = new DataView(h.buffer);
  const w = (o: number, s: string) => [...s].forEach((c, i) => (h[o + i] = c.charCodeAt(0)));
  w(0, 'RIFF'); v.setUint32(4, 36 + 6 + data.length, true); w(8, 'WAVE'); w(12, 'fmt '); v.setUint32(16, 16, true);
  v.setUint16(20, format, true); v.setUint16(22, channels, true); v.setUint32(24, rate, true);
  v.setUint32(28, rate * channels * bps, true); v.setUint16(32, channels * bps, true); v.setUint16(34, bits, true);
  // 'junk' chunk of odd size 1 + pad byte
  w(36, 'junk'); v.setUint32(40, 1, true); h[44] = 0; h[45] = 0;
  w(46, 'data');
  const sizeBytes = new Uint8Array(4); new DataView(sizeBytes.buffer).setUint32(0, data.length, true);
  return Uint8Array.from([...h, ...sizeBytes, ...data]);
}

describe('WAV reader', () => {
  it.each([
    [1, 8], [1, 16], [1, 24], [1, 32], [3, 32],
  ])('reads format %i at %i bits, stereo averaged to mono, skipping odd chunks', (format, bits) => {
    const stereo = [0.5, -0.5, 0.25, 0.25, -0.75, -0.25];
    const a = decodeWav(wavBytes(format, bits, 2, 22050, stereo));
    expect(a.sampleRateHz).toBe(22050);
    expect(Array.from(a.samples).map((x) => Math.round(x * 100) / 100)).toEqual([0, 0.25, -0.5]);
  });

  it('round-trips 16-bit and float encodings', () => {
    const audio = { samples: sine(440, 16000, 0.1), sampleRateHz: 16000 };
    const back16 = decodeWav(encodeWav(audio, 16));
    expect(Math.max(...back16.samples.map((x, i) => Math.abs(x - (audio.samples[i] as number))))).toBeLessThan(1 / 16000);
    expect(decodeWav(encodeWav(audio, 32)).samples).toEqual(audio.samples);
  });

  it.each([
    ['empty', new Uint8Array(0)],
    ['truncated', new TextEncoder().encode('RIFF')],
    ['not_wav', new TextEncoder().encode('ID3\u0004 this is an mp3 file honestly')],
    ['unsupported_format', wavBytes(1, 16, 1, 16000, [0]).map((b, i) => (i === 20 ? 2 : b))],
    ['empty', wavBytes(1, 16, 1, 16000, [])],
  ] as const)('gives AudioError %s for bad input', (code, bytes) => {
    try {
      decodeWav(bytes);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(AudioError);
      expect((err as AudioError).code).toBe(code);
    }
  });
});

describe('resampler', () => {
  it.each([[48000], [44100], [32000], [8000]])('keeps a 1 kHz tone at 1 kHz from %i Hz to 16 kHz', (rate) => {
    const out = resample({ samples: sine(1000, rate, 0.5), sampleRateHz: rate }, 16000);
    expect(out.samples.length).toBe(8000);
    const body = out.samples.subarray(400, 7600);
    expect(amplitudeAt(body, 1000, 16000)).toBeGreaterThan(0.48);
    expect(amplitudeAt(body, 1000, 16000)).toBeLessThan(0.52);
  });

  it('attenuates a 9 kHz tone (above the new Nyquist) by ≥ 40 dB at 48k→16k', () => {
    const out = resample({ samples: sine(9000, 48000, 0.5), sampleRateHz: 48000 }, 16000);
    const body = out.samples.subarray(400, 7600);
    // 9 kHz aliases to 7 kHz at 16 kHz.
    const alias = amplitudeAt(body, 7000, 16000);
    expect(20 * Math.log10(alias / 0.5)).toBeLessThan(-40);
  });

  it('converts to clipped 16 kHz int16', () => {
    const pcm = toPcm16k({ samples: Float32Array.from([2, -2, 0.5]), sampleRateHz: 16000 });
    expect(Array.from(pcm)).toEqual([32767, -32768, 16384]);
  });
});
