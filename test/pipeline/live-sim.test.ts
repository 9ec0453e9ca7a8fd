import { describe, expect, it } from 'vitest';
import { createAsrEngine } from '../../src/engines/asr/registry.ts';
import { createTtsEngine } from '../../src/engines/tts/registry.ts';
import { simulateLiveCall } from '../../src/pipeline/live-sim.ts';
import { festivalSpeech } from '../engines/asr.conformance.ts';
import { describeWith, FESTIVAL, POCKETSPHINX_ADDON, POCKETSPHINX_MODEL, TEXT_MODEL } from '../fixtures/components.ts';


describeWith('live call simulation', [FESTIVAL, POCKETSPHINX_MODEL, POCKETSPHINX_ADDON, TEXT_MODEL], () => {
  it('plays speech into the live sender at real time and delivers every phrase through a lossy 300 bit/s link', async () => {
    const utts = [festivalSpeech('THE WEATHER IS FINE TODAY'), festivalSpeech('THE SHIP IS READY TO SAIL')].map((audio) => ({ audio }));
    const asr = await createAsrEngine('pocketsphinx', { vadId: 'energy' });
    const tts = await createTtsEngine('auto');
    try {
      const r = await simulateLiveCall(utts, asr, tts, { bitsPerSecond: 300, lossRate: 0.1, delayMs: 600, seed: 3 }, { gapMs: 800 });
      expect(r.phrases).toBe(2);
      expect(r.textDeliveredRatio).toBe(1);
      expect(r.inOrder).toBe(true);
      expect(r.duplicates).toBe(0);
      // The phrase is known to have ended only after the VAD's end-of-phrase silence (500 ms after
      // the last speech frame): the measured sender part cannot be shorter than most of it.
      expect(r.latencyPartsMs.sender).toBeGreaterThan(300);
      expect(r.addedLatencyMsMedian).toBeGreaterThanOrEqual(r.latencyPartsMs.sender);
      // Median and p95 are both end to end (issue #14: the p95 used to be the protocol wait alone).
      expect(r.addedLatencyMsP95).toBeGreaterThanOrEqual(r.addedLatencyMsMedian);
      expect(r.addedLatencyMsP95).toBeGreaterThanOrEqual(r.latencyPartsP95Ms.sender);
      expect(r.latencyPartsP95Ms.synthesis).toBeGreaterThan(0);
      expect(r.codecBps).toBeGreaterThan(0);
    } finally {
      await asr.close();
      await tts.close();
    }
  }, 120_000);
});
