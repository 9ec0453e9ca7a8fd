import { randomInt } from 'node:crypto';
import { fromPcm16, readWavFile, resample, toPcm16k, WavStreamWriter } from '../audio/index.ts';
import type { AudioSink } from './timeline.ts';
import type { MonoAudio } from '../audio/pcm.ts';
import type { AsrEngine, AsrResult } from '../engines/asr/types.ts';
import type { CodecMode, Frame } from '../codec/frame/index.ts';
import { createAsrEngine } from '../engines/asr/registry.ts';
import { createTtsEngine } from '../engines/tts/registry.ts';
import { connectLink, listenLink, LinkSession } from '../transport/index.ts';
import type { TransportError } from '../core/errors.ts';
import { PROTECTION_OVERHEAD_BYTES } from '../transport/secure/index.ts';
import { phraseCodecFactory, profileHashOf, senderPipeline } from './codecs.ts';
import { receiveFrames, type ReceivedPhrase } from './receiver.ts';
import { phraseRenderer, timbrePostProcess } from './render.ts';
import { senderFrames } from './sender.ts';

export interface SendOptions {
  mode: CodecMode;
  /** Feed the file at real-time pace (as a microphone would). Default true. */
  realtime: boolean;
  bitsPerSecond: number;
  /** FEC copies of best-effort prosody detail (ReliableSenderOptions.prosodyCopies). Default 1 (off). */
  prosodyCopies?: number;
  /** Pre-shared key: authenticate to the receiver and seal every packet (it must use the same key). */
  psk?: string;
  onPhrase?: (text: string, atMs: number) => void;
  onState?: (s: string) => void;
}

/** Most recent audio kept for phrase analysis, samples (30 s at 16 kHz): bounded for endless input. */
const HISTORY_SAMPLES = 30 * 16000;

/**
 * Live input is handed on in 32 ms chunks (512 samples, one Silero VAD window), as a microphone
 * would deliver it: a phrase end is seen at most 32 ms late (100 ms chunks added ~50 ms of latency).
 */
export const LIVE_CHUNK_SAMPLES = 512;
const CHUNK_BYTES = LIVE_CHUNK_SAMPLES * 2;

/** Raw signed 16-bit little-endian 16 kHz mono PCM from a stream (e.g. stdin), in {@link LIVE_CHUNK_SAMPLES} chunks. */
export async function* pcmFromStream(stream: AsyncIterable<Buffer | string>): AsyncIterable<Int16Array> {
  let carry = Buffer.alloc(0);
  for await (const data of stream) {
    const buf = Buffer.concat([carry, typeof data === 'string' ? Buffer.from(data) : data]);
    const whole = buf.length - (buf.length % 2);
    for (let o = 0; o + CHUNK_BYTES <= whole; o += CHUNK_BYTES) {
      yield new Int16Array(buf.buffer.slice(buf.byteOffset + o, buf.byteOffset + o + CHUNK_BYTES));
    }
    const used = Math.floor(whole / CHUNK_BYTES) * CHUNK_BYTES;
    carry = buf.subarray(used);
  }
  if (carry.length >= 2) yield new Int16Array(carry.buffer.slice(carry.byteOffset, carry.byteOffset + carry.length - (carry.length % 2)));
}

/** A recognized phrase and its audio (16 kHz), as the sender analysis needs it. */
export interface LivePhrase {
  result: AsrResult;
  audio: MonoAudio;
}

/**
 * Live PCM (16 kHz chunks) → ASR phrases with their audio, keeping only a bounded history of the
 * input for the analysis. With `realtime`, chunks are released at real-time pace (a WAV played as
 * a microphone would be). Shared by `stcts send` and the edge daemon's calls.
 */
export function livePhrases(
  source: AsyncIterable<Int16Array>,
  asr: AsrEngine,
  o: {
    realtime: boolean;
    onPhrase?: (text: string, atMs: number) => void;
    /** Gets each tentative phrase's audio (stream time `startMs`) while the recognizer decodes it: PhraseAnalyzer.prepare. */
    prepare?: (audio: MonoAudio, startMs: number) => void;
    signal?: AbortSignal;
  },
): { phrases: AsyncIterable<LivePhrase>; totalMs(): number } {
  let history = new Int16Array(0);
  let historyStart = 0;
  let total = 0;
  const t0 = performance.now();
  async function* chunks() {
    for await (const chunk of source) {
      if (o.realtime) {
        const due = (total / 16000) * 1000 - (performance.now() - t0);
        if (due > 0) await new Promise((r) => setTimeout(r, due));
      }
      const merged = new Int16Array(history.length + chunk.length);
      merged.set(history);
      merged.set(chunk, history.length);
      const drop = Math.max(0, merged.length - HISTORY_SAMPLES);
      history = merged.slice(drop);
      historyStart += drop;
      total += chunk.length;
      yield chunk;
    }
  }
  const slice = (startMs: number, endMs: number) => {
    const a = Math.max(0, Math.round(startMs * 16) - historyStart);
    const b = Math.max(a, Math.round(endMs * 16) - historyStart);
    return { audio: fromPcm16(history.subarray(a, b), 16000), startMs: (historyStart + a) / 16 };
  };
  const prepare = o.prepare;
  const hooks = prepare && { onTentative: (seg: { startMs: number; endMs: number }) => {
    const s = slice(seg.startMs, seg.endMs);
    prepare(s.audio, s.startMs);
  } };
  async function* phrases(): AsyncIterable<LivePhrase> {
    for await (const result of asr.transcribe(chunks(), o.signal, hooks)) {
      o.onPhrase?.(result.text, result.startMs);
      yield { result, audio: slice(result.startMs, result.endMs).audio };
    }
  }
  return { phrases: phrases(), totalMs: () => (total / 16000) * 1000 };
}

