import { describe, expect, it } from 'vitest';
import { CODEC2_ADDON, describeWith } from '../fixtures/components.ts';
import { EngineUnavailableError, InvalidStateError, TransportError, UsageError } from '../../src/core/errors.ts';
import { loadCodec2Addon } from '../../src/transport/links/freedv/addon.ts';
import { FreedvModem, type FreedvDataModeName } from '../../src/transport/links/freedv/index.ts';
import { runBurstTrial } from '../../src/transport/links/freedv/trial.ts';
import { mulberry32 } from '../../src/transport/prng.ts';

/** Expected sizes (links.md, libcodec2 1.0.5): payload bytes per frame and samples per frame at 8 kHz. */
const MODES: Record<FreedvDataModeName, { payload: number; frameSamples: number }> = {
  datac0: { payload: 14, frameSamples: 3520 },
  datac1: { payload: 510, frameSamples: 33440 },
  datac3: { payload: 126, frameSamples: 25520 },
  fsk_ldpc: { payload: 14, frameSamples: 11520 },
  fsk_ldpc_200: { payload: 14, frameSamples: 5760 },
};

const randomBytes = (n: number, seed: number) => {
  const r = mulberry32(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
};

describe('FreeDV addon loading', () => {
  it('a missing addon is an EngineUnavailableError naming the Debian package', () => {
    try {
      loadCodec2Addon('/nonexistent/stcts_codec2.node');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(EngineUnavailableError);
      expect((e as EngineUnavailableError).code).toBe('engine_unavailable');
      expect((e as EngineUnavailableError).remedy).toContain('libcodec2-dev');
    }
  });
});

describeWith('FreeDV raw data modems (libcodec2)', [CODEC2_ADDON], () => {
  for (const [mode, want] of Object.entries(MODES) as Array<[FreedvDataModeName, (typeof MODES)[FreedvDataModeName]]>) {
    for (const framesPerBurst of mode.startsWith('fsk') ? [1] : [1, 2]) {
      it(`${mode}, ${framesPerBurst} frame(s) per burst: separate bursts and multi-frame bursts round-trip byte-exact on a clean channel`, async () => {
        const modem = new FreedvModem({ mode, framesPerBurst });
        try {
          expect(modem.info.payloadBytesPerFrame).toBe(want.payload);
          expect(modem.info.frameSamples).toBe(want.frameSamples);
          const p = [1, 2, 3, 4, 5, 6].map((k) => randomBytes(k === 2 ? want.payload - 3 : want.payload, k)); // p[1] short: zero-padded
          const sends = [[p[0]!], [p[1]!], [p[2]!, p[3]!], [p[4]!]].map((s) => s);
          if (mode.startsWith('fsk') || framesPerBurst > 1) sends.push([p[5]!, p[0]!, p[2]!]); // more than one burst's worth
          const bursts: Int16Array[] = [];
          for (const s of sends) {
            bursts.push(await modem.modulateBurst(s));
            expect(bursts.at(-1)!.length).toBe(modem.burstSamples(s.length));
          }
          const expected: string[] = [];
          const filler = Buffer.alloc(want.payload).toString('hex');
          for (const s of sends) {
            for (const q of s) expected.push(Buffer.concat([q, Buffer.alloc(want.payload - q.length)]).toString('hex'));
            for (let i = s.length; i < modem.framesInBurst(s.length); i++) expected.push(filler);
          }
          const gap = new Int16Array(8000); // FSK_LDPC needs ≥ 0.5 s between bursts
          const rx = modem.createDemodulator();
          const got: string[] = [];
          // Odd chunk sizes: the demodulator buffers what freedv_nin does not take yet.
          // …and returns a frame up to a frame time after it ended: 2 s of trailing silence.
          for (const part of [gap, ...bursts.flatMap((b) => [b, gap]), gap, new Int16Array(16000)]) {
            for (let i = 0; i < part.length; i += 1234) got.push(...(await rx.push(part.subarray(i, i + 1234))).map((f) => Buffer.from(f.payload).toString('hex')));
          }
          expect(got).toEqual(expected);
          expect(rx.stats.crcErrors).toBe(0);
          expect(rx.stats.lastSnrDb).toBeGreaterThan(5);
        } finally {
          await modem.close();
        }
      });
    }
  }

  it('frames() pulls a stream of chunks and yields the decoded frames', async () => {
    const modem = new FreedvModem({ mode: 'datac0' });
    try {
      const p = randomBytes(14, 9);
      const burst = await modem.modulate(p);
      async function* chunks() {
        const all = new Int16Array(burst.length + 8000);
        all.set(burst, 2000);
        for (let i = 0; i < all.length; i += 500) yield all.subarray(i, i + 500);
      }
      const got: string[] = [];
      for await (const f of modem.createDemodulator().frames(chunks())) got.push(Buffer.from(f.payload).toString('hex'));
      expect(got).toEqual([Buffer.from(p).toString('hex')]);
    } finally {
      await modem.close();
    }
  });

  it('refuses oversize payloads and unknown modes; close() is idempotent and use after close throws', async () => {
    const modem = new FreedvModem({ mode: 'datac0' });
    expect(() => modem.modulate(new Uint8Array(15))).toThrow(TransportError);
    try {
      modem.modulate(new Uint8Array(15));
    } catch (e) {
      expect((e as TransportError).code).toBe('too_large');
    }
    const rx = modem.createDemodulator();
    await modem.close();
    await modem.close();
    await rx.close();
    expect(() => modem.modulate(new Uint8Array(1))).toThrow(InvalidStateError);
    expect(() => rx.push(new Int16Array(10))).toThrow(InvalidStateError);
    expect(() => new FreedvModem({ mode: 'datac4' as FreedvDataModeName })).toThrow(UsageError);
    expect(() => new FreedvModem({ mode: 'fsk_ldpc', fsk: { ldpcCode: 'no_such_code' } })).toThrow(TransportError);
  });

  it('DATAC0 through AWGN: bursts decoded fall as the SNR falls (+5, −2, −5 dB; seeded)', async () => {
    const ratios: number[] = [];
    for (const snrDb of [5, -2, -5]) {
      const r = await runBurstTrial({ mode: 'datac0', channel: 'awgn', snrDb, bursts: 16, gapMs: 300, seed: 42 });
      ratios.push(r.ratio);
    }
    // links.md / issue #15: 100 % at ≥ −1 dB, 93 % at −2, 27 % at −4 (0 % at −6).
    expect(ratios[0]).toBe(1);
    expect(ratios[1]).toBeGreaterThanOrEqual(0.75);
    expect(ratios[1]).toBeLessThan(ratios[0]! + 1e-9);
    expect(ratios[2]).toBeLessThan(0.5);
    expect(ratios[2]).toBeLessThan(ratios[1]!);
  });
});
