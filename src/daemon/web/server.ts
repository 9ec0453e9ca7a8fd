/**
 * The daemon's browser client (issue #8): serves the page (edge/web), and turns each page's control
 * WebSocket into a {@link LocalEndpoint} attached to the daemon. Audio goes over WebRTC through
 * mediasoup when its worker is available, else (or on `?transport=ws`) as 16 kHz PCM in binary
 * WebSocket messages.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { EngineUnavailableError, StctsError, TransportError } from '../../core/errors.ts';
import { silentLogger, type Logger } from '../../core/log.ts';
import type { DaemonEvent, LocalClientServer, LocalEndpointHost } from '../types.ts';
import { WebAssets } from './bundle.ts';
import { MediasoupService, type MediasoupServiceOptions } from './mediasoup-service.ts';
import { encodePcmMessage, parseClientMessage, parsePcmMessage, WS_PCM_RATE_HZ, type AudioTransportKind, type ClientMessage, type ServerMessage } from './protocol.ts';
import { floatToS16 } from './stream-resampler.ts';
import { WebEndpoint, type WebEndpointOptions, type WebEndpointStats } from './web-endpoint.ts';
import { WebRtcBridge, type WebRtcBridgeStats } from './webrtc-bridge.ts';

export interface WebClientServerOptions {
  /** Audio transports offered: `auto` (WebRTC when mediasoup works, else WebSocket PCM) or `ws` only. Default `auto`. */
  transport: 'auto' | 'ws';
  mediasoup: Partial<MediasoupServiceOptions>;
  endpoint: Partial<WebEndpointOptions>;
  /** Largest JSON control message, bytes. Default 65 536. */
  maxControlMessageBytes: number;
  /** Largest binary PCM message, bytes. Default 32 000 (1 s at 16 kHz). */
  maxAudioMessageBytes: number;
  /** Simultaneous pages; more are refused. Default 16. */
  maxClients: number;
  /** Events are dropped while a page has more than this unsent, bytes. Default 1 MiB. */
  maxSocketBufferBytes: number;
  /** A page must say hello within this, ms. Default 10 000. */
  helloTimeoutMs: number;
  /** WebSocket path. Default `/ws`. */
  wsPath: string;
  log: Logger;
}

export const DEFAULT_WEB_CLIENT_SERVER_OPTIONS: Readonly<WebClientServerOptions> = Object.freeze({
  transport: 'auto',
  mediasoup: {},
  endpoint: {},
  maxControlMessageBytes: 65_536,
  maxAudioMessageBytes: 32_000,
  maxClients: 16,
  maxSocketBufferBytes: 1 << 20,
  helloTimeoutMs: 10_000,
  wsPath: '/ws',
  log: silentLogger,
});

/** A connected page, for tests and monitoring. */
export interface WebClientInfo {
  id: string;
  transport: AudioTransportKind;
  endpoint: WebEndpoint;
  bridge: WebRtcBridge | undefined;
}

/** After this many worker crashes WebRTC is given up for the daemon's lifetime. */
const MAX_WORKER_DEATHS = 3;

type Totals = WebEndpointStats & WebRtcBridgeStats & { rejected: number; refused: number };

export class WebClientServer implements LocalClientServer {
  readonly options: WebClientServerOptions;
  private readonly assets = new WebAssets();
  private readonly wss: WebSocketServer;
  private readonly clients = new Map<string, WebClientInfo>();
  private readonly sockets = new Set<WebSocket>();
  private service: Promise<MediasoupService> | undefined;
  private serviceError: StctsError | undefined;
  private workerDeaths = 0;
  private nextId = 1;
  private closed = false;
  private readonly totals: Totals = { micChunks: 0, micDropped: 0, playedFrames: 0, eventsDropped: 0, rtpIn: 0, rtpOut: 0, rtpLost: 0, rtpInvalid: 0, rejected: 0, refused: 0 };

  constructor(
    private readonly host: LocalEndpointHost,
    options: Partial<WebClientServerOptions> = {},
  ) {
    this.options = { ...DEFAULT_WEB_CLIENT_SERVER_OPTIONS, ...options };
    const maxPayload = Math.max(this.options.maxControlMessageBytes, this.options.maxAudioMessageBytes);
    // ws itself closes a connection (1009) on anything larger, before buffering it.
    this.wss = new WebSocketServer({ noServer: true, maxPayload });
  }

