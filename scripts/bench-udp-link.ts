/**
 * UDP link benchmark (issue #14), real time on loopback: text-like phrases through a dialing
 * UdpLink → the seeded impairment proxy → a listening UdpLink, the LinkSession ARQ on both ends.
 * Usage: node --import tsx scripts/bench-udp-link.ts [--phrases 100] [--interval-ms 4600] [--loss 0.1]
 *   [--burst 5] [--bps 300] [--delay-ms 0] [--jitter-ms 0] [--seed 1] [--sender-bps 300] [--timeout-ms 900000] [--ipv6]
 * (--bps: the proxy's rate limit per direction, wire bits incl. 28-byte IP/UDP headers; 0 = none.
 *  --sender-bps: the ARQ pacer's rate, charged per datagram with its IP/UDP header unless --pace-payload. --interval-ms 0 submits all phrases at once.)
 * Prints one JSON line: delivered share, order, duplicates, latency median/p95, wire bit/s, stats.
 */
import { runUdpLoopbackCall } from '../src/transport/links/udp-loopback-call.ts';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const phrases = arg('--phrases', 100);
const seed = arg('--seed', 1);
const bps = arg('--bps', 300);
const r = await runUdpLoopbackCall({
  phrases,
  seed,
  phraseIntervalMs: arg('--interval-ms', 4600),
  host: process.argv.includes('--ipv6') ? '::1' : '127.0.0.1',
  link: { lossRate: arg('--loss', 0.1), meanBurstPackets: arg('--burst', 5), bitsPerSecond: bps, delayMs: arg('--delay-ms', 0), jitterMs: arg('--jitter-ms', 0), seed },
  sender: { bitsPerSecond: arg('--sender-bps', bps || 300) },
  paceWireBytes: !process.argv.includes('--pace-payload'),
  timeoutMs: arg('--timeout-ms', 900_000),
  onDelivery: (seq, ms) => process.stderr.write(`phrase ${seq}: ${(ms / 1000).toFixed(2)} s\n`),
});
const { proxy, senderLink, receiverLink, ...summary } = r;
console.log(JSON.stringify({ ...summary, deliveredShare: r.phrasesDelivered / r.phrasesSent, proxy, senderLink, receiverLink }));
