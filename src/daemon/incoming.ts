import { resample } from '../audio/index.ts';
import type { Frame } from '../codec/frame/index.ts';
import type { PhraseCodecFactory } from '../codec/session/index.ts';
import type { Logger } from '../core/log.ts';
import type { TtsEngine } from '../engines/tts/types.ts';
import { profileHashOf } from '../pipeline/codecs.ts';
import { receiveFrames, type ReceivedPhrase } from '../pipeline/receiver.ts';
import { phraseRenderer, timbrePostProcess } from '../pipeline/render.ts';
import type { AudioSink } from '../pipeline/timeline.ts';
import type { LinkSession } from '../transport/link-session.ts';
import type { LocalEndpoint } from './types.ts';

/** Rate of the audio handed to local endpoints, Hz. */
export const PLAY_RATE_HZ = 16_000;

export interface IncomingSessionOptions {
  codecFor: PhraseCodecFactory<unknown>;
  tts: () => Promise<TtsEngine>;
  /** The local endpoints that hear this peer right now. */
  listeners: () => LocalEndpoint[];
  /** Speaker profiles by content hash, shared by the daemon's sessions. */
  profileCache: Map<number, Uint8Array>;
  log: Logger;
  onPhrase?: (p: ReceivedPhrase, audioMs: number) => void;
  /** Frames this session had delivered before a restart (from its inbox journal), decoded first: the decoder's state needs them all. */
  replay?: readonly Frame[];
  /** Phrases not to render again (played before a restart). */
  skip?: (seq: number) => boolean;
}

/**
 * The receiving half of a call the peer started: frames from the link → session decoder → TTS →
 * every local endpoint listening to that peer (and a transcript event). Silence between phrases is
 * not sent: endpoints play in real time and are silent when nothing comes, so a late phrase (after
 * an outage) is spoken as soon as it arrives instead of after minutes of padding.
 */
export async function runIncomingSession(link: LinkSession, o: IncomingSessionOptions): Promise<{ phrases: number; ended: boolean }> {
  const tts = await o.tts();
  const sink: AudioSink = {
    async write(samples) {
      if (isSilence(samples)) return;
      await Promise.all(o.listeners().map((ep) => ep.play(samples, PLAY_RATE_HZ).catch(() => {})));
    },
    close() {},
  };
  let ended = false;
  async function* untilEnd(): AsyncIterable<Frame> {
    for (const f of o.replay ?? []) {
      yield f;
      if (f.payload.type === 'end') return void (ended = true);
    }
    for await (const f of link.frames()) {
      yield f;
      if (f.payload.type === 'end') return void (ended = true);
    }
  }
  const report = await receiveFrames(untilEnd(), sink, PLAY_RATE_HZ, {
    codecFor: o.codecFor,
    tts,
    render: phraseRenderer(tts, { useProsody: true, useSpeaker: true }),
    postProcess: timbrePostProcess({ useProsody: true, useSpeaker: true }),
    resample,
    hashProfile: profileHashOf,
    profileCache: o.profileCache,
    ...(o.skip ? { skip: o.skip } : {}),
    onPhrase: (p) => {
      for (const ep of o.listeners()) ep.event({ type: 'transcript', direction: 'in', text: p.text, atMs: Date.now() });
      o.onPhrase?.(p, p.placed.endMs - p.placed.startMs);
    },
  }, (m) => o.log.warn('receiver', { warning: m }));
  return { phrases: report.phrases.length, ended };
}

function isSilence(samples: Float32Array): boolean {
  for (let i = 0; i < samples.length; i++) if (samples[i] !== 0) return false;
  return true;
}
