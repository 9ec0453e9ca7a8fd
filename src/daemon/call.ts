import type { MonoAudio } from '../audio/pcm.ts';
import type { CodecMode, Frame } from '../codec/frame/index.ts';
import { SessionEncoder, Utf8PhraseCodec, type PhraseCodec } from '../codec/session/index.ts';
import type { TextModel } from '../codec/text/index.ts';
import { InvalidStateError, StctsError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { AsrEngine, AsrResult } from '../engines/asr/types.ts';
import { SenderAnalysis, type AnnouncedSpeaker } from '../pipeline/analysis.ts';
import { lmSenderPipeline } from '../pipeline/codecs.ts';
import { livePhrases, outboxHooks } from '../pipeline/live.ts';
import type { OutboxJournal, ProfileStore } from '../transport/journal/index.ts';
import { LinkSession } from '../transport/link-session.ts';
import type { DaemonStateDir } from './durable.ts';
import type { PeerLink } from './peer-link.ts';
import type { LocalEndpoint } from './types.ts';

export interface OutgoingCallOptions {
  mode: CodecMode;
  coding: 'lm' | 'utf8';
  /** Required for `lm`. */
  textModel?: TextModel;
  /** After the microphone ends, wait at most this long for the peer to acknowledge everything, ms. */
  drainTimeoutMs: number;
  log: Logger;
  /** A phrase's text frame was acknowledged `ms` after it was queued. */
  onDelivered?: (ms: number) => void;
  /** The recognizer returned a phrase `ms` after its audio ended (wall clock). */
  onAsrLatency?: (ms: number) => void;
  /**
   * With the daemon's `state_dir`: every session's reliable frames go to an outbox journal before
   * they are sent (a phrase counts as accepted once durable), and speakers the peer acknowledged
   * before are named by their hash only.
   */
  durable?: { state: DaemonStateDir; peerProfiles: ProfileStore };
  /** A phrase was accepted (journalled, with a state dir) as text frame `seq` of `session`. */
  onAccepted?: (session: number, seq: number, text: string) => void;
}

/** One codec session of a call (a call gets a new one when the peer restarts). */
interface CallSession {
  id: number;
  link: LinkSession;
  enc: SessionEncoder<unknown>;
  analyzer: SenderAnalysis | undefined;
  outbox: OutboxJournal | undefined;
}

interface PendingPhrase {
  sessionId: number;
  textSeq: number;
  startMs: number;
  text: string;
  prosody: unknown;
  queuedAtMs: number;
  /** A packet carrying its text frame has left (the page's "sent" state). */
  sent: boolean;
}

/** Counters of a call. */
export interface CallStats {
  phrasesSent: number;
  phrasesAcked: number;
  phrasesResent: number;
  framesDropped: number;
  sessions: number;
}

/**
 * The sending half of a call: the endpoint's microphone → VAD → ASR → prosody/speaker analysis →
 * frames → the reliable link to the peer. Phrases stay listed until their text frame is
 * acknowledged; when the peer restarts (its receiver state is gone) the call starts a new codec
 * session and sends the unacknowledged phrases again, so no text is lost.
 */
export class OutgoingCall {
  readonly stats: CallStats = { phrasesSent: 0, phrasesAcked: 0, phrasesResent: 0, framesDropped: 0, sessions: 0 };
  private cur: CallSession | undefined;
  private pending: PendingPhrase[] = [];
  private profile: AnnouncedSpeaker | undefined;
  private ended = false;
  private endMs = 0;
  private closed = false;
  private readonly abort = new AbortController();
  private ackTimer: NodeJS.Timeout | undefined;
  private unsubscribeSent: (() => void) | undefined;

  constructor(
    readonly endpoint: LocalEndpoint,
    private readonly peer: PeerLink,
    private readonly createAsr: () => Promise<AsrEngine>,
    private readonly o: OutgoingCallOptions,
  ) {
    if (o.coding === 'lm' && !o.textModel) throw new InvalidStateError('an lm call needs the text model');
  }

  /** Frames queued or unacknowledged in the current session. */
  get queuedFrames(): number {
    return this.cur?.link.sender.outstanding ?? 0;
  }

  /** Runs until the microphone ends and the peer has everything (or the call is closed). */
  async run(): Promise<void> {
    const asr = await this.createAsr();
    try {
      this.openSession();
      this.ackTimer = setInterval(() => this.checkAcks(), 250);
      this.unsubscribeSent = this.peer.onFramesSent((sessionId, seqs) => this.markSent(sessionId, seqs));
      // Tentative phrases are analysed by the session current when they come (a new session's analyzer starts fresh).
      const live = livePhrases(abortable(this.endpoint.mic, this.abort.signal), asr, { realtime: false, signal: this.abort.signal, prepare: (audio, startMs) => this.cur?.analyzer?.prepare(audio, startMs) });
      const t0 = performance.now();
      for await (const { result, audio } of live.phrases) {
        if (this.closed) break;
        this.o.onAsrLatency?.(performance.now() - t0 - result.endMs);
        if (result.text.trim() !== '') await this.sendPhrase(result, audio);
      }
      if (this.closed) return;
      this.ended = true;
      this.endMs = live.totalMs();
      this.submit(this.cur!.enc.end(this.endMs).frame);
      const deadline = performance.now() + this.o.drainTimeoutMs;
      while (!this.closed && !this.cur!.link.sender.idle && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      this.checkAcks();
      if (!this.cur!.link.sender.idle) this.o.log.warn('call ended with frames not acknowledged', { endpoint: this.endpoint.id, peer: this.peer.name, frames: this.cur!.link.sender.outstanding });
    } catch (err) {
      if (!this.closed) throw err;
    } finally {
      await asr.close();
      this.close();
    }
  }

  private openSession(): void {
    const id = this.peer.newSessionId();
    let codec: PhraseCodec<unknown>;
    let analyzer: SenderAnalysis | undefined;
    if (this.o.coding === 'lm') {
      // The same sender pipeline as `stcts send` (the prosody prediction must match the receiver's).
      ({ codec, analyzer } = lmSenderPipeline(this.o.textModel!, this.o.mode));
    } else {
      codec = new Utf8PhraseCodec();
    }
    const d = this.o.durable;
    const outbox = d?.state.outbox(this.peer.name, id);
    outbox?.begin({ sessionId: id, mode: this.o.mode, meta: { endpoint: this.endpoint.id } });
    const link = new LinkSession(id, { ...this.peer.sessionOptions(id), ...(outbox ? { journal: outboxHooks(outbox, d!.peerProfiles) } : {}) });
    const enc = new SessionEncoder(codec, { sessionId: id, mode: this.o.mode, ...(d ? { knownProfileHashes: d.peerProfiles } : {}) });
    this.cur = { id, link, enc, analyzer, outbox };
    this.peer.addSession(id, link);
    this.stats.sessions++;
    this.submit(enc.start().frame);
    this.o.log.info('call session', { endpoint: this.endpoint.id, peer: this.peer.name, session: id });
  }

  private submit(frame: Frame): void {
    try {
      this.cur!.link.send(frame);
    } catch (err) {
      if (!(err instanceof StctsError)) throw err;
      // The link has been down so long that the outstanding-frames cap is reached, or the outbox journal is full.
      this.stats.framesDropped++;
      this.o.log.error('frame dropped: link backlog or journal full', { endpoint: this.endpoint.id, peer: this.peer.name, error: err });
      this.endpoint.event({ type: 'error', code: err.code, message: `a phrase could not be queued: ${err.message}` });
    }
  }

  private announceSpeaker(atMs: number): void {
    if (!this.profile) return;
    const f = this.cur!.enc.speaker(this.profile.bytes, this.profile.hash, atMs, this.profile.embedding);
    if (f) this.submit(f.frame);
  }

  private async sendPhrase(result: AsrResult, audio: MonoAudio): Promise<void> {
    const s = this.cur!;
    // Speaker first (as senderFrames does): announcing a profile re-anchors the prosody prediction.
    await s.analyzer?.updateSpeaker(audio, result.startMs);
    if (this.cur !== s) return this.sendPhrase(result, audio); // rotated meanwhile (peer restart)
    const profile = s.analyzer?.speakerProfile();
    if (profile) this.profile = profile;
    this.announceSpeaker(result.startMs);
    const analysis = s.analyzer?.analyzePhrase(audio, result, this.o.mode) ?? {};
    const frames = s.enc.phrase({ startMs: result.startMs, text: result.text, prosody: analysis.prosody, prosodyDetail: analysis.detail });
    this.queuePhrase(frames.map((f) => f.frame), result.startMs, result.text, analysis.prosody);
    this.stats.phrasesSent++;
    this.endpoint.event({ type: 'transcript', direction: 'out', text: result.text, atMs: Date.now() });
    this.o.log.debug('phrase sent', { endpoint: this.endpoint.id, peer: this.peer.name, text: result.text });
  }

  private queuePhrase(frames: Frame[], startMs: number, text: string, prosody: unknown): void {
    const textSeq = frames[frames.length - 1]!.seq;
    this.pending.push({ sessionId: this.cur!.id, textSeq, startMs, text, prosody, queuedAtMs: performance.now(), sent: false });
    this.phraseEvent(this.cur!.id, textSeq, 'queued', text);
    for (const f of frames) this.submit(f);
    this.o.onAccepted?.(this.cur!.id, textSeq, text);
  }

  /** The browser page's per-phrase state (issue #14): queued → sent → acknowledged. */
  private phraseEvent(session: number, seq: number, state: 'queued' | 'sent' | 'acknowledged', text: string): void {
    this.endpoint.event({ type: 'phrase', session, seq, state, text, atMs: Date.now() });
  }

  /** A packet with these frames left for the peer: a phrase whose text frame is among them is "sent". */
  private markSent(sessionId: number, seqs: readonly number[]): void {
    for (const p of this.pending) {
      if (p.sent || p.sessionId !== sessionId || !seqs.includes(p.textSeq)) continue;
      p.sent = true;
      this.phraseEvent(p.sessionId, p.textSeq, 'sent', p.text);
    }
  }

  private checkAcks(): void {
    const s = this.cur;
    if (!s) return;
    const waiting = s.link.sender.pendingSeqs();
    const now = performance.now();
    this.pending = this.pending.filter((p) => {
      if (p.sessionId !== s.id || waiting.has(p.textSeq)) return true;
      this.stats.phrasesAcked++;
      this.o.onDelivered?.(now - p.queuedAtMs);
      this.phraseEvent(p.sessionId, p.textSeq, 'acknowledged', p.text);
      return false;
    });
  }

  /**
   * The peer restarted: the current session's receiver is gone. Start a new codec session and
   * send again every phrase whose text was not acknowledged (new header, speaker profile first).
   */
  rotate(): void {
    if (this.closed || !this.cur) return;
    this.checkAcks();
    const old = this.cur;
    const resend = this.pending.filter((p) => p.sessionId === old.id);
    this.peer.removeSession(old.id);
    old.link.close();
    this.pending = this.pending.filter((p) => p.sessionId !== old.id);
    this.openSession();
    this.announceSpeaker(resend[0]?.startMs ?? 0);
    for (const p of resend) {
      let frames: Frame[];
      try {
        frames = this.cur!.enc.phrase({ startMs: p.startMs, text: p.text, prosody: p.prosody }).map((f) => f.frame);
      } catch {
        frames = this.cur!.enc.phrase({ startMs: p.startMs, text: p.text }).map((f) => f.frame);
      }
      this.queuePhrase(frames, p.startMs, p.text, p.prosody);
      this.stats.phrasesResent++;
    }
    if (this.ended) this.submit(this.cur!.enc.end(this.endMs).frame);
    // Only now (the phrases are in the new session's outbox) may the old one go.
    old.outbox?.complete();
    this.o.log.info('call resumed in a new session after a peer restart', { endpoint: this.endpoint.id, peer: this.peer.name, resent: resend.length });
  }

  /** Stops the call (the microphone is abandoned). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    if (this.ackTimer) clearInterval(this.ackTimer);
    this.unsubscribeSent?.();
    if (this.cur) {
      const s = this.cur;
      // Let the final acks and any late retransmission requests finish before forgetting the session.
      const t = setTimeout(() => {
        this.peer.removeSession(s.id);
        s.link.close();
        // Everything acknowledged: the outbox goes. Otherwise it stays for the next start to resend.
        if (s.outbox?.done) s.outbox.complete();
        else s.outbox?.close();
      }, s.link.sender.idle ? 2000 : 0);
      t.unref?.();
    }
  }
}

/** The source's items until the signal fires (then the pending read is abandoned and the loop ends with the abort reason). */
async function* abortable<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncIterable<T> {
  const it = source[Symbol.asyncIterator]();
  const aborted = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
  aborted.catch(() => {});
  try {
    for (;;) {
      const r = await Promise.race([it.next(), aborted]);
      if (r.done) return;
      yield r.value;
    }
  } finally {
    void Promise.resolve(it.return?.()).catch(() => {});
  }
}
