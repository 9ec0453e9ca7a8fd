import type { MonoAudio } from '../audio/pcm.ts';
import type { Frame } from '../codec/frame/index.ts';
import type { AsrEngine } from '../engines/asr/types.ts';
import type { TtsEngine } from '../engines/tts/types.ts';
import { randomInt } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { fromPcm16, toPcm16k } from '../audio/resample.ts';
import { FrameStreamWriter, type CodecMode } from '../codec/frame/index.ts';
import type { AsrResult } from '../engines/asr/types.ts';
import { senderPipeline } from './codecs.ts';
import { senderFrames } from './sender.ts';
import { LIVE_CHUNK_SAMPLES } from './live.ts';
import { simulateLink, type SimResult } from '../transport/sim.ts';
import type { LinkOptions } from '../transport/emulator.ts';
import type { ReliableReceiverOptions, ReliableSenderOptions } from '../transport/reliability/index.ts';

export interface LiveSimResult extends Omit<SimResult, 'delivered'> {
  /** End of a phrase's last word at the sender → start of its audio at the receiver, minus the emulated link's own time, ms (median). */
  addedLatencyMsMedian: number;
  /** The same, 95th percentile (end to end like the median). */
  addedLatencyMsP95: number;
  /** Parts of it (medians): sender (end-of-phrase detection + recognition + coding), protocol wait, receiver synthesis. */
  latencyPartsMs: { sender: number; protocol: number; synthesis: number };
  /** The parts' 95th percentiles. */
  latencyPartsP95Ms: { sender: number; protocol: number; synthesis: number };
  /** The link's own time (serialization / airtime + delay) of the delivering packet, ms: median and p95. */
  linkTimeMs: { median: number; p95: number };
  phrases: number;
  codecBps: number;
}

/** Options of {@link simulateLiveCall}. */
export interface LiveSimOptions {
  mode: CodecMode;
  /** Silence between utterances, ms. Default 1000. */
  gapMs: number;
  /** Feed the sender at real-time pace (true: latencies are measured; false: as fast as possible, latencies are not meaningful). Default true. */
  realtime: boolean;
  /** Reliability-layer settings of the sender (e.g. prosodyCopies for prosody FEC). */
  sender?: Partial<ReliableSenderOptions>;
  /** Reliability-layer settings of the receiver (ack timing; e.g. from arqTuning of the link). */
  receiver?: Partial<ReliableReceiverOptions>;
  onProgress?: (fraction: number) => void;
}

export const DEFAULT_LIVE_SIM_OPTIONS: Readonly<LiveSimOptions> = Object.freeze({ mode: 'balanced' as CodecMode, gapMs: 1000, realtime: true });

const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[xs.length >> 1]! : NaN);
/** Nearest-rank 95th percentile. */
const p95 = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(0.95 * xs.length) - 1)]! : NaN);
const CHUNK_SAMPLES = LIVE_CHUNK_SAMPLES; // as `stcts send` feeds the sender

export interface SenderPass {
  inputs: Array<{ frame: Frame; atMs: number }>;
  /** Text frame seq → the phrase's text and the end of its last word (call time, ms). */
  phrases: Map<number, { text: string; endMs: number }>;
  wireBits: number;
  audioMs: number;
}

/**
 * The live sender on the call's audio: 100 ms PCM chunks paced at real time → VAD → ASR → analysis →
 * frames, each frame stamped with the wall time (ms since the call started) at which it existed.
 */
