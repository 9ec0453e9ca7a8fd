import { describe, expect, it } from 'vitest';
import type { SpeechSegment, Vad } from '../../src/audio/vad.ts';
import { recognizePhrases, type PhrasePcm } from '../../src/engines/asr/phrase-stream.ts';

/** A scripted VAD: after push number k it reports what the script says for k. */
function scriptedVad(script: Record<number, { ended?: SpeechSegment[]; tentative?: SpeechSegment }>, flush: SpeechSegment[] = []): Vad {
  let pushes = 0;
  let tentative: SpeechSegment | undefined;
  return {
    push() {
      const step = script[pushes++] ?? {};
      tentative = step.tentative;
      return step.ended ?? [];
    },
    flush: () => flush,
    takeTentative() {
      const t = tentative;
      tentative = undefined;
      return t;
    },
  };
}

/** n chunks of 100 ms, a turn of the event loop apart; sample i of the stream has value i % 30000 (so slices can be checked). */
async function* chunks(n = 10): AsyncIterable<Int16Array> {
  for (let c = 0; c < n; c++) {
    await new Promise((r) => setImmediate(r));
    yield Int16Array.from({ length: 1600 }, (_, i) => (c * 1600 + i) % 30000);
  }
}

async function collect<R>(it: AsyncIterable<R>): Promise<R[]> {
  const out: R[] = [];
  for await (const r of it) out.push(r);
  return out;
}

describe('recognizePhrases (the VAD phrase loop of the recognizers)', () => {
  it('decodes each phrase on the exact audio of its segment, with its stream offset', async () => {
    const seg = { startMs: 150, endMs: 420 };
    const calls: PhrasePcm[] = [];
    const out = await collect(recognizePhrases(chunks(), scriptedVad({ 5: { ended: [seg] } }), async (p) => { calls.push(p); return p.offsetMs; }, { speculative: true }));
    expect(out).toEqual([150]);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.pcm.length).toBe((420 - 150) * 16);
    expect(calls[0]!.pcm[0]).toBe(150 * 16);
  });

  it('reuses the speculative decode of a tentative phrase that is confirmed unchanged, and tells the hook after the decoder has it', async () => {
    const seg = { startMs: 100, endMs: 400 };
    const events: string[] = [];
    const vad = scriptedVad({ 4: { tentative: seg }, 6: { ended: [seg] } });
    const out = await collect(recognizePhrases(chunks(), vad, async (p) => { events.push(`decode ${p.offsetMs}`); return 'r'; }, { speculative: true, onTentative: (s) => events.push(`tentative ${s.startMs}-${s.endMs}`) }));
    expect(out).toEqual(['r']);
    expect(events).toEqual(['decode 100', 'tentative 100-400']);
  });

  it('decodes again when speech resumed after the tentative end (a stale guess is dropped)', async () => {
    const vad = scriptedVad({ 3: { tentative: { startMs: 100, endMs: 300 } }, 7: { ended: [{ startMs: 100, endMs: 650 }] } });
    const lengths: number[] = [];
    const out = await collect(recognizePhrases(chunks(), vad, async (p) => { lengths.push(p.pcm.length / 16); return p.pcm.length / 16; }, { speculative: true }));
    expect(lengths).toEqual([200, 550]);
    expect(out).toEqual([550]);
  });

  it('does not call the hook for a guess that went stale before it could run', async () => {
    let hooked = 0;
    const vad = scriptedVad({ 3: { tentative: { startMs: 100, endMs: 300 } }, 4: { tentative: { startMs: 100, endMs: 400 } } });
    // Both tentatives come within one chunk turn of each other only if pushes are synchronous: use a burst.
    async function* burst() { for (let c = 0; c < 8; c++) yield new Int16Array(1600); }
    await collect(recognizePhrases(burst(), vad, async () => 1, { speculative: true, onTentative: () => hooked++ }));
    await new Promise((r) => setImmediate(r));
    expect(hooked).toBe(1);
  });

  it('without speculation, decodes only confirmed phrases and never calls the hook', async () => {
    const seg = { startMs: 100, endMs: 400 };
    let hooked = 0;
    let decodes = 0;
    const vad = scriptedVad({ 4: { tentative: seg }, 6: { ended: [seg] } });
    await collect(recognizePhrases(chunks(), vad, async () => { decodes++; return 1; }, { speculative: false, onTentative: () => hooked++ }));
    expect(decodes).toBe(1);
    expect(hooked).toBe(0);
  });

  it('skips phrases the decoder finds empty, flushes the open phrase at the end, and keeps a bounded buffer', async () => {
    const vad = scriptedVad({ 2: { ended: [{ startMs: 0, endMs: 200 }] }, 30: { ended: [{ startMs: 2500, endMs: 2900 }] } }, [{ startMs: 3000, endMs: 3200 }]);
    const seen: PhrasePcm[] = [];
    const out = await collect(recognizePhrases(chunks(33), vad, async (p) => { seen.push(p); return p.offsetMs === 0 ? undefined : p.offsetMs; }, { speculative: true }));
    expect(out).toEqual([2500, 3000]);
    // Audio before 2900 − 400 ms was dropped after the second phrase; the flushed one still slices right.
    expect(seen[2]!.pcm[0]).toBe((3000 * 16) % 30000);
  });

  it('stops with the abort reason when the signal fires', async () => {
    const ac = new AbortController();
    ac.abort(new Error('hung up'));
    await expect(collect(recognizePhrases(chunks(), scriptedVad({}), async () => 1, { speculative: true, signal: ac.signal }))).rejects.toThrow('hung up');
  });
});