  /** The pages connected now. */
  connectedClients(): WebClientInfo[] {
    return [...this.clients.values()];
  }

  /** Starts mediasoup now instead of on the first page (resolves to whether WebRTC is available). */
  async warmUp(): Promise<boolean> {
    return (await this.mediasoup()) !== undefined;
  }

  handleRequest(req: IncomingMessage, res: ServerResponse): boolean {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    if (pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return true;
    }
    if (!this.assets.has(pathname)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET' }).end();
      return true;
    }
    this.assets.get(pathname).then(
      (a) => res.writeHead(200, { 'content-type': a.contentType, 'cache-control': 'no-cache', 'content-length': a.body.length }).end(req.method === 'HEAD' ? undefined : a.body),
      (err: Error) => {
        this.options.log.error('web asset failed', { path: pathname, error: err });
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`);
      },
    );
    return true;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if (this.closed || new URL(req.url ?? '/', 'http://x').pathname !== this.options.wsPath) return false;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, req));
    return true;
  }

  metricsLines(): string[] {
    const live = this.connectedClients();
    const sum = (pick: (c: WebClientInfo) => number) => live.reduce((a, c) => a + pick(c), 0);
    const t = this.totals;
    const lines = [
      `stcts_web_clients{transport="webrtc"} ${live.filter((c) => c.transport === 'webrtc').length}`,
      `stcts_web_clients{transport="ws"} ${live.filter((c) => c.transport === 'ws').length}`,
      `stcts_web_mediasoup_up ${this.serviceError ? 0 : this.service ? 1 : 0}`,
      `stcts_web_mic_chunks_total ${t.micChunks + sum((c) => c.endpoint.stats.micChunks)}`,
      `stcts_web_mic_dropped_total ${t.micDropped + sum((c) => c.endpoint.stats.micDropped)}`,
      `stcts_web_play_frames_total ${t.playedFrames + sum((c) => c.endpoint.stats.playedFrames)}`,
      `stcts_web_events_dropped_total ${t.eventsDropped + sum((c) => c.endpoint.stats.eventsDropped)}`,
      `stcts_web_rtp_packets_total{direction="in"} ${t.rtpIn + sum((c) => c.bridge?.stats.rtpIn ?? 0)}`,
      `stcts_web_rtp_packets_total{direction="out"} ${t.rtpOut + sum((c) => c.bridge?.stats.rtpOut ?? 0)}`,
      `stcts_web_rtp_lost_total ${t.rtpLost + sum((c) => c.bridge?.stats.rtpLost ?? 0)}`,
      `stcts_web_rtp_invalid_total ${t.rtpInvalid + sum((c) => c.bridge?.stats.rtpInvalid ?? 0)}`,
      `stcts_web_rejected_messages_total ${t.rejected}`,
      `stcts_web_refused_clients_total ${t.refused}`,
    ];
    for (const c of live) {
      lines.push(`stcts_web_play_buffer_ms{client="${c.id}"} ${Math.round(c.endpoint.bufferedMs)}`);
      lines.push(`stcts_web_mic_queue_depth{client="${c.id}"} ${c.endpoint.mic.size}`);
    }
    return lines;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const ws of this.sockets) ws.close(1001, 'daemon stopping');
    await Promise.all(this.connectedClients().map((c) => c.endpoint.close()));
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
    const service = this.service ? await this.service.catch(() => undefined) : undefined;
    await service?.close();
  }

  /** The shared mediasoup service, or undefined when it cannot run (logged once). */
  private async mediasoup(): Promise<MediasoupService | undefined> {
    if (this.options.transport === 'ws' || this.serviceError) return undefined;
    this.service ??= MediasoupService.start(this.options.mediasoup, this.options.log, () => this.onWorkerDied());
    try {
      const s = await this.service;
      return s.usable ? s : undefined;
    } catch (err) {
      this.serviceError = err instanceof StctsError ? err : new TransportError('refused', String(err));
      this.options.log.warn('WebRTC unavailable; browser audio uses WebSocket PCM', { error: this.serviceError });
      return undefined;
    }
  }

  /** Ends the WebRTC calls of a dead worker; the next page starts a new one (at most 3 times). */
  private onWorkerDied(): void {
    this.service = undefined;
    if (++this.workerDeaths >= MAX_WORKER_DEATHS) {
      this.serviceError = new EngineUnavailableError('mediasoup', `the mediasoup worker died ${this.workerDeaths} times`, 'see the daemon log; STCTS_MEDIASOUP_LOG=debug shows the worker log');
      this.options.log.error('WebRTC disabled; browser audio uses WebSocket PCM', { error: this.serviceError });
    }
    for (const c of this.connectedClients()) {
      if (c.transport !== 'webrtc') continue;
      c.endpoint.event({ type: 'error', code: 'webrtc_failed', message: 'the media server stopped; reload the page' });
      void c.endpoint.close();
    }
  }

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    this.sockets.add(ws);
    const send = (m: ServerMessage): boolean => {
      if (ws.readyState !== ws.OPEN) return false;
      ws.send(JSON.stringify(m));
      return true;
    };
    const reject = (err: StctsError, closeCode: number) => {
      this.totals.rejected++;
      this.options.log.warn('browser client message rejected', { remote: req.socket.remoteAddress, error: err });
      send({ type: 'event', event: { type: 'error', code: err.code, message: err.message } });
      ws.close(closeCode, err.code);
    };
    let client: WebClientInfo | undefined;
    let starting = false;
    const helloTimer = setTimeout(() => reject(new TransportError('timeout', 'no hello from the page'), 1008), this.options.helloTimeoutMs);
    helloTimer.unref();

    ws.on('message', (data: RawData, isBinary: boolean) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      try {
        if (isBinary) {
          const pcm = parsePcmMessage(bytes, this.options.maxAudioMessageBytes);
          if (client?.transport === 'ws') client.endpoint.pushMic(pcm);
          else throw new TransportError('protocol', 'binary audio messages are only for the WebSocket-PCM transport');
          return;
        }
        const msg = parseClientMessage(bytes.toString('utf8'), this.options.maxControlMessageBytes);
        if (msg.type === 'hello') {
          if (starting) throw new TransportError('protocol', 'second hello');
          starting = true;
          clearTimeout(helloTimer);
          void this.start(ws, req, msg, send).then((c) => (client = c), (err: unknown) => reject(err instanceof StctsError ? err : new TransportError('refused', String(err)), 1011));
        } else if (msg.type === 'talk') {
          if (client) client.endpoint.talking = msg.on;
        } else {
          this.signal(client, msg, send);
        }
      } catch (err) {
        if (err instanceof StctsError) reject(err, err.code === 'too_large' ? 1009 : 1008);
        else throw err;
      }
    });
    ws.on('close', () => {
      clearTimeout(helloTimer);
      this.sockets.delete(ws);
      void client?.endpoint.close();
    });
    ws.on('error', (err) => this.options.log.warn('browser client socket error', { error: err }));
  }

  private signal(client: WebClientInfo | undefined, msg: Extract<ClientMessage, { type: 'request' }>, send: (m: ServerMessage) => boolean): void {
    if (!client?.bridge) {
      send({ type: 'response', id: msg.id, ok: false, error: { code: 'protocol', message: 'no WebRTC session on this connection' } });
      return;
    }
    client.bridge.handle(msg.method, msg.data).then(
      (data) => send({ type: 'response', id: msg.id, ok: true, data }),
      (err: Error) => {
        this.options.log.warn('WebRTC signalling failed', { client: client.id, method: msg.method, error: err });
        send({ type: 'response', id: msg.id, ok: false, error: { code: (err as StctsError).code ?? 'webrtc', message: err.message } });
      },
    );
  }

  private async start(ws: WebSocket, req: IncomingMessage, hello: Extract<ClientMessage, { type: 'hello' }>, send: (m: ServerMessage) => boolean): Promise<WebClientInfo> {
    if (this.clients.size >= this.options.maxClients) {
      this.totals.refused++;
      throw new TransportError('overflow', `too many browser clients (max ${this.options.maxClients})`);
    }
    const id = `web-${this.nextId++}`;
    const service = hello.transport === 'ws' ? undefined : await this.mediasoup();
    if (ws.readyState !== ws.OPEN) throw new TransportError('closed', 'page left during setup');
    let bridge: WebRtcBridge | undefined;
    const transport: AudioTransportKind = service ? 'webrtc' : 'ws';
    const sendEvent = (e: DaemonEvent): boolean => {
      if (ws.readyState !== ws.OPEN || ws.bufferedAmount > this.options.maxSocketBufferBytes) return false;
      return send({ type: 'event', event: e });
    };
    const sink =
      transport === 'webrtc'
        ? { playRateHz: 48_000, audio: (f: Float32Array, i: number) => bridge?.sendFrame(f, i), event: sendEvent }
        : {
            playRateHz: WS_PCM_RATE_HZ,
            audio: (f: Float32Array) => {
              if (ws.readyState === ws.OPEN && ws.bufferedAmount <= this.options.maxSocketBufferBytes) ws.send(encodePcmMessage(floatToS16(f)));
            },
            event: sendEvent,
          };
    const endpoint = new WebEndpoint(id, sink, hello.mode === 'hands-free', this.options.endpoint, () => {
      this.clients.delete(id);
      for (const k of Object.keys(endpoint.stats) as Array<keyof WebEndpointStats>) this.totals[k] += endpoint.stats[k];
      if (bridge) for (const k of Object.keys(bridge.stats) as Array<keyof WebRtcBridgeStats>) this.totals[k] += bridge.stats[k];
      bridge?.close();
      if (ws.readyState === ws.OPEN) ws.close(1000, 'call ended');
    });
    if (service) {
      try {
        bridge = await WebRtcBridge.create(service, service.announcedAddressFor(req.headers.host), (pcm) => endpoint.pushMic(pcm));
      } catch (err) {
        await endpoint.close();
        throw err;
      }
    }
    if (ws.readyState !== ws.OPEN) {
      await endpoint.close();
      throw new TransportError('closed', 'page left during setup');
    }
    const client: WebClientInfo = { id, transport, endpoint, bridge };
    this.clients.set(id, client);
    const reason = transport === 'ws' ? (hello.transport === 'ws' ? 'requested by the page' : (this.serviceError?.message ?? 'WebRTC disabled in the config')) : undefined;
    send({ type: 'welcome', clientId: id, transport, sampleRateHz: WS_PCM_RATE_HZ, ...(reason ? { reason } : {}), ...(bridge ? bridge.welcome() : {}) });
    this.options.log.info('browser client connected', { client: id, transport, mode: hello.mode, remote: req.socket.remoteAddress });
    const attachOptions = hello.peer !== undefined ? { peer: hello.peer } : undefined;
    this.host.attach(endpoint, attachOptions).then(
      () => send({ type: 'ended', reason: 'call ended' }),
      (err: Error) => {
        this.options.log.warn('browser client call failed', { client: id, error: err });
        send({ type: 'event', event: { type: 'error', code: (err as StctsError).code ?? 'call_failed', message: err.message } });
      },
    ).finally(() => void endpoint.close());
    return client;
  }
}

/** The factory `startDaemon(config, { localClients })` takes. */
export function createWebClientServer(options: Partial<WebClientServerOptions> = {}): (host: LocalEndpointHost) => WebClientServer {
  return (host) => new WebClientServer(host, options);
}

/**
 * What `stcts daemon` calls (src/cli/daemon.ts). WebRTC listens on all addresses (even when the page
 * is served on loopback: Chromium gathers no loopback ICE candidates). The environment can override:
 * `STCTS_WEB_TRANSPORT=ws` (no WebRTC), `STCTS_WEBRTC_LISTEN_IP`, `STCTS_WEBRTC_ANNOUNCED_ADDRESS`
 * (the address browsers reach, e.g. behind NAT), `STCTS_WEBRTC_PORTS=40000-40999`.
 */
export function createLocalClients(host: LocalEndpointHost, o: { log: Logger }, env: NodeJS.ProcessEnv = process.env): WebClientServer {
  const mediasoup: Partial<MediasoupServiceOptions> = {};
  if (env['STCTS_WEBRTC_LISTEN_IP']) mediasoup.listenIp = env['STCTS_WEBRTC_LISTEN_IP'];
  if (env['STCTS_WEBRTC_ANNOUNCED_ADDRESS']) mediasoup.announcedAddress = env['STCTS_WEBRTC_ANNOUNCED_ADDRESS'];
  const ports = /^(\d+)-(\d+)$/.exec(env['STCTS_WEBRTC_PORTS'] ?? '');
  if (ports) {
    mediasoup.rtcMinPort = Number(ports[1]);
    mediasoup.rtcMaxPort = Number(ports[2]);
  }
  const server = new WebClientServer(host, { log: o.log.child({ part: 'web' }), transport: env['STCTS_WEB_TRANSPORT'] === 'ws' ? 'ws' : 'auto', mediasoup });
  // Start mediasoup now, so the log says at startup whether pages will get WebRTC.
  if (env['STCTS_WEB_TRANSPORT'] !== 'ws') void server.warmUp();
  return server;
}