export async function senderPass(utts: Array<{ audio: MonoAudio }>, asr: AsrEngine, o: LiveSimOptions): Promise<SenderPass> {
  const parts = utts.map((u) => toPcm16k(u.audio));
  const gap = Math.round((o.gapMs * 16000) / 1000);
  const pcm = new Int16Array(parts.reduce((s, p) => s + p.length + gap, 0));
  let at = 0;
  for (const p of parts) { pcm.set(p, at); at += p.length + gap; }
  const audioMs = pcm.length / 16;
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  async function* chunks(): AsyncIterable<Int16Array> {
    for (let i = 0; i < pcm.length; i += CHUNK_SAMPLES) {
      const end = Math.min(pcm.length, i + CHUNK_SAMPLES);
      // A microphone delivers this chunk when its last sample has been spoken.
      if (o.realtime) { const wait = end / 16 - now(); if (wait > 0) await delay(wait); }
      o.onProgress?.(end / pcm.length);
      yield pcm.subarray(i, end);
    }
  }
  let current: AsrResult | undefined;
  const { codec, analyzer } = await senderPipeline('lm', o.mode);
  const onTentative = (seg: { startMs: number; endMs: number }) => {
    const a = Math.max(0, Math.round(seg.startMs * 16)), b = Math.min(pcm.length, Math.round(seg.endMs * 16));
    analyzer?.prepare?.(fromPcm16(pcm.subarray(a, Math.max(a, b)), 16000), a / 16);
  };
  async function* results() {
    for await (const r of asr.transcribe(chunks(), undefined, { onTentative })) {
      current = r;
      const a = Math.max(0, Math.round(r.startMs * 16)), b = Math.min(pcm.length, Math.round(r.endMs * 16));
      yield { result: r, audio: fromPcm16(pcm.subarray(a, Math.max(a, b)), 16000) };
    }
  }
  const writer = new FrameStreamWriter();
  const out: SenderPass = { inputs: [], phrases: new Map(), wireBits: 0, audioMs };
  for await (const f of senderFrames(results(), codec, analyzer, { sessionId: randomInt(1, 2 ** 31), mode: o.mode, endMs: () => audioMs })) {
    out.inputs.push({ frame: f.frame, atMs: f.frame.payload.type === 'sessionHeader' ? 0 : now() });
    out.wireBits += writer.write(f.frame).length * 8;
    if (f.frame.payload.type === 'text' && current) out.phrases.set(f.frame.seq, { text: current.text, endMs: current.words.at(-1)?.endMs ?? current.endMs });
  }
  return out;
}

/**
 * The whole live path on a corpus: utterances as one call (`gapMs` apart) → live sender (VAD, ASR,
 * prosody, coding; real time) → reliability → emulated link (virtual time, aligned with the call's
 * clock) → receiver → TTS (synthesis time measured per delivered phrase).
 */
export async function simulateLiveCall(utts: Array<{ audio: MonoAudio }>, asr: AsrEngine, tts: TtsEngine, link: Partial<LinkOptions>, options: Partial<LiveSimOptions> = {}): Promise<LiveSimResult> {
  const o: LiveSimOptions = { ...DEFAULT_LIVE_SIM_OPTIONS, ...options };
  const pass = await senderPass(utts, asr, o);
  const inputs = pass.inputs;
  const sim = simulateLink(inputs, link, o.sender, {}, o.receiver);
  const protocol: number[] = [];
  const synth: number[] = [];
  const sender: number[] = [];
  const total: number[] = [];
  const linkMs: number[] = [];
  const avail = new Map(inputs.map((i) => [i.frame.seq, i.atMs]));
  // Synthesis time: measured per delivered phrase with the real TTS (text recovered from the sender side).
  for (const d of sim.delivered) {
    if (d.frame.payload.type !== 'text') continue;
    const phrase = pass.phrases.get(d.frame.seq);
    const t0 = performance.now();
    await tts.synthesize({ text: phrase?.text ?? '' });
    const s = performance.now() - t0;
    const p = d.atMs - avail.get(d.frame.seq)! - d.linkMs;
    const snd = phrase ? avail.get(d.frame.seq)! - phrase.endMs : 0;
    protocol.push(p);
    synth.push(s);
    sender.push(snd);
    total.push(snd + p + s);
    linkMs.push(d.linkMs);
  }
  const { delivered: _d, ...rest } = sim;
  return {
    ...rest,
    addedLatencyMsMedian: median(total),
    addedLatencyMsP95: p95(total),
    latencyPartsMs: { sender: median(sender), protocol: median(protocol), synthesis: median(synth) },
    latencyPartsP95Ms: { sender: p95(sender), protocol: p95(protocol), synthesis: p95(synth) },
    linkTimeMs: { median: median(linkMs), p95: p95(linkMs) },
    phrases: pass.phrases.size,
    codecBps: pass.wireBits / (pass.audioMs / 1000),
  };
}
