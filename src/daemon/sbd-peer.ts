import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CodecMode } from '../codec/frame/index.ts';
import { decodePart, partBytesFor } from '../codec/message/index.ts';
import type { TextModel } from '../codec/text/index.ts';
import { EncodeError, InvalidStateError, StctsError, TransportError } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import { AtPort, openSerialDevice, SbdModem, type ByteDuplex, type SbdModemOptions } from '../transport/links/sbd/index.ts';
import { MessageInbox } from './message-inbox.ts';
import { pipelineDecoder, pipelineEncoder, ReceivedMessagesDir, type ReceivedVoiceMessage, type VoiceMessageDecoder, type VoiceMessageEncoder } from './message-codec-defaults.ts';
import { MessageQueue } from './message-queue.ts';
import { parseSbdUrl } from './sbd-url.ts';

export type { ReceivedVoiceMessage } from './message-codec-defaults.ts';

/** Options of {@link startSbdPeer}; `name`, `url` and `stateDir` are required. */
export interface SbdPeerOptions {
  name: string;
  /** `sbd:/dev/ttyUSB0[?baud=19200&mailbox_s=300]` (src/daemon/sbd-url.ts). */
  url: string;
  /** The daemon's state directory: the peer keeps `sbd-<name>/` (queue, inbox, profiles) and `messages/` there. */
  stateDir: string;
  log: Logger;
  textModel?: TextModel;
  /** A message was received, decoded and written (after its transcript line is durable). */
  onMessage: (m: ReceivedVoiceMessage) => void;
  /**
   * Parts of outgoing messages: `sbd` (340 B, what a 9602/9603 sends up; the default) or `sbd-mt`
   * (270 B: when the other end is also a modem, the gateway delivers at most 270 B down).
   */
  channel: 'sbd' | 'sbd-mt';
  mode: CodecMode;
  /** Mailbox check interval, ms (`?mailbox_s=` in the URL overrides it). Default 5 min: each check is a billed session. */
  mailboxIntervalMs: number;
  /** Check the mailbox once each time the modem is (re)opened (messages may have queued meanwhile). Default true. */
  checkMailboxOnOpen: boolean;
  /** Wait after a part failed all its sessions, or after a modem fault before reopening, ms. Default 60 s. */
  retryMs: number;
  /** Input discarded after opening the device (stale answers of a previous process), ms. Default 250. */
  settleMs: number;
  /** SbdModem options (back-off, attempts, timeouts). */
  modem: Partial<SbdModemOptions>;
  /**
   * Recordings being coded or waiting to be (one at a time: the recognizer is heavy); beyond it
   * enqueueWav rejects with TransportError `overflow`. Default 4.
   */
  maxPendingEncodes: number;
  /** Bounds of the queue and inbox journals, bytes. Default 1 MiB each. */
  queueMaxBytes: number;
  inboxMaxBytes: number;
  /** Recording → parts; default the real pipeline (pocketsphinx + message container). */
  encode?: VoiceMessageEncoder;
  /** Message → WAV; default the real pipeline (TTS `auto`). */
  decode?: VoiceMessageDecoder;
}

export const DEFAULT_SBD_PEER_OPTIONS = Object.freeze({
  log: silentLogger,
  onMessage: () => {},
  channel: 'sbd',
  mode: 'balanced',
  mailboxIntervalMs: 300_000,
  checkMailboxOnOpen: true,
  retryMs: 60_000,
  settleMs: 250,
  maxPendingEncodes: 4,
  modem: Object.freeze({}),
  queueMaxBytes: 1024 * 1024,
  inboxMaxBytes: 1024 * 1024,
} satisfies Partial<SbdPeerOptions>);

/** What enqueueing a message accepted (journalled: it will be sent, across restarts). */
export interface EnqueuedMessage {
  /** Local sequence number in the peer's queue. */
  seq: number;
  /** Wire id the parts carry (0..127); null for a single-part message. */
  messageId: number | null;
  parts: number;
  bytes: number;
  speechSeconds: number;
  /** What the recognizer heard ('' for parts queued as they are). */
  transcript: string;
}

