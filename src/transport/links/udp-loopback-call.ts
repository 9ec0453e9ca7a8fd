import type { Frame } from '../../codec/frame/index.ts';
import { startImpairProxy, type ImpairProxyStats } from '../impair-proxy.ts';
import type { ImpairmentOptions } from '../impair-channel.ts';
import { LinkSession } from '../link-session.ts';
import { mulberry32 } from '../prng.ts';
import { DEFAULT_RELIABLE_SENDER_OPTIONS, LinkPacer, type ReliableSenderOptions } from '../reliability/index.ts';
import { formatUdpUrl } from './udp-url.ts';
import { openUdpLink, type UdpLink, type UdpLinkStats } from './udp.ts';
import { bindSession } from './udp-session.ts';

/**
 * A real-time one-way call over two UDP links on loopback with the impairment proxy between them
 * (issue #14's UDP target): a dialing sender → proxy → listening receiver, both LinkSessions' ARQ
 * on top. What the UDP end-to-end test and `scripts/bench-udp-link.ts` run.
 */
export interface UdpLoopbackCallOptions {
  /** Text frames to send. */
  phrases: number;
  /**
   * Mean time between phrases, ms (each gap uniform in [0.5, 1.5] × this, seeded): the ~4.6 s of a
   * phrase of speech plus its pause. 0 = submit all at once.
   */
  phraseIntervalMs: number;
  /** Impairment of both directions (reverse seed derived as in `stcts relay`). */
  link: Partial<ImpairmentOptions>;
  sender: Partial<ReliableSenderOptions>;
  /**
   * Pace each side by its link's cost model (payload + 28/48 header bytes per datagram at the
   * sender's `bitsPerSecond`), as the proxy's rate limit counts; false: payload bits only. Default true.
   */
  paceWireBytes: boolean;
  /** Give up waiting for delivery after this long, ms. */
  timeoutMs: number;
  seed: number;
  host: '127.0.0.1' | '::1';
  /** Called with each phrase's delivery, for progress output. */
  onDelivery?: (seq: number, latencyMs: number) => void;
}

export const DEFAULT_UDP_LOOPBACK_CALL_OPTIONS: Readonly<Omit<UdpLoopbackCallOptions, 'onDelivery'>> = Object.freeze({
  phrases: 100,
  phraseIntervalMs: 4600,
  link: {},
  sender: {},
  paceWireBytes: true,
  timeoutMs: 600_000,
  seed: 1,
  host: '127.0.0.1',
});

export interface UdpLoopbackCallResult {
  phrasesSent: number;
  /** Distinct phrases delivered. */
  phrasesDelivered: number;
  duplicates: number;
  /** Delivered in the order sent (no gaps skipped, no going back). */
  inOrder: boolean;
  /** Delivery time − submit time at the sender, ms. */
  latencyMsMedian: number;
  latencyMsP95: number;
  latencyMsMax: number;
  durationMs: number;
  /** Both directions' wire bits (payload + IP/UDP headers + keepalives) ÷ duration. */
  wireBitsPerSecond: { forward: number; reverse: number };
  retransmissions: number;
  proxy: ImpairProxyStats;
  senderLink: UdpLinkStats;
  receiverLink: UdpLinkStats;
}

const SESSION_ID = 4343;

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

/** Runs the call; resolves when every phrase arrived or `timeoutMs` passed. */
export async function runUdpLoopbackCall(options: Partial<UdpLoopbackCallOptions> = {}): Promise<UdpLoopbackCallResult> {
  const o = { ...DEFAULT_UDP_LOOPBACK_CALL_OPTIONS, ...options };
  const rnd = mulberry32(o.seed);
  const frames: Frame[] = [];
  for (let i = 0; i < o.phrases; i++) {
    // Text-like: 10–39 bytes of LM-coded text, as src/transport/synthetic-call.ts.
    const coded = new Uint8Array(10 + Math.floor(rnd() * 30)).map((_, j) => (i * 31 + j) & 255);
    frames.push({ version: 1, sessionId: SESSION_ID, seq: i, time: i * 200, payload: { type: 'text', coding: 'lm', coded } });
  }
  const receiverLink = await openUdpLink(formatUdpUrl({ host: o.host, port: 0 }), { role: 'listen' });
  const proxy = await startImpairProxy({ listen: { host: o.host, port: 0 }, target: { host: o.host, port: receiverLink.localAddress.port }, link: o.link });
  const senderLink = await openUdpLink(formatUdpUrl({ host: o.host, port: proxy.port }), { role: 'dial' });
  const rate = o.sender.bitsPerSecond ?? DEFAULT_RELIABLE_SENDER_OPTIONS.bitsPerSecond;
  const paced = (link: UdpLink): Partial<ReliableSenderOptions> => (o.paceWireBytes && !o.sender.pacer ? { ...o.sender, pacer: new LinkPacer(rate, link.cost) } : o.sender);
  const sender = new LinkSession(SESSION_ID, { sender: paced(senderLink) });
  const receiver = new LinkSession(SESSION_ID, { sender: paced(receiverLink) });
  const submittedAt = new Map<number, number>();
  const delivered: number[] = [];
  const latencies: number[] = [];
  const t0 = performance.now();
  const timers: NodeJS.Timeout[] = [];
  try {
    bindSession(receiverLink, receiver);
    bindSession(senderLink, sender);
    const reading = (async () => {
      for await (const f of receiver.frames()) {
        if (f.payload.type !== 'text') continue;
        delivered.push(f.seq);
        const lat = performance.now() - (submittedAt.get(f.seq) ?? Number.NaN);
        latencies.push(lat);
        o.onDelivery?.(f.seq, lat);
      }
    })();
    let at = 0;
    await new Promise<void>((resolve) => {
      const deadline = setTimeout(resolve, o.timeoutMs);
      const check = setInterval(() => {
        if (new Set(delivered).size >= frames.length) resolve();
      }, 20);
      timers.push(deadline, check);
      for (const f of frames) {
        const send = () => {
          submittedAt.set(f.seq, performance.now());
          sender.send(f);
        };
        if (o.phraseIntervalMs === 0) send();
        else timers.push(setTimeout(send, at));
        at += o.phraseIntervalMs * (0.5 + rnd());
      }
    });
    const durationMs = performance.now() - t0;
    receiver.close();
    await reading;
    const sorted = [...latencies].sort((a, b) => a - b);
    const distinct = new Set(delivered);
    const inOrder = delivered.every((s, i) => i === 0 || s > (delivered[i - 1] as number));
    const seconds = durationMs / 1000;
    return {
      phrasesSent: submittedAt.size,
      phrasesDelivered: distinct.size,
      duplicates: delivered.length - distinct.size,
      inOrder,
      latencyMsMedian: quantile(sorted, 0.5),
      latencyMsP95: quantile(sorted, 0.95),
      latencyMsMax: sorted.at(-1) ?? Number.NaN,
      durationMs,
      wireBitsPerSecond: { forward: (senderLink.stats.wireBytesOut * 8) / seconds, reverse: (receiverLink.stats.wireBytesOut * 8) / seconds },
      retransmissions: sender.sender.stats.retransmissions,
      proxy: structuredClone(proxy.stats),
      senderLink: structuredClone(senderLink.stats),
      receiverLink: structuredClone(receiverLink.stats),
    };
  } finally {
    for (const t of timers) clearTimeout(t);
    sender.close();
    receiver.close();
    await Promise.all([senderLink.close(), receiverLink.close(), proxy.close()]);
  }
}
