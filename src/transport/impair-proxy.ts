import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { TransportError, UsageError } from '../core/errors.ts';
import { ImpairmentChannel, type ImpairmentOptions, type ImpairmentStats } from './impair-channel.ts';
import { parseUdpUrl } from './links/udp-url.ts';

/**
 * A seeded user-space UDP impairment proxy (issue #14; netem is not in this kernel): listens on one
 * port, forwards each client's datagrams to the target and the target's answers back, each
 * direction through its own {@link ImpairmentChannel} (loss with bursts, delay, jitter,
 * reordering, duplication, rate limit with a queue). Real time; fates are seeded by packet index.
 *
 * Like a NAT, every client source gets its own upstream socket, so the target sees one source per
 * client; {@link ImpairProxy.rebind} moves them all to new source ports (NAT rebinding).
 */

/** Where to listen or forward: `udp://HOST:PORT` or host and port. */
export type UdpAddressSpec = string | { host: string; port: number };

export interface ImpairProxyOptions {
  /** Where clients send to. Default 127.0.0.1, any free port. */
  listen: UdpAddressSpec;
  /** Where datagrams go (e.g. `stcts receive --listen udp://…`). Required. */
  target: UdpAddressSpec;
  /** Impairment of both directions. */
  link: Partial<ImpairmentOptions>;
  /** Client → target overrides of `link`. */
  forward: Partial<ImpairmentOptions>;
  /** Target → client overrides of `link` (its seed defaults to `link.seed` × 7919 + 13, as `stcts relay`). */
  reverse: Partial<ImpairmentOptions>;
  /** Most client sources at once; datagrams from more are dropped and counted. Default 16. */
  maxClients: number;
  /** Most datagrams waiting for their delivery time; beyond it dropped and counted. Default 10 000. */
  maxPendingPackets: number;
  /** Largest datagram forwarded, bytes (larger: dropped and counted). Default 65 507. */
  maxDatagramBytes: number;
}

export const DEFAULT_IMPAIR_PROXY_OPTIONS: Readonly<Omit<ImpairProxyOptions, 'target'>> = Object.freeze({
  listen: { host: '127.0.0.1', port: 0 },
  link: {},
  forward: {},
  reverse: {},
  maxClients: 16,
  maxPendingPackets: 10_000,
  maxDatagramBytes: 65_507,
});

export interface ImpairProxyStats {
  /** Client → target. */
  forward: ImpairmentStats;
  /** Target → client. */
  reverse: ImpairmentStats;
  clients: number;
  /** Datagrams dropped by the proxy itself: too many clients, too many pending, oversized, foreign to the upstream socket. */
  proxyDrops: number;
}

export interface ImpairProxy {
  /** The port clients send to. */
  readonly port: number;
  /** Live counters. */
  readonly stats: ImpairProxyStats;
  /** Gives every client a new upstream source port (the target sees the peer move, as after NAT rebinding). */
  rebind(): void;
  /** Stops forwarding; pending datagrams are discarded. Idempotent. */
  close(): Promise<void>;
}

interface Endpoint {
  address: string;
  port: number;
  family: 4 | 6;
}

async function resolve(spec: UdpAddressSpec, what: string): Promise<Endpoint> {
  const e = typeof spec === 'string' ? parseUdpUrl(spec) : { host: spec.host, port: spec.port, family: undefined };
  if (!Number.isInteger(e.port) || e.port < 0 || e.port > 65535) throw new UsageError(`impairment proxy ${what} port must be 0..65535, got ${e.port}`);
  const literal = isIP(e.host);
  if (literal) return { address: e.host, port: e.port, family: literal === 6 ? 6 : 4 };
  try {
    const r = await lookup(e.host);
    return { address: r.address, port: e.port, family: r.family === 6 ? 6 : 4 };
  } catch (err) {
    throw new TransportError('refused', `impairment proxy cannot resolve ${what} host '${e.host}'`, { host: e.host }, { cause: err });
  }
}

interface Flow {
  client: RemoteInfo;
  upstream: Socket;
}

