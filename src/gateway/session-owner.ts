import { type JetStreamClient, type JetStreamManager } from 'nats';
import type { MonoAudio } from '../audio/pcm.ts';
import { SessionDecoder, type PhraseCodecFactory, type SessionEvent } from '../codec/session/index.ts';
import { DecodeError } from '../core/errors.ts';
import type { TtsEngine } from '../engines/tts/types.ts';
import type { PhraseRenderer } from '../pipeline/receiver.ts';
import { publishStored, storedMessages } from './stored.ts';
import { decodeFrameMessage, PCM_HEADERS, PCM_STREAM, pcmMsgId, pcmSubject, UP_STREAM } from './subjects.ts';

/** What a session owner needs (shared by every session of one worker). */
export interface SessionOwnerDeps {
  js: JetStreamClient;
  jsm: JetStreamManager;
  codecFor: PhraseCodecFactory<unknown>;
  tts: TtsEngine;
  render: PhraseRenderer<unknown>;
  postProcess?: (audio16k: MonoAudio, profile: Uint8Array | undefined) => MonoAudio;
  resample: (audio: MonoAudio, rateHz: number) => MonoAudio;
  hashProfile: (bytes: Uint8Array) => number;
  /** Serializes synthesis within the worker (one engine instance, one core). */
  synthLock: <T>(fn: () => Promise<T>) => Promise<T>;
  outputRateHz: number;
  /** Largest PCM message body, bytes (NATS max_payload is 1 MiB by default). */
  maxPartBytes: number;
  retryMs: number;
  onPhrase?: (sessionId: number, seq: number, replayed: boolean) => void;
}

/** The rendering checkpoint of a session: the last PCM message stored for it. */
export interface PcmCheckpoint {
  /** Seq of the last phrase whose every part is stored (−1: none). */
  completeSeq: number;
  /** A phrase with some but not all parts stored. */
  partialSeq?: number;
  ended: boolean;
}

/** Reads the checkpoint from the PCM stream's last message for the session. */
export async function readCheckpoint(jsm: JetStreamManager, sessionId: number): Promise<PcmCheckpoint> {
  try {
    const m = await jsm.streams.getMessage(PCM_STREAM, { last_by_subj: pcmSubject(sessionId) });
    const seq = Number(m.header.get(PCM_HEADERS.seq));
    if (m.header.get(PCM_HEADERS.end) === '1') return { completeSeq: seq, ended: true };
    const part = Number(m.header.get(PCM_HEADERS.part));
    const parts = Number(m.header.get(PCM_HEADERS.parts));
    return part + 1 >= parts ? { completeSeq: seq, ended: false } : { completeSeq: seq - 1, partialSeq: seq, ended: false };
  } catch (err) {
    if (/no message found|not found/i.test(String((err as Error).message))) return { completeSeq: -1, ended: false };
    throw err;
  }
}

const toPcm16le = (samples: Float32Array): Uint8Array => {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = Math.max(-32768, Math.min(32767, Math.round(samples[i]! * 32767)));
  return new Uint8Array(out.buffer);
};

type PhraseEvent = Extract<SessionEvent<unknown>, { type: 'phrase' }>;

/**
 * Synthesizes one phrase (under the worker's synthesis lock) and stores its PCM on the session's
 * PCM subject, in parts of at most `maxPartBytes`, each with message id session+seq+part (a
 * republish by a later owner is stored once).
 */
