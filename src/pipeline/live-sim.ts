import type { MonoAudio } from '../audio/pcm.ts';
import type { Frame } from '../codec/frame/index.ts';
import type { AsrEngine } from '../engines/asr/types.ts';
import type { TtsEngine } from '../engines/tts/types.ts';
import { encodeSpeakerSession } from '../eval/harness.ts';
import type { CorpusUtterance } from '../eval/corpus.ts';
import { simulateLink, type SimResult } from '../transport/sim.ts';
import type { LinkOptions } from '../transport/emulator.ts';

/** VAD hangover: a phrase is known to have ended this long after its last word (src/audio/vad.ts). */
const VAD_HANGOVER_MS = 500;

export interface LiveSimResult extends Omit<SimResult, 'delivered'> {
  /** End of a phrase at the sender → start of its audio at the receiver, minus the emulated link's own time, ms (median). */
  addedLatencyMsMedian: number;
  /** Parts of it (medians): sender (VAD hangover + recognition), protocol wait, receiver synthesis. */
  latencyPartsMs: { sender: number; protocol: number; synthesis: number };
  phrases: number;
  codecBps: number;
}

const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[xs.length >> 1]! : NaN);

/**
 * The whole live path on a corpus: utterances as one call (1 s apart) → sender (ASR, prosody,
 * coding) → reliability → emulated link → receiver → TTS. Link time is virtual; recognition and
 * synthesis times are measured on this machine.
 */
export async function simulateLiveCall(utts: Array<{ utt: CorpusUtterance; audio: MonoAudio }>, asr: AsrEngine, tts: TtsEngine, link: Partial<LinkOptions>): Promise<LiveSimResult> {
  const coded = await encodeSpeakerSession(utts, asr, 'balanced');
  const inputs: Array<{ frame: Frame; atMs: number }> = [];
  const senderMs = new Map<number, number>();
  for (const c of coded) {
    const uttMs = (c.original.samples.length / 16000) * 1000;
    const phrases = c.asr;
    let k = 0;
    for (const f of c.frames) {
      const r = phrases[Math.min(k, phrases.length - 1)];
      // Recognition cost of this phrase: its share of the utterance's measured encode time.
      const cost = r ? (c.encodeMs * (r.endMs - r.startMs)) / uttMs : 0;
      const at = r ? c.offsetMs + r.endMs + VAD_HANGOVER_MS + cost : c.offsetMs;
      inputs.push({ frame: f, atMs: f.payload.type === 'sessionHeader' ? 0 : at });
      if (f.payload.type === 'text') {
        senderMs.set(f.seq, VAD_HANGOVER_MS + cost);
        k++;
      }
    }
  }
  const sim = simulateLink(inputs, link);
  const protocol: number[] = [];
  const synth: number[] = [];
  const sender: number[] = [];
  const total: number[] = [];
  const avail = new Map(inputs.map((i) => [i.frame.seq, i.atMs]));
  const texts = new Map<number, string>();
  for (const c of coded) c.frames.forEach((f) => f.payload.type === 'text' && texts.set(f.seq, ''));
  // Synthesis time: measured per delivered phrase with the real TTS (text recovered from the sender side).
  const phraseText = new Map<number, string>();
  for (const c of coded) {
    let k = 0;
    for (const f of c.frames) if (f.payload.type === 'text') phraseText.set(f.seq, c.asr[k++]?.text ?? '');
  }
  for (const d of sim.delivered) {
    if (d.frame.payload.type !== 'text') continue;
    const t0 = performance.now();
    await tts.synthesize({ text: phraseText.get(d.frame.seq) ?? '' });
    const s = performance.now() - t0;
    const p = d.atMs - avail.get(d.frame.seq)! - d.linkMs;
    const snd = senderMs.get(d.frame.seq) ?? 0;
    protocol.push(p);
    synth.push(s);
    sender.push(snd);
    total.push(snd + p + s);
  }
  const { delivered: _d, ...rest } = sim;
  const audioSec = utts.reduce((s, u) => s + u.audio.samples.length / 16000, 0);
  return {
    ...rest,
    addedLatencyMsMedian: median(total),
    latencyPartsMs: { sender: median(sender), protocol: median(protocol), synthesis: median(synth) },
    phrases: phraseText.size,
    codecBps: coded.reduce((s, c) => s + c.wireBits, 0) / audioSec,
  };
}
