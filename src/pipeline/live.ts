import { randomInt } from 'node:crypto';
import { fromPcm16, readWavFile, resample, toPcm16k, WavStreamWriter } from '../audio/index.ts';
import type { AudioSink } from './timeline.ts';
import type { MonoAudio } from '../audio/pcm.ts';
import type { AsrEngine, AsrResult } from '../engines/asr/types.ts';
import type { CodecMode, Frame } from '../codec/frame/index.ts';
import { createAsrEngine } from '../engines/asr/registry.ts';
import { createTtsEngine } from '../engines/tts/registry.ts';
import { appendFileSync, closeSync, existsSync, fsyncSync, openSync, readFileSync } from 'node:fs';
import { FORMAT_VERSION } from '../codec/frame/index.ts';
import { LinkSession, type SessionJournal } from '../transport/link-session.ts';
import { InboxJournal, OutboxJournal, ProfileStore, StateDir } from '../transport/journal/index.ts';
import { newResumeSecret, type ResumeSecretStore } from '../transport/ws.ts';
import { ReliableReceiver } from '../transport/reliability/receiver.ts';
import { appendingWavSink } from './wav-append-sink.ts';
import { LinkPacer } from '../transport/reliability/pacer.ts';
import type { TransportError } from '../core/errors.ts';
import { PROTECTION_OVERHEAD_BYTES } from '../transport/secure/index.ts';
import { arqTuning, autoMode, linkKindOf, dialSession, linkCapacityBitsPerSecond, listenSessions, type LinkUrlOptions, type PacketCostModel, type SessionCarrier } from '../transport/links/index.ts';
import { TranscriptLog } from './transcript-log.ts';
import { phraseCodecFactory, profileHashOf, senderPipeline } from './codecs.ts';
import { speakerContentBytes } from '../codec/speaker/index.ts';
import { receiveFrames, type ReceivedPhrase } from './receiver.ts';
import { phraseRenderer, timbrePostProcess } from './render.ts';
import { senderFrames } from './sender.ts';

export interface SendOptions {
  /** A codec mode, or `auto`: chosen from the link's capacity (src/transport/links/arq-tuning.ts). */
  mode: CodecMode | 'auto';
  /** Feed the file at real-time pace (as a microphone would). Default true. */
  realtime: boolean;
  bitsPerSecond: number;
  /** FEC copies of best-effort prosody detail (ReliableSenderOptions.prosodyCopies). Default 1 (off). */
  prosodyCopies?: number;
  /** Pre-shared key: authenticate to the receiver and seal every packet (it must use the same key). */
  psk?: string;
  /** Link options beyond the URL (KISS amateur callsigns, UDP keepalive). */
  link?: Pick<LinkUrlOptions, 'kiss' | 'udp'>;
  /** JSON lines `{"seq","text","t"}` per phrase: `t` = wall clock (ms since the epoch) when its last word ended. */
  transcriptPath?: string;
  onPhrase?: (text: string, atMs: number) => void;
  onState?: (s: string) => void;
  /** The mode in use (after `auto`) and the link kind, once known. */
  onStart?: (info: { mode: CodecMode; link: string }) => void;
  /**
   * Durable outbox (issue #16 item 5): every frame is journalled here before it is sent, removed
   * when acknowledged. A run that finds an unfinished session in it resumes that session instead
   * of reading the input: same session id and seqs, the unacknowledged frames resent in order, then
   * the End (the input past what was journalled is not sent: the text coder's state is not rebuilt).
   */
  stateDir?: string;
  /** Bound of the outbox file, bytes (OutboxOptions.maxBytes). */
  journalMaxBytes?: number;
}

/** A LinkSession tuned to its link: ARQ timing from the cost model, paced by it at `budgetBitsPerSecond`. */
export function tunedSession(sessionId: number, cost: PacketCostModel, budgetBitsPerSecond: number, prosodyCopies = 1, journal?: SessionJournal): LinkSession {
  const t = arqTuning(cost);
  return new LinkSession(sessionId, { sender: { ...t.sender, pacer: new LinkPacer(budgetBitsPerSecond, cost), prosodyCopies }, receiver: t.receiver, cost, journal });
}