export interface SbdPeerStats {
  name: string;
  device: string;
  state: 'connecting' | 'ready' | 'down' | 'closed';
  queue: ReturnType<MessageQueue['stats']>;
  pending: Array<{ seq: number; messageId: number | null; parts: number; sent: number; speechSeconds: number; acceptedAtMs: number }>;
  sent: { parts: number; messages: number; failedParts: number };
  received: { parts: number; duplicates: number; undecodable: number; messages: number; failedDecodes: number; incomplete: Array<{ key: string; have: number; count: number }> };
  modem: SbdModem['stats'] | undefined;
  lastError?: { code: string; message: string };
}

/** A running SBD peer. */
export interface SbdPeer {
  readonly name: string;
  /** Codes a recording (WAV bytes or a path) and queues it; resolves once journalled. */
  enqueueWav(wav: Uint8Array | string): Promise<EnqueuedMessage>;
  /** Queues already-coded parts of one message (from `stcts message encode --for sbd`). */
  enqueueParts(parts: readonly Uint8Array[], meta?: { speechSeconds?: number; transcript?: string }): EnqueuedMessage;
  stats(): SbdPeerStats;
  /** Idempotent: stops the loops, closes the modem and the journals. */
  close(): Promise<void>;
}

/**
 * A ByteDuplex whose input goes to the latest view only: a first AtPort reads the modem's MT
 * buffer, then SbdModem takes over. Input before the first view (the settle time) is discarded.
 */
function routedDuplex(io: ByteDuplex): (final: boolean) => ByteDuplex {
  let current: ((b: Uint8Array) => void) | undefined;
  io.onData((b) => current?.(b));
  return (final) => {
    let mine: ((b: Uint8Array) => void) | undefined;
    return {
      write: (b) => io.write(b),
      onData(l) {
        mine = l;
        current = l;
      },
      close() {
        if (current === mine) current = undefined;
        if (final) io.close();
      },
    };
  };
}

const sleepMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * An Iridium SBD peer of the daemon (issue #16 item 4): voice messages queued durably
 * (./message-queue.ts) are sent one part per SBD session, in order, a part leaving the queue only
 * when its session reported MO status 0–4; received parts (from every session, ring alerts and
 * periodic mailbox checks) are journalled (./message-inbox.ts) until their message is complete,
 * then decoded to `<stateDir>/messages/in/<messageId>.wav` with a line in `messages/in.jsonl`.
 * On opening the modem the MT buffer is read first: a message the modem took from the gateway
 * just before a crash is still there, so it is not lost (a copy already journalled is a duplicate).
 */
export async function startSbdPeer(options: Partial<SbdPeerOptions> & Pick<SbdPeerOptions, 'name' | 'url' | 'stateDir'>): Promise<SbdPeer> {
  const o: SbdPeerOptions = { ...DEFAULT_SBD_PEER_OPTIONS, ...options };
  const url = parseSbdUrl(o.url);
  const mailboxMs = url.mailboxIntervalMs ?? o.mailboxIntervalMs;
  const log = o.log.child({ peer: o.name, device: url.device });
  const dir = join(o.stateDir, `sbd-${o.name}`);
  mkdirSync(dir, { recursive: true });
  const received = new ReceivedMessagesDir(join(o.stateDir, 'messages'));
  const queue = MessageQueue.open(join(dir, 'outbox.journal'), { maxBytes: o.queueMaxBytes });
  let inbox: MessageInbox;
  try {
    inbox = MessageInbox.open(join(dir, 'inbox.journal'), { maxBytes: o.inboxMaxBytes });
  } catch (err) {
    queue.close();
    throw err;
  }
  const encode = o.encode ?? pipelineEncoder({ channel: o.channel, mode: o.mode, ...(o.textModel ? { textModel: o.textModel } : {}) });
  const ownDecoder = o.decode ? undefined : pipelineDecoder({ ...(o.textModel ? { textModel: o.textModel } : {}), profilesPath: join(dir, 'profiles.journal') });
  const decode = o.decode ?? ownDecoder!;
  const maxPartBytes = partBytesFor(o.channel);

  let closed = false;
  let state: SbdPeerStats['state'] = 'connecting';
  let modem: SbdModem | undefined;
  let lastError: SbdPeerStats['lastError'];
  let wake: (() => void) | undefined;
  const sent = { parts: 0, messages: 0, failedParts: 0 };
  const delivery = { messages: 0, failedDecodes: 0 };
  let delivering: Promise<void> = Promise.resolve();
  let encoding: Promise<void> = Promise.resolve();
  let pendingEncodes = 0;
  const recovered = new Set<string>();

  const fault = (what: string, err: unknown) => {
    const e = err as StctsError;
    lastError = { code: e.code ?? 'internal', message: e.message };
    log.warn(what, { error: err as Error });
  };
  let idle = false;
  /** Ends the loop's wait: an idle one on a new message, any one on close (a retry wait keeps its back-off). */
  const nudge = (onClose = false) => {
    if (!idle && !onClose) return;
    const w = wake;
    wake = undefined;
    w?.();
  };
  const pause = (ms: number, isIdle: boolean) => new Promise<void>((r) => {
    idle = isIdle;
    const t = setTimeout(() => {
      wake = undefined;
      r();
    }, ms);
    wake = () => {
      clearTimeout(t);
      r();
    };
  });

  const deliver = async (m: { key: string; message: Uint8Array }) => {
    const wavPath = received.wavPath(m.key);
    try {
      const r = await decode(m.message, wavPath);
      const t = Date.now();
      // After a crash between this line and the inbox record, the line is already there: once only.
      if (!(recovered.has(m.key) && received.logged(m.key))) received.append({ messageId: m.key, peer: o.name, transcript: r.transcript, t });
      inbox.delivered(m.key);
      delivery.messages++;
      log.info('message received', { messageId: m.key, transcript: r.transcript, durationMs: Math.round(r.durationMs) });
      o.onMessage({ messageId: m.key, peer: o.name, transcript: r.transcript, wavPath, durationMs: r.durationMs, t });
    } catch (err) {
      // Kept in the inbox: the next start tries again (a missing TTS engine, a full disk).
      delivery.failedDecodes++;
      fault('a received message could not be decoded; it stays in the inbox', err);
    }
  };
  const schedule = (m: { key: string; message: Uint8Array }) => {
    delivering = delivering.then(() => (closed ? undefined : deliver(m)));
  };
  const onPart = (bytes: Uint8Array) => {
    if (bytes.length === 0) return;
    try {
      const r = inbox.receive(bytes);
      log.debug('part received', { bytes: bytes.length, outcome: r.kind });
      if (r.kind === 'complete') schedule(r.message);
    } catch (err) {
      fault('a received SBD message was dropped', err);
    }
  };
  for (const m of inbox.ready()) {
    recovered.add(m.key);
    schedule(m);
  }

  const connect = async (): Promise<SbdModem> => {
    state = 'connecting';
    const io = await openSerialDevice(url.device, url.baudRate !== undefined ? { baudRate: url.baudRate } : {});
    const view = routedDuplex(io);
    await sleepMs(o.settleMs);
    const port = new AtPort(view(false));
    try {
      const timeout = o.modem.commandTimeoutMs ?? 5000;
      await port.command('AT', timeout);
      await port.command('ATE0', timeout);
      onPart(await port.readBinaryBuffer(timeout));
    } catch (err) {
      port.close();
      io.close();
      throw err;
    }
    port.close();
    const m = await SbdModem.open(view(true), o.modem);
    m.onMessage = onPart;
    m.onError = (err) => fault('ring alert session failed', err);
    state = 'ready';
    log.info('modem ready');
    if (o.checkMailboxOnOpen) void m.checkMailbox().catch((err) => fault('mailbox check failed', err));
    return m;
  };

  const sendLoop = async () => {
    while (!closed) {
      try {
        modem ??= await connect();
        if (closed) break;
        const part = queue.nextPart();
        if (!part) {
          await pause(mailboxMs, true);
          continue;
        }
        const r = await modem.send(part.bytes);
        queue.markSent(part.seq, part.index);
        sent.parts++;
        if (part.index === part.count - 1) sent.messages++;
        log.info('part sent', { seq: part.seq, messageId: part.messageId, part: part.index + 1, of: part.count, bytes: part.bytes.length, momsn: r.momsn, sessions: r.attempts, failed: r.failures });
      } catch (err) {
        if (closed) break;
        if (err instanceof TransportError && err.code === 'timeout' && Array.isArray(err.details?.failures)) {
          sent.failedParts++;
          fault('no SBD session succeeded; the part stays queued', err);
        } else {
          fault('modem fault; reopening', err);
          modem?.close();
          modem = undefined;
          state = 'down';
        }
        await pause(o.retryMs, false);
      }
    }
  };
  const mailbox = setInterval(() => {
    if (modem && !closed) modem.checkMailbox().catch((err) => fault('mailbox check failed', err));
  }, mailboxMs);
  mailbox.unref();
  const running = sendLoop();

  const accept = (parts: readonly Uint8Array[], messageId: number | null, meta: { speechSeconds?: number; transcript?: string }): EnqueuedMessage => {
    if (closed) throw new InvalidStateError(`SBD peer ${o.name} used after close()`);
    const m = queue.enqueue({ peer: o.name, parts, messageId, ...meta });
    log.info('message queued', { seq: m.seq, messageId, parts: parts.length });
    nudge();
    return { seq: m.seq, messageId, parts: parts.length, bytes: parts.reduce((s, p) => s + p.length, 0), speechSeconds: m.speechSeconds, transcript: m.transcript };
  };

  let closing: Promise<void> | undefined;
  return {
    name: o.name,
    async enqueueWav(wav) {
      if (closed) throw new InvalidStateError(`SBD peer ${o.name} used after close()`);
      if (pendingEncodes >= o.maxPendingEncodes) throw new TransportError('overflow', `${pendingEncodes} recordings for ${o.name} are already being coded; try again shortly`, { busy: true });
      pendingEncodes++;
      const run = encoding.then(async () => {
        const e = await encode(wav, queue.reserveId());
        return accept(e.parts, e.messageId, { speechSeconds: e.speechSeconds, transcript: e.transcript });
      });
      encoding = run.then(() => {}, () => {});
      try {
        return await run;
      } finally {
        pendingEncodes--;
      }
    },
    enqueueParts(parts, meta = {}) {
      const decoded = parts.map((p) => {
        if (p.length > maxPartBytes) throw new EncodeError('too_large', `a part of ${p.length} bytes does not fit one SBD message of ${maxPartBytes} bytes (channel ${o.channel})`);
        return decodePart(p);
      });
      const first = decoded[0];
      if (!first || decoded.some((d, i) => d.messageId !== first.messageId || d.count !== decoded.length || d.index !== i)) {
        throw new EncodeError('invalid_value', 'give every part of one message, in order (parts 1..n of the same message id)');
      }
      return accept(parts, first.messageId ?? null, meta);
    },
    stats() {
      return {
        name: o.name,
        device: url.device,
        state: closed ? 'closed' : state,
        queue: queue.stats(),
        pending: queue.pending().map((m) => ({ seq: m.seq, messageId: m.messageId, parts: m.parts.length, sent: m.sent.filter(Boolean).length, speechSeconds: m.speechSeconds, acceptedAtMs: m.acceptedAtMs })),
        sent: { ...sent },
        received: { ...inbox.counts, ...delivery, incomplete: inbox.incomplete() },
        modem: modem ? { ...modem.stats } : undefined,
        ...(lastError ? { lastError } : {}),
      };
    },
    close: () => (closing ??= (async () => {
      closed = true;
      clearInterval(mailbox);
      nudge(true);
      modem?.close();
      await running;
      modem?.close();
      await encoding;
      await delivering;
      queue.close();
      inbox.close();
      await ownDecoder?.close();
      log.info('SBD peer closed');
    })()),
  };
}