/** `stcts send`: a WAV file, or raw 16 kHz s16le PCM on stdin (`-`), as live speech over the link. */
export async function sendLive(wavPath: string, url: string, o: SendOptions): Promise<{ frames: number; bitsOut: number; bitsIn: number; seconds: number }> {
  let source: AsyncIterable<Int16Array>;
  if (wavPath === '-') source = pcmFromStream(process.stdin);
  else {
    const audio = await readWavFile(wavPath);
    const pcm = toPcm16k(audio.sampleRateHz === 16000 ? audio : resample(audio, 16000));
    source = (async function* () {
      for (let i = 0; i < pcm.length; i += LIVE_CHUNK_SAMPLES) yield pcm.subarray(i, i + LIVE_CHUNK_SAMPLES);
    })();
  }
  const sessionId = randomInt(1, 2 ** 31);
  // With a key every packet grows by the 10-byte protection: pace so that the sealed packets fit the link.
  const paced = o.psk ? o.bitsPerSecond * (96 / (96 + PROTECTION_OVERHEAD_BYTES)) : o.bitsPerSecond;
  const link = new LinkSession(sessionId, { sender: { bitsPerSecond: paced, prosodyCopies: o.prosodyCopies ?? 1 } });
  let fatal: TransportError | undefined;
  const conn = connectLink(url, link, { onState: o.onState, ...(o.psk ? { security: { psk: o.psk, name: 'stcts-send' } } : {}), onFatal: (e) => (fatal = e) });
  const asr = await createAsrEngine('pocketsphinx');
  const t0 = performance.now();
  let frames = 0;
  try {
    const { codec, analyzer } = await senderPipeline('lm', o.mode);
    const live = livePhrases(source, asr, { realtime: o.realtime && wavPath !== '-', onPhrase: o.onPhrase, prepare: analyzer?.prepare?.bind(analyzer) });
    const total = () => live.totalMs();
    for await (const f of senderFrames(live.phrases, codec, analyzer, { sessionId, mode: o.mode, endMs: total })) {
      if (fatal) throw fatal;
      link.send(f.frame);
      frames++;
    }
    // Wait until everything reliable is acknowledged (survives outages: the ARQ keeps probing).
    while (!link.sender.idle) {
      if (fatal) throw fatal;
      await new Promise((r) => setTimeout(r, 100));
    }
    return { frames, bitsOut: link.bitsOut, bitsIn: link.bitsIn, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await asr.close();
    conn.close();
    link.close();
  }
}

export interface ReceiveOptions {
  outputRateHz: number;
  /** Pre-shared key: only senders that prove it are accepted, and every packet is sealed. */
  psk?: string;
  onPhrase?: (p: ReceivedPhrase) => void;
  onWarning?: (m: string) => void;
  onListening?: (port: number) => void;
}

/** `stcts receive`: listens, speaks the first session that arrives into a WAV, returns at its End. */
export async function receiveLive(host: string, port: number, outPath: string, o: ReceiveOptions): Promise<{ phrases: number; durationMs: number; bitsIn: number; bitsOut: number }> {
  let resolveSession: (s: LinkSession) => void = () => {};
  const got = new Promise<LinkSession>((r) => (resolveSession = r));
  const server = await listenLink({ host, port, ...(o.psk ? { security: { psk: o.psk } } : {}), onError: (e) => { if (e.code === 'auth_failed') o.onWarning?.(`refused a sender: ${e.message} (both ends need the same --psk-file)`); }, sessionFor: (id) => {
    const s = new LinkSession(id, { sender: { bitsPerSecond: 100_000 } });
    resolveSession(s);
    return s;
  } });
  o.onListening?.(server.port);
  const tts = await createTtsEngine('auto');
  const sink: AudioSink = outPath === '-' ? stdoutPcmSink() : await WavStreamWriter.create(outPath, o.outputRateHz);
  try {
    const session = await got;
    async function* untilEnd(): AsyncIterable<Frame> {
      for await (const f of session.frames()) {
        yield f;
        if (f.payload.type === 'end') return;
      }
    }
    const report = await receiveFrames(untilEnd(), sink, o.outputRateHz, {
      codecFor: await phraseCodecFactory(),
      tts,
      render: phraseRenderer(tts, { useProsody: true, useSpeaker: true }),
      postProcess: timbrePostProcess({ useProsody: true, useSpeaker: true }),
      resample,
      hashProfile: profileHashOf,
      onPhrase: o.onPhrase,
    }, o.onWarning);
    // Let the final ack reach the sender before closing.
    await new Promise((r) => setTimeout(r, 1000));
    session.close();
    return { phrases: report.phrases.length, durationMs: report.durationMs, bitsIn: session.bitsIn, bitsOut: session.bitsOut };
  } finally {
    await tts.close();
    await server.close();
  }
}

/** Raw s16le PCM on stdout, honouring backpressure. */
function stdoutPcmSink(): AudioSink {
  return {
    async write(samples: Float32Array) {
      const b = Buffer.alloc(samples.length * 2);
      for (let i = 0; i < samples.length; i++) b.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(samples[i]! * 32767))), i * 2);
      if (!process.stdout.write(b)) await new Promise((r) => process.stdout.once('drain', r));
    },
    close() {},
  };
}
