import { expect, it } from 'vitest';
import { runHfSim } from '../../src/eval/hf-sim.ts';
import { festivalSpeech } from '../engines/asr.conformance.ts';
import { CODEC2_ADDON, describeWith, FESTIVAL, POCKETSPHINX_ADDON, POCKETSPHINX_MODEL, TEXT_MODEL } from '../fixtures/components.ts';

describeWith('hf-sim on synthesized speech', [CODEC2_ADDON, FESTIVAL, POCKETSPHINX_MODEL, POCKETSPHINX_ADDON, TEXT_MODEL], () => {
  it('DATAC0 through AWGN at +10 dB delivers every phrase, acks crossing the same channel', async () => {
    const texts = ['THE WEATHER IS FINE TODAY', 'THE SHIP IS READY TO SAIL'];
    const utterances = texts.map((t) => ({ audio: festivalSpeech(t), transcript: t }));
    const r = await runHfSim({ utterances, channel: 'awgn', snrDb: [10], modes: ['datac0'], baselines: [], seed: 2 });
    expect(r.phrases).toBe(2);
    expect(r.rows).toHaveLength(1);
    const row = r.rows[0]!;
    expect(row).toMatchObject({ system: 'stcts', channel: 'awgn', snrDb: 10, deliveredRatio: 1, modesUsed: ['datac0'] });
    expect(row.link!.collisions).toBe(0);
    expect(row.link!.turns.receiver).toBeGreaterThan(0); // acks went back over the air
    expect(row.latencyMsMedian!).toBeGreaterThan(500); // at least the end-of-phrase detection and a burst
    expect(row.latencyMsMedian!).toBeLessThan(15_000);
    expect(row.roundTripWer).toBeLessThan(0.5);
    // Stream time, not wall-clock: the whole call with its tail ran in a fraction of its span.
    expect(row.link!.spanMs).toBeGreaterThan(r.callSeconds * 1000);
  }, 120_000);
});
