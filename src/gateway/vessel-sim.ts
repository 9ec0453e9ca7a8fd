import type { TextModel } from '../codec/text/index.ts';
import { SessionEncoder, Utf8PhraseCodec, type PhraseCodec } from '../codec/session/index.ts';
import type { Frame } from '../codec/frame/index.ts';
import { lmSenderPipeline } from '../pipeline/codecs.ts';
import { connectLink } from '../transport/ws.ts';
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