/** The outbox as LinkSession hooks; a speaker profile the peer acknowledged is remembered in `peerProfiles`. */
export function outboxHooks(outbox: OutboxJournal, peerProfiles?: ProfileStore): SessionJournal {
  return {
    append: (f) => void outbox.append(f),
    acked: (a) => {
      // Keyed as the receiver keys its cache and as SpeakerRef names it (the embedding included).
      for (const f of outbox.acked(a)) if (f.payload.type === 'speakerProfile') peerProfiles?.add(profileHashOf(speakerContentBytes(f.payload.profile, f.payload.embedding)));
    },
  };
}

/**
 * The pacing budget. On a WebSocket every sealed packet grows by the 10-byte protection outside the
 * cost model: pace so that the sealed packets fit. Datagram links' secured cost models already
 * count those bytes.
 */
function securedBudget(url: string, o: Pick<SendOptions, 'psk' | 'bitsPerSecond'>): number {
  return o.psk && linkKindOf(url) === 'ws' ? o.bitsPerSecond * (96 / (96 + PROTECTION_OVERHEAD_BYTES)) : o.bitsPerSecond;
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
): { phrases: AsyncIterable<LivePhrase>; totalMs(): number; wallStartMs(): number } {
  let history = new Int16Array(0);
  /** Wall clock (ms since the epoch) of stream time 0: when the first chunk came in. */
  let wallStart: number | undefined;
  let historyStart = 0;
  let total = 0;
  const t0 = performance.now();
  async function* chunks() {
    for await (const chunk of source) {
      // Stream time 0: a paced file releases each chunk at its start time; a microphone (stdin)
      // delivers a chunk when its last sample was spoken.
      wallStart ??= Date.now() - (o.realtime ? 0 : (chunk.length / 16000) * 1000);
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
  return { phrases: phrases(), totalMs: () => (total / 16000) * 1000, wallStartMs: () => wallStart ?? Date.now() };
}

/** What `stcts send` reports at the end. */
export interface SendReport {
  frames: number;
  /** Bits this side put on the link / took in, link headers (and sealing) included. */
  bitsOut: number;
  bitsIn: number;
  seconds: number;
  mode: CodecMode;
  retransmissions: number;
  /** Channel time of what this side transmitted, s (key-up included on a radio). */
  airtimeSecondsOut: number;
  /** With a state dir: the session this run resumed (its unacknowledged frames resent), if any. */
  resumed?: { sessionId: number; frames: number };
  /**
   * False when every phrase was acknowledged but the End was not within {@link END_ACK_PATIENCE_MS}
   * (and 8 retransmission timeouts): the receiver already has everything it plays and most likely
   * left after its ack of the End was lost.
   */
  endAcknowledged: boolean;
}

/** How long a sender keeps resending an End that is its only unacknowledged frame, at least, ms (and at least 8 RTOs). */
export const END_ACK_PATIENCE_MS = 60_000;

/**
 * Waits until the link's sender has everything reliable acknowledged. When only the End (`endSeq`)
 * is left, the receiver holds every phrase; if the End then stays unacknowledged for
 * END_ACK_PATIENCE_MS and 8 RTOs (its ack lost and the receiver gone: at 300 bd an RTO is ~9 s and
 * the receiver lingers 5 s after it went quiet) the wait ends with `false` and a warning instead of
 * probing for ever.
 */
export async function untilAcknowledged(link: Pick<LinkSession, 'sender'>, endSeq: () => number | undefined, fatal: () => TransportError | undefined, onState?: (s: string) => void, patienceMs = END_ACK_PATIENCE_MS): Promise<boolean> {
  let onlyEndSince: number | undefined;
  while (!link.sender.idle) {
    const f = fatal();
    if (f) throw f;
    const pending = link.sender.pendingSeqs();
    const end = endSeq();
    if (end !== undefined && pending.size === 1 && pending.has(end)) {
      onlyEndSince ??= performance.now();
      const patience = Math.max(patienceMs, 8 * link.sender.rtoMs);
      if (performance.now() - onlyEndSince > patience) {
        onState?.(`every phrase was acknowledged but the End was not within ${Math.round(patience / 1000)} s (its ack was lost and the receiver has left?): stopping`);
        return false;
      }
    } else onlyEndSince = undefined;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/** `stcts send`: a WAV file, or raw 16 kHz s16le PCM on stdin (`-`), as live speech over the link at `url`. */
export async function sendLive(wavPath: string, url: string, o: SendOptions): Promise<SendReport> {
  const state = o.stateDir ? StateDir.open(o.stateDir) : undefined;
  const outbox = state ? OutboxJournal.open(state.outbox, o.journalMaxBytes ? { maxBytes: o.journalMaxBytes } : {}) : undefined;
  const peerProfiles = state ? ProfileStore.open(state.peerProfiles(url)) : undefined;
  try {
    if (outbox?.current) return await resumeSend(outbox, url, o, peerProfiles);
    return await sendFresh(wavPath, url, o, outbox, peerProfiles);
  } finally {
    outbox?.close();
    peerProfiles?.close();
  }
}

/** Resumes the outbox's unfinished session: its unacknowledged frames again (same session and seqs), then its End. */
async function resumeSend(outbox: OutboxJournal, url: string, o: SendOptions, peerProfiles: ProfileStore | undefined): Promise<SendReport> {
  const { sessionId, mode, meta } = outbox.current!;
  const resumeSecret = typeof meta?.['resumeSecret'] === 'string' ? meta['resumeSecret'] : undefined;
  const t0 = performance.now();
  if (outbox.done) {
    outbox.complete();
    return { frames: 0, bitsOut: 0, bitsIn: 0, seconds: 0, mode, retransmissions: 0, airtimeSecondsOut: 0, resumed: { sessionId, frames: 0 }, endAcknowledged: true };
  }
  const budget = securedBudget(url, o);
  let fatal: TransportError | undefined;
  const carrier = await dialSession(url, (cost) => tunedSession(sessionId, cost, budget, o.prosodyCopies ?? 1, outboxHooks(outbox, peerProfiles)), {
    budgetBitsPerSecond: budget,
    ...o.link,
    ...(o.onState ? { onState: o.onState } : {}),
    ...(o.psk ? { security: { psk: o.psk, name: 'stcts-send' } } : {}),
    ...(resumeSecret ? { resumeSecret } : {}),
    onFatal: (e) => (fatal = e),
  });
  const link = carrier.session;
  o.onStart?.({ mode, link: carrier.kind });
  try {
    const pending = outbox.pending();
    o.onState?.(`resuming session ${sessionId}: ${pending.length} unacknowledged frames from seq ${pending[0]?.seq ?? outbox.nextSeq}`);
    link.restoreSender(pending, outbox.acknowledgedBelow);
    let frames = pending.length;
    let endSeq = pending.find((f) => f.payload.type === 'end')?.seq;
    if (!outbox.ended) {
      endSeq = outbox.nextSeq;
      link.send({ version: FORMAT_VERSION, sessionId, seq: endSeq, time: outbox.lastTime, payload: { type: 'end', reason: 'normal' } });
      frames++;
    }
    const endAcknowledged = await untilAcknowledged(link, () => endSeq, () => fatal, o.onState);
    outbox.complete();
    return { frames, bitsOut: link.bitsOut, bitsIn: link.bitsIn, seconds: (performance.now() - t0) / 1000, mode, retransmissions: link.sender.stats.retransmissions, airtimeSecondsOut: link.airtimeMsOut / 1000, resumed: { sessionId, frames }, endAcknowledged };
  } finally {
    await carrier.close();
    link.close();
  }
}

async function sendFresh(wavPath: string, url: string, o: SendOptions, outbox: OutboxJournal | undefined, peerProfiles: ProfileStore | undefined): Promise<SendReport> {
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
  // Plain WebSocket links bind a resume to this secret (kept in the outbox, so a restarted sender shows it again).
  const resumeSecret = newResumeSecret();
  const budget = securedBudget(url, o);
  let fatal: TransportError | undefined;
  const hooks = outbox ? outboxHooks(outbox, peerProfiles) : undefined;
  const carrier = await dialSession(url, (cost) => tunedSession(sessionId, cost, budget, o.prosodyCopies ?? 1, hooks), {
    budgetBitsPerSecond: budget,
    ...o.link,
    ...(o.onState ? { onState: o.onState } : {}),
    ...(o.psk ? { security: { psk: o.psk, name: 'stcts-send' } } : {}),
    resumeSecret,
    onFatal: (e) => (fatal = e),
  });
  const link = carrier.session;
  const mode = o.mode === 'auto' ? autoMode(linkCapacityBitsPerSecond(carrier.cost, budget)) : o.mode;
  o.onStart?.({ mode, link: carrier.kind });
  outbox?.begin({ sessionId, mode, meta: { input: wavPath, resumeSecret } });
  const transcript = o.transcriptPath ? await TranscriptLog.create(o.transcriptPath, { append: !!outbox }) : undefined;
  const asr = await createAsrEngine('pocketsphinx');
  const t0 = performance.now();
  let frames = 0;
  let endSeq: number | undefined;
  try {
    const { codec, analyzer } = await senderPipeline('lm', mode);
    const live = livePhrases(source, asr, { realtime: o.realtime && wavPath !== '-', onPhrase: o.onPhrase, prepare: analyzer?.prepare?.bind(analyzer) });
    const total = () => live.totalMs();
    let current: AsrResult | undefined;
    async function* tracked() {
      for await (const p of live.phrases) {
        current = p.result;
        yield p;
      }
    }
    // A speaker the receiver acknowledged in an earlier session is named by its hash (its profile store keeps it).
    for await (const f of senderFrames(tracked(), codec, analyzer, { sessionId, mode, endMs: total, ...(peerProfiles ? { knownProfileHashes: peerProfiles } : {}) })) {
      if (fatal) throw fatal;
      link.send(f.frame);
      frames++;
      if (f.frame.payload.type === 'end') endSeq = f.frame.seq;
      if (f.frame.payload.type === 'text' && current) {
        // Stream time of the last word's end → wall clock (input paced at real time, or a live microphone).
        const endMs = current.words.at(-1)?.endMs ?? current.endMs;
        await transcript?.write({ seq: f.frame.seq, text: current.text, t: Math.round(live.wallStartMs() + endMs) });
      }
    }
    // Wait until everything reliable is acknowledged (survives outages: the ARQ keeps probing).
    const endAcknowledged = await untilAcknowledged(link, () => endSeq, () => fatal, o.onState);
    outbox?.complete();
    return { frames, bitsOut: link.bitsOut, bitsIn: link.bitsIn, seconds: (performance.now() - t0) / 1000, mode, retransmissions: link.sender.stats.retransmissions, airtimeSecondsOut: link.airtimeMsOut / 1000, endAcknowledged };
  } finally {
    await transcript?.close();
    await asr.close();
    await carrier.close();
    link.close();
  }
}

export interface ReceiveOptions {
  outputRateHz: number;
  /** The link budget, bit/s (acks are paced to it). Default 100 000 (acks are tiny). */
  bitsPerSecond?: number;
  link?: Pick<LinkUrlOptions, 'kiss' | 'udp'>;
  /** JSON lines `{"seq","text","t"}` per phrase: `t` = wall clock (ms since the epoch) when its audio starts being written. */
  transcriptPath?: string;
  /** Stops waiting for the session's End (SIGTERM/SIGINT): the report is still written. */
  signal?: AbortSignal;
  /** Pre-shared key: only senders that prove it are accepted, and every packet is sealed. */
  psk?: string;
  onPhrase?: (p: ReceivedPhrase) => void;
  onWarning?: (m: string) => void;
  onListening?: (port: number) => void;
  /**
   * Durable receiver state (issue #16 item 5): frames journalled before they are acknowledged, the
   * rendered mark after each phrase's audio and transcript line; the speaker-profile cache. A run
   * that finds an unfinished session resumes it: the journalled frames are replayed through the
   * decoder, phrases already written are skipped, the WAV and the transcript are continued.
   */
  stateDir?: string;
  /** How long a run that finished its session from the journal alone waits for the sender to come back and retry, ms. Default 10 000. */
  lingerMs?: number;
}

/** What `stcts receive` reports (`--stats-json`). */
export interface ReceiveReport {
  phrases: number;
  durationMs: number;
  bitsIn: number;
  bitsOut: number;
  /** Phrases handed to synthesis (each seq once when all is well). */
  phrasesDelivered: number;
  /** Phrases delivered more than once (must be 0). */
  duplicates: number;
  /** Phrases delivered in seq order. */
  inOrder: boolean;
  /** Link headers included. */
  wireBitsIn: number;
  wireBitsOut: number;
  airtimeSecondsOut: number;
  /** Our own retransmissions (a receiver sends acks, which are never retransmitted: 0 unless it also talks). */
  retransmissions: number;
  /** Frames that arrived twice: the sender's retransmissions whose first copy had arrived after all. */
  duplicateFramesIn: number;
  link: string;
  /** With a state dir: the session this run resumed and the phrases it skipped (written before the restart). */
  resumed?: { sessionId: number; skippedPhrases: number };
}

/** Highest seq in a transcript file (-1: none): what was written before a crash, whatever the journal says. */
function lastTranscriptSeq(path: string | undefined): number {
  if (!path || !existsSync(path)) return -1;
  let max = -1;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    try {
      const seq = (JSON.parse(line) as { seq?: unknown }).seq;
      if (typeof seq === 'number') max = Math.max(max, seq);
    } catch {
      // a torn last line
    }
  }
  return max;
}

/** `stcts receive`: listens (or attaches, for KISS), speaks the first session that arrives, returns at its End (or on `signal`). */
export async function receiveLive(listen: string, outPath: string, o: ReceiveOptions & { onListening?: (where: string) => void }): Promise<ReceiveReport> {
  const state = o.stateDir ? StateDir.open(o.stateDir) : undefined;
  let inbox = state ? InboxJournal.open(state.inbox) : undefined;
  const profileStore = state ? ProfileStore.open(state.profiles) : undefined;
  // A session to resume: its journalled frames, replayed through a receiver as the ARQ took them.
  let resumeId = inbox?.sessionId;
  let replay: Frame[] = [];
  if (inbox && resumeId !== undefined) {
    const r = new ReliableReceiver();
    for (const b of inbox.accepted()) replay.push(...r.accept(b, 0));
  }
  let renderedUpTo = Math.max(inbox?.renderedSeq ?? -1, state ? lastTranscriptSeq(o.transcriptPath) : -1);
  const replayEnds = replay.some((f) => f.payload.type === 'end');
  const inboxHooks: SessionJournal = { accepted: (frames) => inbox!.accept(frames) };

  let resolveSession: (s: LinkSession) => void = () => {};
  const got = new Promise<LinkSession>((r) => (resolveSession = r));
  const budget = o.bitsPerSecond ?? 100_000;
  let first: LinkSession | undefined;
  let refusedShown = 0;
  const carrier: SessionCarrier = await listenSessions(listen, (id, cost) => {
    if (first || !inbox) {
      const s = tunedSession(id, cost, budget);
      if (!first) {
        first = s;
        resolveSession(s);
      }
      return s;
    }
    if (resumeId !== undefined && id !== resumeId) {
      if (replayEnds) return tunedSession(id, cost, budget); // the journalled session is finished here: a new one waits for the next run
      // The sender gave the old session up (its state lost): keep the old state aside, take the new session.
      const aside = inbox.abandon();
      o.onWarning?.(`session ${resumeId} was not finished; its state was moved to ${aside}; receiving session ${id}`);
      inbox = InboxJournal.open(state!.inbox);
      resumeId = undefined;
      replay = [];
      renderedUpTo = -1;
    }
    if (resumeId === undefined) inbox.begin(id);
    const s = tunedSession(id, cost, budget, 1, replayEnds ? undefined : inboxHooks);
    if (resumeId !== undefined) s.restoreReceiver(inbox.accepted());
    first = s;
    resolveSession(s);
    return s;
  }, {
    budgetBitsPerSecond: budget,
    ...o.link,
    // A sender restarted from its state dir dials from a new UDP port: let the pinned peer move to it
    // (with a key, the handshake decides who is pinned instead).
    ...(state && !o.psk ? { udp: { followPeer: true, ...o.link?.udp } } : {}),
    ...(o.psk ? { security: { psk: o.psk } } : {}),
    // A restarted receiver still knows who may resume the journalled session.
    ...(state ? { resumeSecrets: journalResumeSecrets(() => inbox) } : {}),
    onError: (e) => {
      if (e.code === 'auth_failed') o.onWarning?.(`refused a sender: ${e.message} (both ends need the same --psk-file)`);
      // A stranger naming our session (plain link): the first few are shown, then one line and silence (bounded logs).
      else if (e.code === 'refused' && ++refusedShown <= MAX_REFUSALS_SHOWN) o.onWarning?.(refusedShown < MAX_REFUSALS_SHOWN ? e.message : `${e.message} (further refusals are not shown)`);
    },
    ...(o.onListening ? { onListening: o.onListening } : {}),
  });
  const tts = await createTtsEngine('auto');
  const resuming = resumeId !== undefined;
  const sink: AudioSink = outPath === '-' ? stdoutPcmSink() : resuming ? await appendingWavSink(outPath, o.outputRateHz) : await WavStreamWriter.create(outPath, o.outputRateHz);
  // With a state dir the transcript line is written synchronously, then the rendered mark: a crash between leaves the line, which the restart reads.
  const transcriptFd = state && o.transcriptPath ? openSync(o.transcriptPath, 'a') : undefined;
  const transcript = !state && o.transcriptPath ? await TranscriptLog.create(o.transcriptPath) : undefined;
  const seqs: number[] = [];
  const aborted = new Promise<undefined>((r) => o.signal?.addEventListener('abort', () => r(undefined), { once: true }));
  let report = { phrases: [] as ReceivedPhrase[], durationMs: 0 };
  let session: LinkSession | undefined;
  let skipped = 0;
  try {
    // Finished in the journal already: render what is left from it, and ack the sender's retries for a while.
    session = replayEnds ? undefined : await Promise.race([got, aborted]);
    if (session || replayEnds) {
      const s = session;
      const startId = resumeId;
      async function* untilEnd(): AsyncIterable<Frame> {
        if (startId !== undefined && resumeId === startId) {
          for (const f of replay) {
            yield f;
            if (f.payload.type === 'end') return;
          }
        }
        if (!s) return;
        for await (const f of s.frames()) {
          yield f;
          if (f.payload.type === 'end') return;
        }
        if (s.failure) throw s.failure;
      }
      report = await receiveFrames(untilEnd(), sink, o.outputRateHz, {
        codecFor: await phraseCodecFactory(),
        tts,
        render: phraseRenderer(tts, { useProsody: true, useSpeaker: true }),
        postProcess: timbrePostProcess({ useProsody: true, useSpeaker: true }),
        resample,
        hashProfile: profileHashOf,
        ...(profileStore ? { profileCache: profileStore.cache() } : {}),
        skip: (seq) => {
          const skip = seq <= renderedUpTo;
          if (skip) skipped++;
          return skip;
        },
        onPhrase: (ph) => {
          seqs.push(ph.seq);
          // The phrase's audio has just been handed to the sink: its writing starts now.
          const line = { seq: ph.seq, text: ph.text, t: Date.now() };
          if (transcriptFd !== undefined) {
            appendFileSync(transcriptFd, JSON.stringify(line) + '\n');
            fsyncSync(transcriptFd);
          } else void transcript?.write(line);
          inbox?.rendered(ph.seq);
          o.onPhrase?.(ph);
        },
      }, o.onWarning, o.signal);
      if (!o.signal?.aborted) {
        // The session is written in full: its state is no longer needed.
        inbox?.complete();
        if (replayEnds) {
          // The sender may still be resending the End whose ack the crash swallowed: answer it.
          // It comes back only when restarted itself, which takes a few seconds: wait up to
          // REPLAY_LINGER_MS for it, then answer until it has been quiet.
          const late = await Promise.race([got, new Promise<undefined>((r) => setTimeout(r, o.lingerMs ?? REPLAY_LINGER_MS))]);
          if (late) await lingerAfterEnd(late);
          late?.close();
        } else if (session) await lingerAfterEnd(session); // the sender may not have our ack of its End yet
      }
    }
  } catch (err) {
    if (!o.signal?.aborted) throw err;
  } finally {
    session?.close();
    if (transcriptFd !== undefined) closeSync(transcriptFd);
    await transcript?.close();
    inbox?.close();
    profileStore?.close();
    await tts.close();
    await carrier.close();
  }
  const unique = new Set(seqs);
  return {
    phrases: report.phrases.length,
    durationMs: report.durationMs,
    bitsIn: session?.bitsIn ?? 0,
    bitsOut: session?.bitsOut ?? 0,
    phrasesDelivered: unique.size,
    duplicates: seqs.length - unique.size,
    inOrder: seqs.every((q, i) => i === 0 || q > seqs[i - 1]!),
    wireBitsIn: session?.bitsIn ?? 0,
    wireBitsOut: session?.bitsOut ?? 0,
    airtimeSecondsOut: (session?.airtimeMsOut ?? 0) / 1000,
    retransmissions: session?.sender.stats.retransmissions ?? 0,
    duplicateFramesIn: session?.receiver.stats.duplicates ?? 0,
    link: carrier.kind,
    ...(resuming ? { resumed: { sessionId: resumeId ?? inbox?.sessionId ?? 0, skippedPhrases: skipped } } : {}),
  };
}

/** Quiet time after the End before the receiver closes, ms: the sender's End retransmissions have stopped. */
const LINGER_QUIET_MS = 5000;
/** Refused connections (a session held by another peer) a receiver reports before it goes quiet. */
const MAX_REFUSALS_SHOWN = 5;

/** Resume secrets kept in the inbox journal for its session (others in memory, for this run). */
function journalResumeSecrets(inbox: () => InboxJournal | undefined): ResumeSecretStore {
  const others = new Map<number, string>();
  return {
    get: (id) => {
      const j = inbox();
      return j?.sessionId === id ? j.resumeSecret : others.get(id);
    },
    set: (id, secret) => {
      const j = inbox();
      if (j?.sessionId === id) j.setResumeSecret(secret);
      else others.set(id, secret);
    },
  };
}

/** How long a receiver that finished from its journal waits for a restarted sender's retries, ms. */
const REPLAY_LINGER_MS = 10_000;
/** The longest a receiver lingers after the End, ms. */
const LINGER_MAX_MS = 30_000;

/**
 * After the End, keep the session answering (acking) until the sender has been quiet for a while:
 * our ack of its End may be lost (10 % of radio transmissions in the direwolf runs), and a sender
 * that never hears it keeps resending the End to nobody and never exits.
 */
/**
 * Quiet time after which a receiver that has the End stops answering, ms: LINGER_QUIET_MS, or 1.5 ×
 * the longest resend gap its peer showed in the session (on a slow radio the sender resends a lost
 * End only after its RTO, ~9 s at 300 bd), at most LINGER_MAX_MS.
 */
export function lingerQuietMs(peerResendGapMs: number): number {
  return Math.min(LINGER_MAX_MS, Math.max(LINGER_QUIET_MS, Math.round(1.5 * peerResendGapMs)));
}

async function lingerAfterEnd(session: LinkSession): Promise<void> {
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, 1000));
  while (performance.now() - session.lastPacketAtMs < lingerQuietMs(session.receiver.peerResendGapMs) && performance.now() - t0 < LINGER_MAX_MS) {
    await new Promise((r) => setTimeout(r, 200));
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
