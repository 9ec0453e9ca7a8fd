import { createServer, type Server, type Socket } from 'node:net';
import { crc32 } from 'node:zlib';
import { decodePart, reassembleMessage, type MessagePart } from '../codec/message/index.ts';
import { DecodeError, TransportError } from '../core/errors.ts';
import { directIpMessageLength, DIRECTIP_MO_MAX_BYTES, DIRECTIP_PREAMBLE_BYTES, encodeMoConfirmation, moSessionDelivered, MT_STATUS_TEXT, mtStatusTransient, parseMoMessage, sendDirectIpMt, type MoMessage } from '../transport/links/sbd/index.ts';
import { listKeys, type GatewayJetStream } from './jetstream.ts';
import { publishStored, storedMessages } from './stored.ts';
import { deliveredSubject, DOWN_STREAM, MO_STREAM, moMsgId, moSubject, PCM_HEADERS, sessionKey, type CallRecord } from './subjects.ts';
import type { DeliveredNotice } from './downlink.ts';
import { sbdTalkEnd } from './sbd-talk-owner.ts';
import type { LinkTerminator } from './terminator.ts';

/** Settings of {@link listenSbdDirectIp}. */
export interface SbdDirectIpOptions {
  host: string;
  /** 0 = any free port (Iridium's default target port is 10800). */
  port: number;
  /**
   * Source addresses allowed to connect (Iridium's DirectIP servers; the service names them when
   * the destination is provisioned). Anything else is closed at once. Required: DirectIP itself
   * authenticates nobody; the satellite network authenticates the modem, Iridium the connection.
   */
  allowFrom: readonly string[];
  /** Modem IMEI → vessel name: whose messages these are. An unknown IMEI is refused (confirmation 0). */
  imeis: ReadonlyMap<string, string>;
  /** A connection that has not delivered its whole message by then is closed, ms. Default 10 000. */
  readTimeoutMs: number;
  /** Connections served at once; more are closed. Default 64. */
  maxConnections: number;
  /**
   * A message JetStream has not stored (and assembled) by then gets no confirmation: the connection
   * is closed and Iridium delivers it again later (a NATS outage), ms. Default 20 000.
   */
  storeTimeoutMs: number;
  retryMs: number;
  /**
   * Iridium's DirectIP MT server (`mt_server`): shore→ship talks to SBD-only vessels are handed to
   * it, one MT message per part. Absent: no shore→ship over SBD from this node.
   */
  mtServer?: { host: string; port: number };
  /** How often the call registry is scanned for SBD talks ready to send, and the retry delay after a transient MT failure, ms. Default 500 / 30 000. */
  mtScanMs: number;
  mtRetryMs: number;
  /** Typed problems (malformed messages, refused sources or IMEIs), for the node's log. */
  onError?: (e: TransportError) => void;
}

export const DEFAULT_SBD_DIRECTIP_OPTIONS = Object.freeze({ readTimeoutMs: 10_000, maxConnections: 64, storeTimeoutMs: 20_000, retryMs: 250, mtScanMs: 500, mtRetryMs: 30_000 });

/** Counters of the DirectIP terminator (monotonic). */
export interface SbdDirectIpStats {
  /** MO payloads stored (first time). */
  stored: number;
  /** MO deliveries stored before (Iridium delivered the same session again), or parts of a message already complete. */
  duplicates: number;
  /** Voice messages complete and handed to the workers. */
  messages: number;
  /** Sessions without a payload (mailbox checks, failed sessions): confirmed, nothing stored. */
  empty: number;
  /** Payloads that are not a voice-message part: stored, not assembled. */
  notVoice: number;
  refusedSources: number;
  refusedImeis: number;
  malformed: number;
  /** Messages not stored within storeTimeoutMs (JetStream away): not confirmed, Iridium delivers again. */
  storeTimeouts: number;
  /** Shore→ship: MT parts Iridium queued, talks fully handed over, talks Iridium refused, transient MT failures (retried). */
  mtParts: number;
  mtMessages: number;
  mtFailed: number;
  mtRetries: number;
}

/** The 32-bit session id of a voice message: deterministic in vessel + content, so a message assembled twice is one session (rendered once). */
export const messageSessionId = (vessel: string, key: string): number => (crc32(`msg/${vessel}/${key}`) >>> 0) || 1;

interface Marker {
  key: string;
  count: number;
  partCrcs: number[];
  lastSeq: number;
}

const normalize = (addr: string) => addr.replace(/^::ffff:/i, '');

