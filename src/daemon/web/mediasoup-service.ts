/**
 * One mediasoup Worker and Router (Opus only) shared by every browser tab of a daemon. Started on
 * the first WebRTC client; a worker that dies marks the service dead, and later tabs fall back to
 * WebSocket PCM. Issue #8.
 */
import { networkInterfaces } from 'node:os';
import { EngineUnavailableError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { loadMediasoup, type MediasoupWorkerLocation } from './mediasoup-loader.ts';

type Ms = typeof import('mediasoup');
type Worker = Awaited<ReturnType<Ms['createWorker']>>;
export type MsRouter = Awaited<ReturnType<Worker['createRouter']>>;
export type MsWebRtcTransport = Awaited<ReturnType<MsRouter['createWebRtcTransport']>>;
export type MsPlainTransport = Awaited<ReturnType<MsRouter['createPlainTransport']>>;

export interface MediasoupServiceOptions {
  /** Address the WebRTC transports listen on. Default `0.0.0.0`. */
  listenIp: string;
  /**
   * Address announced in ICE candidates. Default: the IP the page was loaded from (when its Host is
   * an IP literal), else the first non-internal IPv4, else 127.0.0.1.
   */
  announcedAddress: string | undefined;
  /** UDP/TCP port range of the WebRTC transports. Default 40000–40999. */
  rtcMinPort: number;
  rtcMaxPort: number;
}

export const DEFAULT_MEDIASOUP_SERVICE_OPTIONS: Readonly<MediasoupServiceOptions> = Object.freeze({
  listenIp: '0.0.0.0',
  announcedAddress: undefined,
  rtcMinPort: 40000,
  rtcMaxPort: 40999,
});

/** The Router's codec: Opus 48 kHz (stereo in SDP as RFC 7587 requires; the daemon sends mono). */
const MEDIA_CODECS = [{ kind: 'audio' as const, mimeType: 'audio/opus', clockRate: 48000, channels: 2, parameters: { useinbandfec: 1 } }];

function isIpLiteral(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}

export class MediasoupService {
  private dead = false;
  private closed = false;

  private constructor(
    readonly worker: Worker,
    readonly router: MsRouter,
    readonly location: MediasoupWorkerLocation,
    private readonly options: MediasoupServiceOptions,
    log: Logger,
    onDied: () => void,
  ) {
    worker.on('died', (err: Error) => {
      this.dead = true;
      log.error('mediasoup worker died', { error: err });
      onDied();
    });
  }

  /**
   * Starts a worker and router; `onDied` runs if the worker process dies later. Throws
   * `EngineUnavailableError` (engine `mediasoup`). `STCTS_MEDIASOUP_LOG=debug` shows the worker's log.
   */
  static async start(options: Partial<MediasoupServiceOptions>, log: Logger, onDied: () => void = () => {}): Promise<MediasoupService> {
    const o: MediasoupServiceOptions = { ...DEFAULT_MEDIASOUP_SERVICE_OPTIONS, ...options };
    const { mediasoup, worker: location } = await loadMediasoup();
    let worker: Worker;
    try {
      const logLevel = process.env['STCTS_MEDIASOUP_LOG'] === 'debug' ? 'debug' : 'warn';
      worker = await mediasoup.createWorker({ logLevel, rtcMinPort: o.rtcMinPort, rtcMaxPort: o.rtcMaxPort });
    } catch (err) {
      throw new EngineUnavailableError('mediasoup', `mediasoup worker ${location.path} did not start: ${(err as Error).message}`, 'check the Debian runtime libraries of scripts/setup.sh, or rebuild with bash scripts/build-mediasoup.sh', { cause: err });
    }
    const router = await worker.createRouter({ mediaCodecs: MEDIA_CODECS });
    log.info('mediasoup started', { version: location.version, worker: location.path, source: location.source, pid: worker.pid });
    return new MediasoupService(worker, router, location, o, log, onDied);
  }

  get usable(): boolean {
    return !this.dead && !this.closed;
  }

  /**
   * The address browsers should reach the transports at, for a page requested with `hostHeader`.
   * A page loaded from loopback gets the first non-internal IPv4: Chromium gathers no loopback ICE
   * candidates, so its checks come from a LAN address and a loopback answer would not match.
   */
  announcedAddressFor(hostHeader: string | undefined): string {
    if (this.options.announcedAddress) return this.options.announcedAddress;
    if (this.options.listenIp !== '0.0.0.0' && this.options.listenIp !== '::') return this.options.listenIp;
    const host = (hostHeader ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    const loopback = host === 'localhost' || host.startsWith('127.') || host === '::1';
    if (host && isIpLiteral(host) && !loopback) return host;
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
    }
    return '127.0.0.1';
  }

  /** A WebRTC transport for one direction of one tab (UDP preferred, TCP allowed). */
  async createWebRtcTransport(announcedAddress: string): Promise<MsWebRtcTransport> {
    const ip = this.options.listenIp;
    return this.router.createWebRtcTransport({
      listenInfos: [
        { protocol: 'udp', ip, announcedAddress },
        { protocol: 'tcp', ip, announcedAddress },
      ],
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
    });
  }

  /** A plain RTP transport on loopback between the router and this process. */
  async createPlainTransport(comedia: boolean): Promise<MsPlainTransport> {
    return this.router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.worker.close();
  }
}
