import { describe, expect, it } from 'vitest';
import { createTtsEngine } from '../../src/engines/tts/registry.ts';
import { ttsConformance } from './tts.conformance.ts';
import { realFft } from '../../src/audio/spectrum/index.ts';
import { describeWith, HTS_ADDON, HTS_VOICE, program } from '../fixtures/components.ts';


describeWith('HTS TTS engine', [program('festival'), HTS_VOICE, HTS_ADDON], () => {
  ttsConformance(() => createTtsEngine('hts'), { f0Contour: true, wordDurations: true, medianToleranceSt: 1 });

  it('the all-pass constant moves the spectral centroid', async () => {
    const tts = await createTtsEngine('hts');
    try {
      const centroid = async (alpha: number) => {
        const r = await tts.synthesize({ text: 'she sells sea shells by the sea shore', timbre: { allpassAlpha: alpha } });
        let num = 0, den = 0;
        for (let off = 0; off + 2048 <= r.samples.length; off += 2048) {
          const { re, im } = realFft(r.samples.subarray(off, off + 2048));
          for (let k = 1; k < 1024; k++) {
            const p = re[k]! ** 2 + im[k]! ** 2;
            num += p * (k * r.sampleRateHz) / 2048;
            den += p;
          }
        }
        return num / den;
      };
      const low = await centroid(0.35);
      const high = await centroid(0.5);
      expect(Math.abs(high - low) / low).toBeGreaterThan(0.05);
    } finally {
      await tts.close();
    }
  });
});
