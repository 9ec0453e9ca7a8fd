import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { WebSocketServer } from 'ws';
import type { TextModel } from '../codec/text/index.ts';
import { Utf8PhraseCodec, type PhraseCodecFactory } from '../codec/session/index.ts';
import { ConfigError, DecodeError, TransportError } from '../core/errors.ts';
import { createLogger, type Logger } from '../core/log.ts';
import { createAsrEngine } from '../engines/asr/registry.ts';
import type { AsrEngine } from '../engines/asr/types.ts';
import { createTtsEngine } from '../engines/tts/registry.ts';
import type { TtsEngine } from '../engines/tts/types.ts';
import { loadDefaultTextModel, phraseCodecFactory } from '../pipeline/codecs.ts';
import { LinkSession } from '../transport/link-session.ts';
import { acceptSecureNoise, AggregatedLog, generateKeyPair, HandshakeAdmission, keyPairFromPrivate, noisePskOf } from '../transport/secure/index.ts';
import { OutgoingCall } from './call.ts';
import type { DaemonConfig } from './config.ts';
import { runIncomingSession } from './incoming.ts';
import { PeerRates, SampleWindow } from './metrics.ts';
import { renderMetrics, snapshotOf, type DaemonSnapshot, type DaemonState } from './daemon-metrics.ts';
import { PeerLink } from './peer-link.ts';
import { appendTranscriptLine, DaemonStateDir, renderedSeqsOf } from './durable.ts';
import { resumeOutgoing, type ResumedSession } from './resume.ts';
import { startSbdPeers } from './sbd-peers.ts';
import { isSbdUrl } from './sbd-url.ts';
import { InboxJournal, ProfileStore } from '../transport/journal/index.ts';
import { listenKissPeers, UdpPeerListener } from './datagram-peer.ts';
import type { LocalClientServer, LocalEndpoint, LocalEndpointHost } from './types.ts';

export interface DaemonOptions {
  /** The local-client side (browser page, WebRTC); gets the host to attach endpoints to. */
  localClients?: (host: LocalEndpointHost) => LocalClientServer;
  /** Engine factories (tests pass fakes); default: the registry ids in the config. */
  engines?: { asr?: () => Promise<AsrEngine>; tts?: () => Promise<TtsEngine> };
  /** The text model for `lm` coding (default: models/text-lm.bin, loaded once). */
  textModel?: TextModel;
  log?: Logger;
  /** After a microphone ends, how long a call waits for the peer's acknowledgements, ms. Default 600 000. */
  drainTimeoutMs?: number;
  /** How long a finished incoming session keeps acknowledging late retransmissions, ms. Default 60 000. */
  lingerMs?: number;
  /**
   * A transcript file: one fsync'd JSON line per phrase accepted from a local user (`dir: 'out'`,
   * after it was journalled) and per phrase played from a peer (`dir: 'in'`), with peer, session and
   * seq. With `state_dir` a restart also reads it to play nothing twice.
   */
  transcriptPath?: string;
}

/** A running daemon. */
export interface Daemon {
  /** Port of the HTTP server (local clients, /healthz, /metrics). */
  readonly httpPort: number;
  /** Port of the link listener (undefined without `link.listen`). */
  readonly linkPort: number | undefined;
  /** Port of the UDP link listener (`link.listen: udp://…`). */
  readonly linkUdpPort: number | undefined;
  /** Where local endpoints attach (the WAV-loop endpoint, tests, the soak run). */
  readonly host: LocalEndpointHost;
  metrics(): DaemonSnapshot;
  /** Stops everything; idempotent. */
  close(): Promise<void>;
}

/**
 * Starts the edge daemon (issue #8): HTTP for local clients and monitoring, authenticated and
 * encrypted links to the configured peers, and per attached endpoint a call (mic → ASR → frames →
 * peer) while what the peer says is synthesized and played to the endpoints listening to it.
 */
