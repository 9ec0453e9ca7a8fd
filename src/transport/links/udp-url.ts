import { isIP } from 'node:net';
import { UsageError } from '../../core/errors.ts';

/** A UDP endpoint named by a link URL (`udp://HOST:PORT`). */
export interface UdpEndpoint {
  /** IP literal (IPv6 without brackets) or host name. */
  host: string;
  port: number;
  /** 4 or 6 for an IP literal; undefined for a host name (resolved when the link opens). */
  family: 4 | 6 | undefined;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * Parses `udp://HOST:PORT`: HOST is an IPv4 address, a host name, or an IPv6 address in brackets
 * (`udp://[::1]:7000`). Port 0 (any free port) only makes sense to listen on; the caller checks.
 * Anything else (path, query, user info, missing port) is a {@link UsageError} that shows the form.
 */
export function parseUdpUrl(url: string): UdpEndpoint {
  const bad = (why: string) => new UsageError(`${why} in link URL '${url}': use udp://HOST:PORT (IPv6: udp://[::1]:PORT)`);
  const m = /^udp:\/\/(?:\[([^\]]*)\]|([^:/?#@[\]]*)):(\d{1,5})\/?$/i.exec(url);
  if (!m) throw bad(/^udp:\/\//i.test(url) ? 'no HOST:PORT' : 'not a udp:// URL');
  const port = Number(m[3]);
  if (port > 65535) throw bad(`port ${port} out of range`);
  if (m[1] !== undefined) {
    if (isIP(m[1]) !== 6) throw bad(`'[${m[1]}]' is not an IPv6 address`);
    return { host: m[1], port, family: 6 };
  }
  const host = m[2] as string;
  if (isIP(host) === 4) return { host, port, family: 4 };
  if (!HOSTNAME.test(host) || /^[\d.]+$/.test(host)) throw bad(`'${host}' is not an IPv4 address or host name`);
  return { host, port, family: undefined };
}

/** `udp://HOST:PORT` of an endpoint (brackets around IPv6). */
export function formatUdpUrl(e: { host: string; port: number }): string {
  return `udp://${isIP(e.host) === 6 ? `[${e.host}]` : e.host}:${e.port}`;
}