export async function renderPhrasePcm(sessionId: number, e: PhraseEvent, profile: Uint8Array | undefined, detail: Uint8Array | undefined, deps: SessionOwnerDeps, signal: AbortSignal): Promise<void> {
  const audio = await deps.synthLock(async () => {
    const result = await deps.tts.synthesize(deps.render(e, profile, detail), signal);
    let a: MonoAudio = result.sampleRateHz === 16000 ? result : deps.resample(result, 16000);
    if (deps.postProcess) a = deps.postProcess(a, profile);
    return deps.outputRateHz === 16000 ? a : deps.resample(a, deps.outputRateHz);
  });
  const pcm = toPcm16le(audio.samples);
  const partBytes = deps.maxPartBytes - (deps.maxPartBytes % 2);
  const parts = Math.max(1, Math.ceil(pcm.length / partBytes));
  for (let i = 0; i < parts; i++) {
    await publishStored(deps.js, pcmSubject(sessionId), pcm.subarray(i * partBytes, (i + 1) * partBytes), pcmMsgId(sessionId, e.seq, i), {
      [PCM_HEADERS.seq]: String(e.seq),
      [PCM_HEADERS.part]: String(i),
      [PCM_HEADERS.parts]: String(parts),
      [PCM_HEADERS.startMs]: String(Math.round(e.startMs)),
      [PCM_HEADERS.rateHz]: String(deps.outputRateHz),
      [PCM_HEADERS.text]: encodeURIComponent(e.text),
    }, signal, deps.retryMs);
  }
}

/** Stores a session's End on its PCM subject (the checkpoint every later owner stops at); `error`: why it could not be rendered. */
export async function storePcmEnd(sessionId: number, seq: number, deps: Pick<SessionOwnerDeps, 'js' | 'retryMs'>, signal: AbortSignal, error?: string): Promise<void> {
  await publishStored(deps.js, pcmSubject(sessionId), new Uint8Array(0), pcmMsgId(sessionId, seq, 0), { [PCM_HEADERS.seq]: String(seq), [PCM_HEADERS.end]: '1', ...(error ? { [PCM_HEADERS.error]: encodeURIComponent(error) } : {}) }, signal, deps.retryMs);
}

/**
 * Runs one owned session: replays its frames from the start of its JetStream subject through a
 * fresh SessionDecoder (rebuilding the stateful text coder), synthesizes only the phrases after
 * the checkpoint, and stores each phrase's PCM with message id session+seq+part (at-least-once
 * delivery + dedupe by id = each phrase stored once). Returns when the session's End is stored,
 * or when `signal` aborts (the lease was lost, or the worker stops).
 */
export async function runSessionOwner(sessionId: number, upSubject: string, deps: SessionOwnerDeps, signal: AbortSignal): Promise<'ended' | 'aborted'> {
  const checkpoint = await readCheckpoint(deps.jsm, sessionId);
  if (checkpoint.ended) return 'ended';
  const decoder = new SessionDecoder(deps.codecFor, new Map(), deps.hashProfile);
  const profiles = new Map<number, Uint8Array>();
  const details = new Map<number, Uint8Array>();
  let lastSeq = -1;
  let nextStreamSeq = 1;


  const render = async (e: PhraseEvent) => {
    const detail = details.get(e.seq);
    details.delete(e.seq);
    const profile = e.speakerId !== undefined ? profiles.get(e.speakerId) : undefined;
    const replayed = e.seq <= checkpoint.completeSeq;
    deps.onPhrase?.(sessionId, e.seq, replayed);
    if (!replayed) await renderPhrasePcm(sessionId, e, profile, detail, deps, signal);
  };

  /** Feeds one stored frame; true at the session's End. A failure here (TTS) ends this ownership: the lease lapses and the next owner replays. */
  const feed = async (data: Uint8Array): Promise<boolean> => {
    let frame;
    try {
      frame = decodeFrameMessage(data);
    } catch (err) {
      if (err instanceof DecodeError) return false;
      throw err;
    }
    if (frame.seq <= lastSeq) return false; // at-least-once: a frame stored twice is decoded once
    lastSeq = frame.seq;
    for (const ev of decoder.accept(frame)) {
      if (ev.type === 'prosodyDetail') {
        details.set(ev.textSeq, ev.coded);
        if (details.size > 32) details.delete(details.keys().next().value as number);
      } else if (ev.type === 'speaker') profiles.set(ev.id, ev.profile);
      else if (ev.type === 'phrase') await render(ev);
      else if (ev.type === 'end') {
        await storePcmEnd(sessionId, ev.seq, deps, signal);
        return true;
      }
    }
    return false;
  };

  for await (const m of storedMessages(deps.js, UP_STREAM, upSubject, signal, deps.retryMs)) {
    if (await feed(m.data)) return 'ended';
  }
  return 'aborted';
}
