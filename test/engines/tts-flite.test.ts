import { describe, expect, it } from 'vitest';
import { resample } from '../../src/audio/index.ts';
import { trackF0 } from '../../src/engines/prosody/index.ts';
import { UsageError } from '../../src/core/errors.ts';
import { createTtsEngine } from '../../src/engines/tts/registry.ts';
import { approximateWordTimes } from '../../src/engines/tts/flite/index.ts';
import { ttsConformance } from './tts.conformance.ts';

describe('flite TTS engine (WASI)', () => {
  ttsConformance(() => createTtsEngine('flite'), { f0Contour: false, wordDurations: false, medianToleranceSt: 2 });

  it('male voice is lower than slt and unknown voices fail typed', async () => {
    const tts = await createTtsEngine('flite');
    try {
      const med = async (voice: string) => {
        const r = await tts.synthesize({ text: 'we will meet at the harbour in the morning', voice });
        expect(r.sampleRateHz).toBe(16000);
        const f = Array.from(trackF0(resample(r, 16000)).f0Hz).filter((x) => x > 0).sort((a, b) => a - b);
        return f[f.length >> 1]!;
      };
      expect(await med('rms')).toBeLessThan((await med('slt')) * 0.8);
      await expect(tts.synthesize({ text: 'x', voice: 'nope' })).rejects.toBeInstanceOf(UsageError);
    } finally {
      await tts.close();
    }
  });

  it('approximates word times from -psdur between the first and last non-pause phone', () => {
    const w = approximateWordTimes('ab abcd', 'pau:0.100 a:0.200 b:0.400 c:0.700 pau:0.900');
    expect(w[0]!.startMs).toBeCloseTo(100);
    expect(w[1]!.endMs).toBeCloseTo(700);
    expect(w[0]!.endMs).toBeCloseTo(300);
  });
});
