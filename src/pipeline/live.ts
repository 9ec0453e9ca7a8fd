import { randomInt } from 'node:crypto';
import { readWavFile, resample, toPcm16k, WavStreamWriter, sliceMs } from '../audio/index.ts';
import type { CodecMode, Frame } from '../codec/frame/index.ts';
import { createAsrEngine } from '../engines/asr/registry.ts';
import { createTtsEngine } from '../engines/tts/registry.ts';
import { connectLink, listenLink, LinkSession } from '../transport/index.ts';
import { phraseCodecFactory, profileHashOf, senderPipeline } from './codecs.ts';
import { receiveFrames, type ReceivedPhrase } from './receiver.ts';
import { phraseRenderer, timbrePostProcess } from './render.ts';
import { senderFrames } from './sender.ts';

export interface SendOptions {
  mode: CodecMode;
  /** Feed the file at real-time pace (as a microphone would). Default true. */
  realtime: boolean;
  bitsPerSecond: number;
  onPhrase?: (text: string, atMs: number) => void;
  onState?: (s: string) => void;
}

/** `stcts send`: a WAV (or PCM) as live speech to a receiver over the WebSocket link. */
export async function sendLive(wavPath: string, url: string, o: SendOptions): Promise<{ frames: number; bitsOut: number; bitsIn: number; seconds: number }> {
  const audio = await readWavFile(wavPath);
  const a16 = audio.sampleRateHz === 16000 ? audio : resample(audio, 16000);
  const pcm = toPcm16k(a16);
  const sessionId = randomInt(1, 2 ** 31);
  const link = new LinkSession(sessionId, { sender: { bitsPerSecond: o.bitsPerSecond } });
  const conn = connectLink(url, link, { onState: o.onState });
  const asr = await createAsrEngine('pocketsphinx');
  const t0 = performance.now();
  let frames = 0;
  try {
    async function* chunks() {
      for (let i = 0; i < pcm.length; i += 1600) {
        if (o.realtime) {
          const due = (i / 16000) * 1000 - (performance.now() - t0);
          if (due > 0) await new Promise((r) => setTimeout(r, due));
        }
        yield pcm.subarray(i, i + 1600);
      }
    }
    async function* phrases() {
      for await (const result of asr.transcribe(chunks())) {
        o.onPhrase?.(result.text, result.startMs);
        yield { result, audio: sliceMs(a16, result.startMs, result.endMs) };
      }
    }
    const { codec, analyzer } = await senderPipeline('lm', o.mode);
    for await (const f of senderFrames(phrases(), codec, analyzer, { sessionId, mode: o.mode, endMs: () => (pcm.length / 16000) * 1000 })) {
      link.send(f.frame);
      frames++;
    }
    // Wait until everything reliable is acknowledged (survives outages: the ARQ keeps probing).
    while (!link.sender.idle) await new Promise((r) => setTimeout(r, 100));
    return { frames, bitsOut: link.bitsOut, bitsIn: link.bitsIn, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await asr.close();
    conn.close();
    link.close();
  }
}

export interface ReceiveOptions {
  outputRateHz: number;
  onPhrase?: (p: ReceivedPhrase) => void;
  onWarning?: (m: string) => void;
  onListening?: (port: number) => void;
}

/** `stcts receive`: listens, speaks the first session that arrives into a WAV, returns at its End. */
export async function receiveLive(host: string, port: number, outPath: string, o: ReceiveOptions): Promise<{ phrases: number; durationMs: number; bitsIn: number; bitsOut: number }> {
  let resolveSession: (s: LinkSession) => void = () => {};
  const got = new Promise<LinkSession>((r) => (resolveSession = r));
  const server = await listenLink({ host, port, sessionFor: (id) => {
    const s = new LinkSession(id, { sender: { bitsPerSecond: 100_000 } });
    resolveSession(s);
    return s;
  } });
  o.onListening?.(server.port);
  const tts = await createTtsEngine('auto');
  const sink = await WavStreamWriter.create(outPath, o.outputRateHz);
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
