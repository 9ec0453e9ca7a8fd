import { describe, expect, it } from 'vitest';
import { toPcm16k } from '../../src/audio/resample.ts';
import { EnergyVad } from '../../src/audio/vad.ts';
import { createVad } from '../../src/engines/vad/index.ts';
import { festivalSpeech } from './asr.conformance.ts';
import { describeWith, FESTIVAL } from '../fixtures/components.ts';

describe('VAD registry', () => {
  it('energy id gives the dependency-free energy VAD', async () => {
    expect(await createVad('energy')).toBeInstanceOf(EnergyVad);
  });
});

describeWith('Silero VAD (festival makes the speech fixture)', [FESTIVAL], () => {
  it('finds two phrases separated by one second of silence, none in silence', async () => {
    const speech = toPcm16k(festivalSpeech('THE SHIP IS READY TO LEAVE THE HARBOUR'));
    const gap = new Int16Array(16000);
    const pcm = new Int16Array(gap.length * 3 + speech.length * 2);
    pcm.set(speech, gap.length);
    pcm.set(speech, gap.length * 2 + speech.length);
    const vad = await createVad('silero');
    const segs = [];
    // Odd chunk size: the detector must carry partial windows between pushes.
    for (let i = 0; i < pcm.length; i += 1000) segs.push(...(await vad.push(pcm.subarray(i, i + 1000))));
    segs.push(...(await vad.flush()));
    expect(segs, JSON.stringify(segs)).toHaveLength(2);
    const speechMs = (speech.length / 16000) * 1000;
    expect(segs[0]!.startMs, JSON.stringify(segs)).toBeGreaterThan(600);
    expect(segs[0]!.startMs).toBeLessThan(1400);
    expect(segs[0]!.endMs).toBeGreaterThan(speechMs * 0.8 + 1000);
    expect(segs[1]!.startMs).toBeGreaterThan(speechMs + 1600);
    expect(segs[1]!.endMs).toBeLessThan(2 * speechMs + 2400);
    const quiet = await createVad('silero');
    expect([...(await quiet.push(new Int16Array(32000))), ...(await quiet.flush())]).toEqual([]);
  });
});
