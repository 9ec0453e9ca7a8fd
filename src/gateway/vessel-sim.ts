import type { TextModel } from '../codec/text/index.ts';
import { SessionDecoder, SessionEncoder, Utf8PhraseCodec, type PhraseCodec, type PhraseCodecFactory } from '../codec/session/index.ts';
import type { Frame } from '../codec/frame/index.ts';
import { lmSenderPipeline, profileHashOf } from '../pipeline/codecs.ts';
import { WebSocket } from 'ws';
import { packetRoute, resolveRoute } from '../transport/link-packet.ts';
import { connectLink, WebSocketPort } from '../transport/ws.ts';
import { LinkSession } from '../transport/link-session.ts';
import { arqTuning, dialSession } from '../transport/links/index.ts';
import { LinkPacer } from '../transport/reliability/pacer.ts';
import { UsageError } from '../core/errors.ts';

/** A simulated vessel call for tests and scripts/bench-gateway.ts: prebuilt frames from the text coder, sent in real time. */
export interface SimulatedCallOptions {
  /** Terminator URL, e.g. ws://127.0.0.1:8790 (`/vessel/<name>` is appended), or udp://127.0.0.1:8791 (needs `psk`). */
  url: string;
  vessel: string;
  sessionId: number;
  phrases: readonly string[];
  /** A phrase ends (and is sent) every this many ms. Default 3000. */
  phraseIntervalMs: number;
  /** LM text coder (stateful: what the replay must rebuild) when a model is given; else UTF-8. */
  model?: TextModel;
  /** Link budget, bit/s. Default 2400. */
  bitsPerSecond: number;
  /** Authenticate as `vessel` with this key (the gateway's `vessels` list) instead of naming the vessel in the URL. */
  psk?: string;
  signal?: AbortSignal;
}

export interface SimulatedCallResult {
  /** Seq of each phrase's text frame, in order. */
  phraseSeqs: number[];
  /** Wall-clock time (Date.now()) each phrase's frames were handed to the link. */
  sentAtMs: Map<number, number>;
}

/** The frames of a call: header, one TextSegment per phrase (starting every `intervalMs`), End. */
export function simulatedCallFrames(sessionId: number, phrases: readonly string[], intervalMs: number, model?: TextModel): { frames: Frame[]; at: number[]; phraseSeqs: number[] } {
  const codec: PhraseCodec<unknown> = model ? lmSenderPipeline(model, 'balanced').codec : new Utf8PhraseCodec();
  const enc = new SessionEncoder(codec, { sessionId });
  const frames: Frame[] = [enc.start().frame];
  const at = [0];
  const phraseSeqs: number[] = [];
  phrases.forEach((text, i) => {
    for (const f of enc.phrase({ startMs: i * intervalMs + 200, text })) {
      frames.push(f.frame);
      at.push((i + 1) * intervalMs);
      if (f.frame.payload.type === 'text') phraseSeqs.push(f.frame.seq);
    }
  });
  frames.push(enc.end(phrases.length * intervalMs + 200).frame);
  at.push(phrases.length * intervalMs + 200);
  return { frames, at, phraseSeqs };
}

/** Runs one call to the end: every frame acknowledged by the gateway. */
export async function runSimulatedCall(o: Partial<SimulatedCallOptions> & Pick<SimulatedCallOptions, 'url' | 'vessel' | 'sessionId' | 'phrases'>): Promise<SimulatedCallResult> {
  const interval = o.phraseIntervalMs ?? 3000;
  const { frames, at, phraseSeqs } = simulatedCallFrames(o.sessionId, o.phrases, interval, o.model);
  let fatal: Error | undefined;
  let link: LinkSession;
  let conn: { close(): void | Promise<void> };
  if (/^(udp|kiss)/i.test(o.url)) {
    // The vessel's own datagram link (as `stcts send --to udp://… --psk-file` dials it), tuned to its cost model.
    if (!o.psk) throw new UsageError('a udp:// or kiss terminator needs the vessel key (psk)');
    const budget = o.bitsPerSecond ?? 2400;
    const carrier = await dialSession(o.url, (cost) => new LinkSession(o.sessionId, { ...arqTuning(cost), sender: { ...arqTuning(cost).sender, pacer: new LinkPacer(budget, cost) }, cost }), { budgetBitsPerSecond: budget, security: { psk: o.psk, name: o.vessel }, onFatal: (e) => (fatal = e) });
    link = carrier.session;
    conn = carrier;
  } else {
    link = new LinkSession(o.sessionId, { sender: { bitsPerSecond: o.bitsPerSecond ?? 2400 } });
    conn = o.psk
      ? connectLink(o.url, link, { security: { psk: o.psk, name: o.vessel }, onFatal: (e) => (fatal = e) })
      : connectLink(`${o.url}/vessel/${encodeURIComponent(o.vessel)}`, link);
  }
  const sentAtMs = new Map<number, number>();
  const t0 = performance.now();
  try {
    for (let i = 0; i < frames.length; i++) {
      const due = at[i]! - (performance.now() - t0);
      if (due > 0) await new Promise((r) => setTimeout(r, due));
      o.signal?.throwIfAborted();
      link.send(frames[i]!);
      sentAtMs.set(frames[i]!.seq, Date.now());
    }
    while (!link.sender.idle) {
      o.signal?.throwIfAborted();
      if (fatal) throw fatal;
      await new Promise((r) => setTimeout(r, 50));
    }
    return { phraseSeqs, sentAtMs };
  } finally {
    await conn.close();
    link.close();
  }
}

/** A phrase a listening simulated vessel decoded from a shore→ship session. */
export interface HeardPhrase {
  sessionId: number;
  seq: number;
  /** Phrase start on the session's timeline (the talker's speech), ms. */
  startMs: number;
  text: string;
  /** Wall clock (Date.now()) when its frame was delivered in order. */
  atMs: number;
}

/**
 * A simulated vessel that only listens (scripts/bench-gateway-talk.ts): a plain WebSocket link to
 * the terminator (`/vessel/<name>`), one ARQ receiver per shore→ship session the gateway opens on
 * it, each session decoded (the stateful text coder) as a vessel's daemon would, without TTS.
 */
export function listenSimulatedVessel(url: string, vessel: string, codecFor: PhraseCodecFactory<unknown>, onPhrase: (p: HeardPhrase) => void, onEnd?: (sessionId: number) => void): { close(): void } {
  const ws = new WebSocket(`${url}/vessel/${encodeURIComponent(vessel)}`);
  const port = new WebSocketPort(ws);
  const sessions = new Map<number, LinkSession>();
  ws.on('error', () => {});
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) return;
    const bytes = new Uint8Array(data);
    const r = resolveRoute(packetRoute(bytes), sessions);
    if (!r) return;
    let s = r.session;
    if (!s) {
      const id = r.id;
      const link = new LinkSession(id, {});
      s = link;
      sessions.set(id, link);
      link.attach(port);
      const decoder = new SessionDecoder(codecFor, new Map(), profileHashOf);
      void (async () => {
        for await (const f of link.frames()) {
          for (const e of decoder.accept(f)) {
            if (e.type === 'phrase') onPhrase({ sessionId: id, seq: e.seq, startMs: e.startMs, text: e.text, atMs: Date.now() });
            else if (e.type === 'end') onEnd?.(id);
          }
        }
      })().catch(() => {});
    }
    void s.onPacket(bytes, data.length);
  });
  return {
    close() {
      ws.close();
      for (const s of sessions.values()) s.close();
    },
  };
}