/**
 * The gateway's Iridium SBD terminator (issue #18): a DirectIP MO server. Iridium's gateway opens
 * one TCP connection per mobile-originated session and sends one message (header with the modem's
 * IMEI, the payload). The terminator names the vessel by IMEI, stores the payload in JetStream
 * (`stcts.v1.mo.<vessel>`, deduplicated by IMEI + MOMSN + CDR), and only then answers with an MO
 * confirmation (1): a node that dies before storing answers nothing, so Iridium delivers again.
 * When the stored part completes a voice message (src/codec/message parts: any order, across
 * nodes), the message becomes a call of direction `message` in KV `stcts_calls` under a session id
 * derived from vessel and content; a worker renders it like any call (src/gateway/message-owner.ts),
 * so shore clients hear it on `/listen`. A part the modem sent twice (a new session after a host
 * crash: new MOMSN, same bytes) is recognized by checksum against the last completed message of
 * its id (KV `stcts_mo`).
 */
export async function listenSbdDirectIp(jet: GatewayJetStream, options: Partial<SbdDirectIpOptions> & Pick<SbdDirectIpOptions, 'allowFrom' | 'imeis'>): Promise<LinkTerminator & { readonly stats: SbdDirectIpStats; readonly port: number }> {
  const o = { ...DEFAULT_SBD_DIRECTIP_OPTIONS, host: '127.0.0.1', port: 10800, ...options };
  const allowed = new Set(o.allowFrom.map(normalize));
  const stats: SbdDirectIpStats = { stored: 0, duplicates: 0, messages: 0, empty: 0, notVoice: 0, refusedSources: 0, refusedImeis: 0, malformed: 0, storeTimeouts: 0, mtParts: 0, mtMessages: 0, mtFailed: 0, mtRetries: 0 };
  const abort = new AbortController();
  const sockets = new Set<Socket>();
  /** Assembly is serialized per vessel on this node (parts of one message usually come in a row). */
  const chains = new Map<string, Promise<unknown>>();
  const report = (code: 'protocol' | 'auth_failed' | 'refused' | 'closed', message: string) => o.onError?.(new TransportError(code, message));

  const serialized = <T>(vessel: string, fn: () => Promise<T>): Promise<T> => {
    const run = (chains.get(vessel) ?? Promise.resolve()).then(fn, fn);
    const tail = run.catch(() => {});
    chains.set(vessel, tail);
    void tail.then(() => { if (chains.get(vessel) === tail) chains.delete(vessel); });
    return run;
  };

  const registerMessage = async (vessel: string, key: string, seqs: number[]): Promise<void> => {
    const sessionId = messageSessionId(vessel, key);
    const record: CallRecord = { sessionId, vessel, subject: moSubject(vessel), direction: 'message', parts: seqs, state: 'active', startedAtMs: Date.now() };
    try {
      await jet.calls.create(sessionKey(sessionId), JSON.stringify(record));
    } catch (err) {
      if (!/wrong last sequence|exists/i.test(String((err as Error).message))) throw err;
    }
    stats.messages++;
  };

  /** After storing `part` at stream sequence `seq`: is its message complete now? */
  const assemble = async (vessel: string, part: MessagePart, bytes: Uint8Array, seq: number, signal: AbortSignal): Promise<'duplicate' | 'held' | 'complete'> => {
    const crc = crc32(bytes) >>> 0;
    if (part.count === 1) {
      await registerMessage(vessel, `s-${crc.toString(16).padStart(8, '0')}`, [seq]);
      return 'complete';
    }
    const markerKey = `${vessel}.m${part.messageId}`;
    const entry = await jet.mo.get(markerKey);
    const marker = entry && entry.operation === 'PUT' ? (JSON.parse(new TextDecoder().decode(entry.value)) as Marker) : undefined;
    const sameAsDone = (p: MessagePart, c: number) => marker !== undefined && marker.count === p.count && marker.partCrcs[p.index] === c;
    if (sameAsDone(part, crc) || (marker && seq <= marker.lastSeq)) return 'duplicate';
    // The latest stored copy of each part of this id and count since the last completed message.
    const latest = new Map<number, { seq: number; crc: number; part: MessagePart }>();
    const scan = new AbortController();
    const stop = () => scan.abort();
    signal.addEventListener('abort', stop, { once: true });
    try {
      for await (const m of storedMessages(jet.js, MO_STREAM, moSubject(vessel), scan.signal, o.retryMs, (marker?.lastSeq ?? 0) + 1)) {
        if (m.seq > seq) break;
        let p: MessagePart;
        try {
          p = decodePart(m.data);
        } catch {
          if (m.seq >= seq) break;
          continue;
        }
        const c = crc32(m.data) >>> 0;
        if (p.messageId === part.messageId && p.count === part.count && !sameAsDone(p, c)) latest.set(p.index, { seq: m.seq, crc: c, part: p });
        if (m.seq >= seq) break;
      }
    } finally {
      signal.removeEventListener('abort', stop);
      scan.abort();
    }
    signal.throwIfAborted();
    if (latest.size < part.count) return 'held';
    const ordered = [...latest.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
    const joined = reassembleMessage(ordered.map((v) => v.part)).message;
    const key = `${part.messageId}-${(crc32(joined) >>> 0).toString(16).padStart(8, '0')}`;
    await registerMessage(vessel, key, ordered.map((v) => v.seq));
    const done: Marker = { key, count: part.count, partCrcs: ordered.map((v) => v.crc), lastSeq: Math.max(...ordered.map((v) => v.seq)) };
    await jet.mo.put(markerKey, JSON.stringify(done));
    return 'complete';
  };

  /** Stores one MO message; true when the confirmation may say "stored". */
  const handle = async (mo: MoMessage, signal: AbortSignal): Promise<boolean> => {
    const h = mo.header;
    const vessel = o.imeis.get(h.imei);
    if (vessel === undefined) {
      stats.refusedImeis++;
      report('auth_failed', `SBD DirectIP: IMEI ${h.imei} belongs to no configured vessel; message refused`);
      return false;
    }
    if (!mo.payload || !moSessionDelivered(h.sessionStatus)) {
      stats.empty++;
      return true;
    }
    const payload = mo.payload;
    const ack = await publishStored(jet.js, moSubject(vessel), payload, moMsgId(h.imei, h.momsn, h.cdrReference), {
      [PCM_HEADERS.imei]: h.imei,
      [PCM_HEADERS.momsn]: String(h.momsn),
      [PCM_HEADERS.cdr]: String(h.cdrReference >>> 0),
      [PCM_HEADERS.sessionTimeS]: String(h.sessionTimeS),
    }, signal, o.retryMs);
    let part: MessagePart;
    try {
      part = decodePart(payload);
    } catch {
      stats.notVoice++;
      return true;
    }
    const outcome = await serialized(vessel, () => assemble(vessel, part, payload, ack.seq, signal));
    if (ack.duplicate || outcome === 'duplicate') stats.duplicates++;
    else stats.stored++;
    return true;
  };

  const serve = (socket: Socket) => {
    const from = normalize(socket.remoteAddress ?? '');
    if (!allowed.has(from)) {
      stats.refusedSources++;
      report('refused', `SBD DirectIP: connection from ${from} refused (not in allow_from)`);
      socket.destroy();
      return;
    }
    if (sockets.size >= o.maxConnections) {
      report('refused', `SBD DirectIP: more than ${o.maxConnections} connections; closed one from ${from}`);
      socket.destroy();
      return;
    }
    sockets.add(socket);
    const chunks: Buffer[] = [];
    let have = 0;
    let total = 0;
    let busy = false;
    const timer = setTimeout(() => {
      stats.malformed++;
      report('protocol', `SBD DirectIP: ${from} sent ${have} bytes of a message in ${o.readTimeoutMs} ms; closed`);
      socket.destroy();
    }, o.readTimeoutMs);
    const finish = (stored: boolean) => {
      clearTimeout(timer);
      if (!socket.destroyed) socket.end(encodeMoConfirmation(stored));
    };
    const bad = (err: unknown) => {
      stats.malformed++;
      report('protocol', `SBD DirectIP: ${from}: ${(err as Error).message}`);
      finish(false);
    };
    socket.on('data', (b: Buffer) => {
      if (busy) return;
      chunks.push(b);
      have += b.length;
      try {
        if (total === 0 && have >= DIRECTIP_PREAMBLE_BYTES) {
          total = directIpMessageLength(Buffer.concat(chunks).subarray(0, DIRECTIP_PREAMBLE_BYTES));
          if (total > DIRECTIP_MO_MAX_BYTES) throw new DecodeError('too_large', `a DirectIP MO message has at most ${DIRECTIP_MO_MAX_BYTES} bytes; this one announces ${total}`);
        }
        if (total === 0 || have < total) return;
        if (have > total) throw new DecodeError('malformed', `${have - total} bytes after the message`);
      } catch (err) {
        busy = true;
        bad(err);
        return;
      }
      busy = true;
      clearTimeout(timer); // the whole message is here: from now on only storing can take time
      let mo: MoMessage;
      try {
        mo = parseMoMessage(new Uint8Array(Buffer.concat(chunks)));
      } catch (err) {
        bad(err);
        return;
      }
      const storing = AbortSignal.any([abort.signal, AbortSignal.timeout(o.storeTimeoutMs)]);
      handle(mo, storing).then(finish, (err) => {
        if (!abort.signal.aborted) {
          if (storing.aborted) stats.storeTimeouts++;
          report('closed', `SBD DirectIP: a message from ${mo.header.imei} was not stored${storing.aborted ? ` within ${o.storeTimeoutMs} ms (JetStream away?)` : `: ${(err as Error).message}`}; not confirmed, Iridium delivers it again`);
        }
        socket.destroy(); // no confirmation: Iridium delivers again
      });
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      sockets.delete(socket);
    });
  };

  // Shore → ship: SBD talks the workers coded, handed to Iridium's MT server part by part.
  const imeiOf = new Map([...o.imeis].map(([imei, vessel]) => [vessel, imei]));
  const sending = new Set<number>();
  const notBefore = new Map<number, number>();
  const notify = (sessionId: number, n: DeliveredNotice) => jet.nc.publish(deliveredSubject(sessionId), JSON.stringify(n));
  const forget = async (sessionId: number) => {
    await jet.calls.delete(sessionKey(sessionId)).catch(() => {});
    notBefore.delete(sessionId);
  };
  const sendTalk = async (call: CallRecord, mt: { host: string; port: number }): Promise<void> => {
    const id = call.sessionId;
    const imei = imeiOf.get(call.vessel)!;
    const end = await sbdTalkEnd(jet, call.downSubject!);
    if (!end) return; // not coded yet
    if (end.error) {
      notify(id, { cumulative: 0, end: true, error: end.error });
      await forget(id);
      return;
    }
    const parts: Uint8Array[] = [];
    for await (const m of storedMessages(jet.js, DOWN_STREAM, call.downSubject!, abort.signal, o.retryMs)) {
      if (m.headers?.get(PCM_HEADERS.end) === '1') break;
      const k = Number(m.headers?.get(PCM_HEADERS.part));
      if (k === parts.length) parts.push(m.data);
    }
    abort.signal.throwIfAborted();
    for (const [k, payload] of parts.entries()) {
      const marker = `mt.${id}.${k}`;
      if ((await jet.mo.get(marker))?.operation === 'PUT') continue; // queued at Iridium already (by this node or another)
      let c;
      try {
        c = await sendDirectIpMt(mt.host, mt.port, { clientMessageId: crc32(marker) >>> 0, imei, dispositionFlags: 0, payload });
      } catch (err) {
        stats.mtRetries++;
        notBefore.set(id, performance.now() + o.mtRetryMs);
        report('closed', `SBD DirectIP MT: part ${k + 1}/${parts.length} of talk ${id} to ${call.vessel}: ${(err as Error).message}; retrying in ${o.mtRetryMs} ms`);
        return;
      }
      if (c.status < 0) {
        const why = MT_STATUS_TEXT[c.status] ?? `status ${c.status}`;
        if (mtStatusTransient(c.status)) {
          stats.mtRetries++;
          notBefore.set(id, performance.now() + o.mtRetryMs);
          report('refused', `SBD DirectIP MT: Iridium deferred part ${k + 1}/${parts.length} of talk ${id} (${why}); retrying in ${o.mtRetryMs} ms`);
          return;
        }
        stats.mtFailed++;
        report('refused', `SBD DirectIP MT: Iridium refused talk ${id} to ${call.vessel} (IMEI ${imei}): ${why}`);
        notify(id, { cumulative: 0, end: true, error: `refused: Iridium refused the message (${why})` });
        await forget(id);
        return;
      }
      await jet.mo.put(marker, JSON.stringify({ status: c.status, autoIdReference: c.autoIdReference }));
      stats.mtParts++;
    }
    stats.mtMessages++;
    notify(id, { cumulative: end.phrases.length, end: true });
    await forget(id);
  };
  const mtLoop = async (mt: { host: string; port: number }) => {
    while (!abort.signal.aborted) {
      try {
        for (const key of await listKeys(jet.calls)) {
          const id = Number(key);
          if (sending.has(id) || (notBefore.get(id) ?? 0) > performance.now()) continue;
          const e = await jet.calls.get(key);
          if (!e || e.operation !== 'PUT') continue;
          const call = JSON.parse(new TextDecoder().decode(e.value)) as CallRecord;
          if (call.direction !== 'down' || call.via !== 'sbd' || !imeiOf.has(call.vessel) || !call.downSubject) continue;
          sending.add(id);
          void sendTalk(call, mt).catch(() => {}).finally(() => sending.delete(id));
        }
      } catch {
        // server away: the next scan retries
      }
      await new Promise((r) => setTimeout(r, o.mtScanMs));
    }
  };
  const mtRunning = o.mtServer ? mtLoop(o.mtServer) : Promise.resolve();

  const server: Server = createServer(serve);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new TransportError('refused', `SBD DirectIP cannot listen on ${o.host}:${o.port}: ${err.message}`, undefined, { cause: err })));
    server.listen(o.port, o.host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  let closing: Promise<void> | undefined;
  return {
    kind: 'sbd-directip',
    address: `directip://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`,
    port,
    stats,
    close: () => (closing ??= (async () => {
      abort.abort();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await Promise.all([...chains.values()]);
      await mtRunning;
    })()),
  };
}
