import { cpus } from 'node:os';
import { randomInt } from 'node:crypto';
import { resample, sliceMs, type MonoAudio } from '../audio/index.ts';
import { FrameStreamWriter, type CodecMode, type Frame } from '../codec/frame/index.ts';
import { SessionDecoder, type AccountedFrame } from '../codec/session/index.ts';
import type { AsrEngine, AsrResult } from '../engines/asr/types.ts';
import { transcribeAudio } from '../engines/asr/registry.ts';
import type { SpeakerEncoder } from '../engines/speaker/neural/types.ts';
import type { TtsEngine } from '../engines/tts/types.ts';
import { phraseCodecFactory, profileHashOf, senderPipeline } from '../pipeline/codecs.ts';
import { phraseRenderer, timbrePostProcess } from '../pipeline/render.ts';
import { senderFrames } from '../pipeline/sender.ts';
import type { CorpusUtterance } from './corpus.ts';

/** One utterance's journey through our codec. */
export interface CodedUtterance {
  utt: CorpusUtterance;
  original: MonoAudio;
  asr: AsrResult[];
  frames: Frame[];
  wireBits: number;
  /** Payload bits by stream (text, prosody, speaker); the rest of wireBits is overhead. */
  channelBits: Record<string, number>;
  /** Bits of once-per-session frames (SessionHeader, first SpeakerProfile, End) charged to this utterance. */
  setupBits: number;
  encodeMs: number;
  /** Where this utterance starts on its speaker session's timeline, ms. */
  offsetMs: number;
}

export interface DecodedUtterance {
  audio: MonoAudio;
  /** Realized words, utterance-relative ms. */
  words: Array<{ word: string; startMs: number; endMs: number }>;
  decodeMs: number;
  text: string;
}

/** Every phrase the recognizer finds in a recording. */
export const recognize = transcribeAudio;

/**
 * Encodes all utterances of one speaker as ONE session (text context and speaker profile carried),
 * utterances laid end to end on the session timeline with a 1 s gap. With a neural
 * `speakerEncoder` the profile also carries its embedding (issue #9).
 */
export async function encodeSpeakerSession(utts: Array<{ utt: CorpusUtterance; audio: MonoAudio }>, asr: AsrEngine, mode: CodecMode, speakerEncoder?: SpeakerEncoder): Promise<CodedUtterance[]> {
  const { codec, analyzer } = await senderPipeline('lm', mode, undefined, speakerEncoder ? { speakerEncoder } : {});
  const coded: CodedUtterance[] = [];
  let offsetMs = 0;
  let current = 0;
  const started: number[] = [];
  for (const { utt, audio } of utts) {
    coded.push({ utt, original: audio, asr: [], frames: [], wireBits: 0, channelBits: {}, setupBits: 0, encodeMs: 0, offsetMs });
    offsetMs += (audio.samples.length / audio.sampleRateHz) * 1000 + 1000;
  }
  async function* phrases() {
    for (let k = 0; k < coded.length; k++) {
      current = k;
      started[k] = performance.now();
      const c = coded[k]!;
      c.asr = await recognize(asr, c.original);
      for (const r of c.asr) {
        yield { result: { ...r, startMs: r.startMs + c.offsetMs, endMs: r.endMs + c.offsetMs, words: r.words.map((w) => ({ ...w, startMs: w.startMs + c.offsetMs, endMs: w.endMs + c.offsetMs })) }, audio: sliceMs(c.original, r.startMs, r.endMs) };
      }
      c.encodeMs += performance.now() - started[k]!;
    }
  }
  const writer = new FrameStreamWriter();
  const lastEnd = () => offsetMs;
  for await (const f of senderFrames(phrases(), codec, analyzer, { sessionId: randomInt(1, 2 ** 31), mode, endMs: lastEnd })) {
    const t0 = performance.now();
    const c = coded[current]!;
    account(c, f, writer.write(f.frame).length * 8);
    c.encodeMs += performance.now() - t0;
  }
  return coded;
}

function account(c: CodedUtterance, f: AccountedFrame, wireBits: number): void {
  c.frames.push(f.frame);
  c.wireBits += wireBits;
  for (const [k, v] of Object.entries(f.channelBits)) c.channelBits[k] = (c.channelBits[k] ?? 0) + v;
  const t = f.frame.payload.type;
  if (t === 'sessionHeader' || t === 'end' || (t === 'speakerProfile' && f.frame.payload.id === 1)) c.setupBits += wireBits;
}

/**
 * Decodes a speaker session utterance by utterance: frames → phrases → TTS, each phrase placed at
 * its transmitted time relative to the utterance start (pauses kept, no overlap).
 */
export async function decodeSpeakerSession(coded: CodedUtterance[], tts: TtsEngine, render: { useProsody: boolean; useSpeaker: boolean }): Promise<DecodedUtterance[]> {
  const decoder = new SessionDecoder(await phraseCodecFactory(), new Map(), profileHashOf);
  const renderer = phraseRenderer(tts, render);
  const post = timbrePostProcess(render);
  const profiles = new Map<number, Uint8Array>();
  const details = new Map<number, Uint8Array>();
  const out: DecodedUtterance[] = [];
  for (const c of coded) {
    const t0 = performance.now();
    const parts: Array<{ startMs: number; audio: MonoAudio; words: DecodedUtterance['words'] }> = [];
    const texts: string[] = [];
    for (const frame of c.frames) {
      for (const e of decoder.accept(frame)) {
        if (e.type === 'speaker') profiles.set(e.id, e.profile);
        else if (e.type === 'prosodyDetail') details.set(e.textSeq, e.coded);
        else if (e.type === 'phrase') {
          const profile = e.speakerId !== undefined ? profiles.get(e.speakerId) : undefined;
          const r = await tts.synthesize(renderer(e, profile, details.get(e.seq)));
          const audio = post(r.sampleRateHz === 16000 ? r : resample(r, 16000), profile);
          parts.push({ startMs: e.startMs - c.offsetMs, audio, words: r.words });
          texts.push(e.text);
        }
      }
    }
    // Lay phrases out: at their start times, never overlapping.
    let cursor = 0;
    const placed = parts.map((p) => {
      const start = Math.max(cursor, Math.round((Math.max(0, p.startMs) / 1000) * 16000));
      cursor = start + p.audio.samples.length;
      return { start, p };
    });
    const total = Math.max(cursor, c.original.samples.length);
    const samples = new Float32Array(total);
    const words: DecodedUtterance['words'] = [];
    for (const { start, p } of placed) {
      samples.set(p.audio.samples, start);
      const shift = (start / 16000) * 1000;
      for (const w of p.words) words.push({ word: w.word, startMs: w.startMs + shift, endMs: w.endMs + shift });
    }
    out.push({ audio: { samples, sampleRateHz: 16000 }, words, decodeMs: performance.now() - t0, text: texts.join(' ') });
  }
  return out;
}

export function environment(command: string): { node: string; cpus: number; date: string; command: string } {
  return { node: process.version, cpus: cpus().length, date: new Date().toISOString(), command };
}