export async function startDaemon(config: DaemonConfig, options: DaemonOptions = {}): Promise<Daemon> {
  const log = options.log ?? createLogger({ level: config.log.level }, { node: config.node });
  // With a state dir our sessions survive a restart, and so does our identity (src/daemon/durable.ts).
  const durable = config.stateDir ? DaemonStateDir.open(config.stateDir) : undefined;
  const instanceId = durable ? durable.instanceId() : randomBytes(8);
  const profileStore = durable ? ProfileStore.open(durable.profiles) : undefined;
  // Speaker profiles by content hash, shared by every incoming session (persisted with a state dir).
  const profileCache: Map<number, Uint8Array> = profileStore ? profileStore.cache() : new Map();
  const peerProfiles = new Map<string, ProfileStore>();
  const transcriptPath = options.transcriptPath;
  /** Open incoming-session journals, by peer then session (closed with the daemon). */
  const inboxesByPeer = new Map<string, Map<number, InboxJournal>>();
  // What the transcript file says was played before a restart, read once for every peer.
  const renderedBefore = durable ? renderedSeqsOf(transcriptPath) : new Map<string, Map<number, number>>();
  // The node's static Noise key (issue #20): from security.static_key_file, else fresh per start.
  const staticKey = config.security.staticKey ? keyPairFromPrivate(Buffer.from(config.security.staticKey, 'hex')) : generateKeyPair();
  const admission = new HandshakeAdmission();
  const refusals = new AggregatedLog((msg, fields) => log.warn(msg, fields));
  const noisePeers = () => config.peers.map((p) => ({ name: p.name, psk: p.psk, ...(p.publicKey ? { staticKey: Buffer.from(p.publicKey, 'hex') } : {}) }));
  const model = config.codec.text === 'lm' ? (options.textModel ?? (await loadDefaultTextModel())) : undefined;
  const codecFor: PhraseCodecFactory<unknown> = model ? await phraseCodecFactory(model) : utf8Only;
  const createAsr = options.engines?.asr ?? (() => createAsrEngine(config.engines.asr));
  let ttsPromise: Promise<TtsEngine> | undefined;
  const tts = () => (ttsPromise ??= (options.engines?.tts ?? (() => createTtsEngine(config.engines.tts)))());
  const lingerMs = options.lingerMs ?? 60_000;

  const state: DaemonState = {
    config,
    startedAtMs: Date.now(),
    peers: new Map(),
    rates: new Map(),
    calls: new Set(),
    listeners: new Map(),
    incoming: new Map(),
    phrasesReceived: 0,
    authFailuresUnknown: 0,
    deliveryMs: new SampleWindow(),
    asrLatencyMs: new SampleWindow(),
    renderMs: new SampleWindow(),
    ttsRtf: new SampleWindow(),
    phrasesSentClosed: 0,
    phrasesAckedClosed: 0,
    phrasesResentClosed: 0,
    localClients: undefined,
    admission,
    refusals,
  };
  const timers = new Set<NodeJS.Timeout>();
  /** Calls still running (close() waits for them to release their engines). */
  const running = new Set<Promise<void>>();
  const finished = new Map<string, Set<number>>();
  const resumed = new Set<ResumedSession>();

  const linkEvent = (peer: PeerLink) => {
    const rates = state.rates.get(peer.name)!;
    const totals = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
    const rto = peer.rtoMs;
    const e = { type: 'link' as const, peer: peer.name, state: peer.state, bitsPerSecondOut: rates.out.get('all')!.perSecond, bitsPerSecondIn: rates.in.get('all')!.perSecond, bitsOutTotal: totals(peer.counters.bitsOut), bitsInTotal: totals(peer.counters.bitsIn), kind: peer.linkKind, lossIn: peer.lossIn, ...(rto !== undefined ? { rtoMs: Math.round(rto) } : {}) };
    for (const ep of state.listeners.get(peer.name) ?? []) ep.event(e);
  };

  // Iridium SBD peers carry voice messages, not live calls (issue #16 item 4): POST /messages queues one.
  const sbdPeers = await startSbdPeers({
    peers: config.peers,
    stateDir: config.stateDir,
    log,
    ...(model ? { textModel: model } : {}),
    maxWavBytes: config.limits.wavBytes,
    onMessage: (m) => {
      log.info('voice message received', { peer: m.peer, message: m.messageId, wav: m.wavPath, transcript: m.transcript });
      for (const ep of state.listeners.get(m.peer) ?? []) ep.event({ type: 'transcript', direction: 'in', text: m.transcript, atMs: m.t });
    },
  });
  for (const pc of config.peers) {
    if (isSbdUrl(pc.url)) continue; // no live link: see sbdPeers
    if (durable) peerProfiles.set(pc.name, durable.peerProfiles(pc.name));
    const inboxes = new Map<number, InboxJournal>();
    inboxesByPeer.set(pc.name, inboxes);
    const incoming = new Map<number, LinkSession>();
    state.incoming.set(pc.name, incoming);
    finished.set(pc.name, new Set());
    state.listeners.set(pc.name, new Set());
    state.rates.set(pc.name, new PeerRates());
    const peer: PeerLink = new PeerLink({
      peer: pc,
      node: config.node,
      secrets: { psk: pc.psk },
      instanceId,
      staticKey,
      listensOverDatagrams: pc.url === undefined && (config.linkUdp !== undefined || config.linkKiss !== undefined) && config.link === undefined,
      ...(config.emulator ? { emulator: config.emulator } : {}),
      maxMessageBytes: config.limits.wsMessageBytes,
      log,
      refusals,
      onState: () => linkEvent(peer),
      onIncomingSession: (id) => {
        const done = finished.get(pc.name)!;
        if (done.has(id)) return undefined;
        // With a state dir: a session we had before a restart continues from its journal.
        let inbox: InboxJournal | undefined;
        const before = durable?.inboxState(pc.name, id);
        try {
          inbox = durable?.inbox(pc.name, id);
        } catch (err) {
          // A corrupt journal was quarantined (moved aside, never silently dropped): refuse the session, loudly.
          log.error('incoming session journal unusable; session refused', { peer: pc.name, session: id, error: err as Error });
          return undefined;
        }
        if (inbox && before === undefined) inbox.begin(id);
        if (inbox) {
          inboxes.set(id, inbox);
        }
        const link = new LinkSession(id, { ...peer.sessionOptions(id), ...(inbox ? { journal: { accepted: (f) => inbox.accept(f) } } : {}) });
        const replay = inbox && before ? link.restoreReceiver(inbox.accepted()) : [];
        const renderedUpTo = Math.max(inbox?.renderedSeq ?? -1, renderedBefore.get(pc.name)?.get(id) ?? -1);
        incoming.set(id, link);
        log.info(before ? 'incoming call session resumed from its journal' : 'incoming call session', { peer: pc.name, session: id, ...(before ? { replayed: replay.length, renderedUpTo } : {}) });
        void runIncomingSession(link, {
          codecFor,
          tts,
          listeners: () => [...state.listeners.get(pc.name)!],
          profileCache,
          log: log.child({ peer: pc.name, session: id }),
          replay,
          skip: (seq) => seq <= renderedUpTo,
          onPhrase: (p, audioMs) => {
            // Played: the transcript line first, then the mark (a crash between leaves the line, which a restart reads).
            if (transcriptPath) appendTranscriptLine(transcriptPath, { dir: 'in', peer: pc.name, session: id, seq: p.seq, text: p.text, t: Date.now() });
            inbox?.rendered(p.seq);
            state.phrasesReceived++;
            state.renderMs.add(p.synthMs);
            if (audioMs > 0) state.ttsRtf.add(p.synthMs / audioMs);
          },
        }).then((r) => r.ended, (err) => {
          log.error('incoming session failed', { peer: pc.name, session: id, error: err as Error });
          return false;
        })
          .then((ended) => {
            // Keep acknowledging for a while (our last ack may be lost), then forget the session.
            const t = setTimeout(() => {
              timers.delete(t);
              link.close();
              peer.removeSession(id);
              incoming.delete(id);
              if (inbox && inboxes.get(id) === inbox) {
                inboxes.delete(id);
                inbox.close();
                // Finished: kept a while (a restarted sender's late retry is still answered); unfinished: resumed when the peer comes back.
                if (ended) durable!.finishInbox(pc.name, id);
              }
              if (!ended) return;
              done.add(id);
              if (done.size > 1024) done.delete(done.values().next().value as number);
            }, lingerMs);
            timers.add(t);
          });
        return link;
      },
      onPeerRestart: () => {
        // The peer came back as a new instance: it lost its state and will not resume these sessions.
        for (const [id, link] of incoming) {
          link.close();
          peer.removeSession(id);
          const inbox = inboxes.get(id);
          if (inbox) {
            inboxes.delete(id);
            inbox.close();
            durable!.abandonInbox(pc.name, id);
          }
        }
        incoming.clear();
        for (const c of state.calls) if (c.peerName === pc.name) c.call.rotate();
      },
    });
    state.peers.set(pc.name, peer);
  }

  const host: LocalEndpointHost = {
    async attach(endpoint: LocalEndpoint, o: { peer?: string } = {}) {
      const peer = o.peer === undefined ? state.peers.values().next().value : state.peers.get(o.peer);
      if (!peer) throw new ConfigError('unknown_peer', `no peer named '${o.peer ?? ''}' in the config (known: ${[...state.peers.keys()].join(', ') || 'none'})`);
      if (state.calls.size >= config.limits.maxCalls) throw new TransportError('overflow', `already ${state.calls.size} calls (limits.max_calls)`);
      const call = new OutgoingCall(endpoint, peer, createAsr, {
        mode: config.codec.mode,
        coding: config.codec.text,
        ...(model ? { textModel: model } : {}),
        drainTimeoutMs: options.drainTimeoutMs ?? 600_000,
        log,
        ...(durable ? { durable: { state: durable, peerProfiles: peerProfiles.get(peer.name)! } } : {}),
        ...(transcriptPath ? { onAccepted: (session: number, seq: number, text: string) => appendTranscriptLine(transcriptPath, { dir: 'out', peer: peer.name, session, seq, text, t: Date.now() }) } : {}),
        onDelivered: (ms) => state.deliveryMs.add(ms),
        onAsrLatency: (ms) => state.asrLatencyMs.add(ms),
      });
      const entry = { peerName: peer.name, call, endpoint };
      state.calls.add(entry);
      let finish: () => void = () => {};
      const done = new Promise<void>((r) => (finish = r));
      running.add(done);
      state.listeners.get(peer.name)!.add(endpoint);
      log.info('call started', { endpoint: endpoint.id, peer: peer.name });
      linkEvent(peer);
      try {
        await call.run();
      } catch (err) {
        endpoint.event({ type: 'error', code: (err as { code?: string }).code ?? 'internal', message: (err as Error).message });
        throw err;
      } finally {
        state.calls.delete(entry);
        state.listeners.get(peer.name)!.delete(endpoint);
        state.phrasesSentClosed += call.stats.phrasesSent;
        state.phrasesAckedClosed += call.stats.phrasesAcked;
        state.phrasesResentClosed += call.stats.phrasesResent;
        log.info('call ended', { endpoint: endpoint.id, peer: peer.name, ...call.stats });
        running.delete(done);
        finish();
      }
    },
  };

  const local = options.localClients?.(host);
  state.localClients = local;
  const tls = config.http.tls;
  // (loadDaemonConfig checked that the certificate and key work together.)
  const server = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, (req, res) => handleHttp(req, res)) : createServer((req, res) => handleHttp(req, res));
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  function handleHttp(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/messages' && sbdPeers.peers.size > 0) {
      // A WAV body is larger than http_body_bytes: the handler bounds it by limits.wav_bytes itself.
      void sbdPeers.handleRequest(req, res).then(
        (mine) => void (mine || res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')),
        (err) => {
          log.error('messages route failed', { error: err as Error });
          if (!res.headersSent) res.writeHead(500).end();
        },
      );
      return;
    }
    const length = Number(req.headers['content-length'] ?? 0);
    if (!(length <= config.limits.httpBodyBytes)) {
      res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' }).end(`request body larger than ${config.limits.httpBodyBytes} bytes\n`);
      req.destroy();
      return;
    }
    if (path === '/healthz' || path === '/metrics') {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET' }).end();
        return;
      }
      if (path === '/healthz') {
        const body = JSON.stringify({ ok: true, node: config.node, uptimeSeconds: Math.round((Date.now() - state.startedAtMs) / 1000), calls: state.calls.size, peers: [...state.peers.values()].map((p) => ({ name: p.name, state: p.state })), ...(sbdPeers.peers.size ? { sbd: [...sbdPeers.peers.values()].map((p) => p.stats()) } : {}) });
        res.writeHead(200, { 'content-type': 'application/json' }).end(body + '\n');
      } else {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(renderMetrics(state));
      }
      return;
    }
    if (local?.handleRequest(req, res)) return;
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  }
  server.on('upgrade', (req, socket, head) => {
    if (!local?.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new TransportError('refused', `cannot listen on ${config.http.host}:${config.http.port}: ${e.message}`)));
    server.listen(config.http.port, config.http.host, () => resolve());
  });
  const httpAddress = server.address();

  let wss: WebSocketServer | undefined;
  if (config.link) {
    wss = new WebSocketServer({ host: config.link.host, port: config.link.port, maxPayload: config.limits.wsMessageBytes });
    await new Promise<void>((resolve, reject) => {
      wss!.once('listening', resolve);
      wss!.once('error', (e) => reject(new TransportError('refused', `cannot listen on ${config.link!.host}:${config.link!.port}: ${e.message}`)));
    });
    wss.on('error', (e) => log.error('link listener', { error: e }));
    wss.on('connection', (ws, req) => {
      ws.on('error', (e) => log.warn('link socket error', { remote: req.socket.remoteAddress, error: e }));
      acceptSecureNoise(ws, config.node, noisePeers, { instanceId, staticKey, admission: { admission, address: req.socket.remoteAddress ?? '' } })
        .then((conn) => state.peers.get(conn.remoteName)!.attach(conn))
        .catch((err) => {
          const name = (err as TransportError).details?.peer as string | undefined;
          const peer = name ? state.peers.get(name) : undefined;
          if ((err as TransportError).code === 'auth_failed') {
            if (peer) peer.countAuthFailure();
            else state.authFailuresUnknown++;
          }
          const e = err as TransportError;
          const reason = e.code === 'refused' ? String(e.details?.reason) : (e.code ?? 'internal');
          refusals.note(e.code === 'refused' ? 'link handshakes refused' : 'link connection refused', name ? `${reason}:${name}` : reason, req.socket.remoteAddress ?? '', Date.now());
        });
    });
  }
  const linkAddress = wss?.address();

  let udpListener: UdpPeerListener | undefined;
  if (config.linkUdp) {
    udpListener = await UdpPeerListener.open(config.linkUdp.host, config.linkUdp.port, {
      me: { name: config.node, staticKey, instanceId },
      peers: () => noisePeers().map((p) => ({ ...p, psk: noisePskOf(p.psk) })),
      admission,
      budgetBitsPerSecond: Math.max(1, ...config.peers.map((p) => p.bitsPerSecond)),
      attach: (c) => state.peers.get(c.remoteName)?.attach(c),
      onFailed: (err, address) => {
        if (err.code === 'auth_failed') state.authFailuresUnknown++;
        refusals.note('link connection refused', err.code, address, Date.now());
      },
    });
  }

  const kissListener = config.linkKiss
    ? await listenKissPeers(config.linkKiss, {
        me: { name: config.node, staticKey, instanceId },
        peers: () => noisePeers().map((p) => ({ ...p, psk: noisePskOf(p.psk) })),
        admission,
        attach: (c) => state.peers.get(c.remoteName)?.attach(c),
        onFailed: (err) => {
          if (err.code === 'auth_failed') state.authFailuresUnknown++;
          refusals.note('link connection refused', err.code, 'kiss', Date.now());
        },
      })
    : undefined;

  // Outgoing sessions a previous run left unacknowledged: resent in order (same sessions, same seqs), then ended.
  if (durable) {
    for (const p of state.peers.values()) {
      for (const r of resumeOutgoing(durable, p, peerProfiles.get(p.name)!, log, options.drainTimeoutMs ?? 600_000)) {
        resumed.add(r);
        void r.done.finally(() => resumed.delete(r));
      }
    }
  }
  for (const p of state.peers.values()) p.start();
  let tick = 0;
  const sampler = setInterval(() => {
    tick++;
    refusals.flush(Date.now());
    for (const p of state.peers.values()) {
      state.rates.get(p.name)!.sample(p);
      if (tick % 2 === 0) linkEvent(p);
    }
  }, 1000);
  log.info('daemon started', { http: httpAddress, tls: tls !== undefined, link: linkAddress, linkUdp: udpListener?.port, peers: config.peers.map((p) => p.name) });

  let closing: Promise<void> | undefined;
  return {
    httpPort: typeof httpAddress === 'object' && httpAddress ? httpAddress.port : config.http.port,
    linkPort: typeof linkAddress === 'object' && linkAddress ? linkAddress.port : undefined,
    linkUdpPort: udpListener?.port,
    host,
    metrics: () => snapshotOf(state),
    close: () => (closing ??= (async () => {
      clearInterval(sampler);
      refusals.flush(Date.now(), true);
      for (const t of timers) clearTimeout(t);
      for (const c of state.calls) {
        c.call.close();
        void c.endpoint.close().catch(() => {});
      }
      await Promise.race([Promise.all(running), new Promise((r) => setTimeout(r, 5000).unref())]);
      for (const inc of state.incoming.values()) for (const l of inc.values()) l.close();
      for (const r of resumed) r.close();
      for (const p of state.peers.values()) await p.close();
      await sbdPeers.close();
      await udpListener?.close();
      await kissListener?.close();
      await local?.close();
      if (wss) {
        for (const c of wss.clients) c.terminate();
        await new Promise<void>((r) => wss!.close(() => r()));
      }
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      if (ttsPromise) await (await ttsPromise.catch(() => undefined))?.close();
      for (const inboxes of inboxesByPeer.values()) for (const j of inboxes.values()) j.close();
      for (const s of peerProfiles.values()) s.close();
      profileStore?.close();
      log.info('daemon stopped');
    })()),
  };
}

const utf8Only: PhraseCodecFactory<unknown> = (header) => {
  if (header.textModelId === 'utf8') return new Utf8PhraseCodec();
  throw new DecodeError('model_mismatch', `this stream needs text model ${header.textModelId}; this daemon runs with codec.text: utf8`);
};
