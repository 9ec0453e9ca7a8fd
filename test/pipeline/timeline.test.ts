import { describe, expect, it } from 'vitest';
import { BufferSink, PhraseTimeline } from '../../src/pipeline/timeline.ts';
import { InvalidStateError } from '../../src/core/errors.ts';

const tone = (n: number, v = 0.5) => ({ samples: new Float32Array(n).fill(v), sampleRateHz: 1000 });

describe('PhraseTimeline', () => {
  it('keeps pauses, never overlaps, pads to the end time', async () => {
    const sink = new BufferSink();
    const tl = new PhraseTimeline(sink, 1000);
    await tl.add(100, tone(50));
    // Requested at 120 ms but the first phrase runs to 150 ms: starts at 150.
    const late = await tl.add(120, tone(30, 0.25));
    await tl.add(400, tone(10, 1));
    await tl.close(500);
    const out = sink.audio(1000).samples;
    expect(out.length).toBe(500);
    expect(out[99]).toBe(0);
    expect(out[100]).toBe(0.5);
    expect(late.startMs).toBe(150);
    expect(out[150]).toBe(0.25);
    expect(out[180]).toBe(0);
    expect(out[400]).toBe(1);
    expect(tl.placed.map((p) => p.startMs)).toEqual([100, 150, 400]);
  });

  it('refuses audio at the wrong rate and use after close', async () => {
    const tl = new PhraseTimeline(new BufferSink(), 1000);
    await expect(tl.add(0, { samples: new Float32Array(3), sampleRateHz: 16000 })).rejects.toBeInstanceOf(InvalidStateError);
    await tl.close();
    await tl.close();
    await expect(tl.add(0, tone(1))).rejects.toBeInstanceOf(InvalidStateError);
  });
});