/** Starts the proxy; see {@link ImpairProxyOptions}. */
export async function startImpairProxy(options: Partial<ImpairProxyOptions> & { target: UdpAddressSpec }): Promise<ImpairProxy> {
  const o = { ...DEFAULT_IMPAIR_PROXY_OPTIONS, ...options };
  const listen = await resolve(o.listen, 'listen');
  const target = await resolve(o.target, 'target');
  if (target.port === 0) throw new UsageError('impairment proxy target port must not be 0');
  const seed = o.link.seed ?? 1;
  const forward = new ImpairmentChannel({ ...o.link, ipv6: target.family === 6, ...o.forward });
  const reverse = new ImpairmentChannel({ ...o.link, seed: seed * 7919 + 13, ipv6: listen.family === 6, ...o.reverse });
  const stats: ImpairProxyStats = { forward: forward.stats, reverse: reverse.stats, clients: 0, proxyDrops: 0 };
  const flows = new Map<string, Flow>();
  const timers = new Set<NodeJS.Timeout>();
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  let closing: Promise<void> | undefined;

  const server = createSocket({ type: listen.family === 6 ? 'udp6' : 'udp4' });
  await new Promise<void>((ok, fail) => {
    server.once('error', (e) => fail(new TransportError('refused', `impairment proxy cannot listen on ${listen.address}:${listen.port}: ${e.message}`, undefined, { cause: e })));
    server.bind(listen.port, listen.address, () => ok());
  });
  server.removeAllListeners('error');
  server.on('error', () => stats.proxyDrops++);

  /** Puts a datagram through a channel and delivers its copies at their arrival times. */
  const pass = (channel: ImpairmentChannel, data: Buffer, deliver: (d: Buffer) => void) => {
    if (data.length > o.maxDatagramBytes) {
      stats.proxyDrops++;
      return;
    }
    const v = channel.offer(data.length, now());
    if (!v.delivered) return;
    for (const at of v.arriveAtMs) {
      if (timers.size >= o.maxPendingPackets) {
        stats.proxyDrops++;
        continue;
      }
      const t = setTimeout(() => {
        timers.delete(t);
        if (!closing) deliver(data);
      }, Math.max(0, at - now()));
      timers.add(t);
    }
  };

  const openUpstream = (flow: Flow): Socket => {
    const s = createSocket({ type: target.family === 6 ? 'udp6' : 'udp4' });
    s.on('error', () => stats.proxyDrops++);
    s.on('message', (msg, rinfo) => {
      if (s !== flow.upstream) return; // a rebound-away socket's late datagram
      if (rinfo.address !== target.address || rinfo.port !== target.port) {
        stats.proxyDrops++;
        return;
      }
      pass(reverse, msg, (d) => server.send(d, flow.client.port, flow.client.address, () => {}));
    });
    return s;
  };

  server.on('message', (msg, rinfo) => {
    if (closing) return;
    const key = `${rinfo.address}|${rinfo.port}`;
    let flow = flows.get(key);
    if (!flow) {
      if (flows.size >= o.maxClients) {
        stats.proxyDrops++;
        return;
      }
      const f: Flow = { client: rinfo, upstream: undefined as unknown as Socket };
      f.upstream = openUpstream(f);
      flows.set(key, (flow = f));
      stats.clients = flows.size;
    }
    const f = flow;
    pass(forward, msg, (d) => {
      try {
        f.upstream.send(d, target.port, target.address, () => {});
      } catch {
        stats.proxyDrops++; // closed by a rebind meanwhile
      }
    });
  });

  const closeSocket = (s: Socket) => new Promise<void>((ok) => {
    try {
      s.close(() => ok());
    } catch {
      ok();
    }
  });

  return {
    port: server.address().port,
    stats,
    rebind() {
      for (const f of flows.values()) {
        const old = f.upstream;
        f.upstream = openUpstream(f);
        void closeSocket(old);
      }
    },
    close() {
      if (!closing) {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        closing = Promise.all([closeSocket(server), ...[...flows.values()].map((f) => closeSocket(f.upstream))]).then(() => {});
      }
      return closing;
    },
  };
}
