import { UsageError } from '../core/errors.ts';
import { startImpairProxy } from '../transport/impair-proxy.ts';
import { startRelay } from '../transport/relay.ts';
import { numberFlag, parseArgs, stringFlag } from './args.ts';
import type { CliCommand } from './command.ts';
import { hostPort, LINK_FLAGS, LINK_FLAGS_USAGE, linkOptionsFrom } from './link-args.ts';

export const command: CliCommand = {
  summary: 'emulate a thin lossy link between `stcts send` and `stcts receive` (WebSocket or UDP)',
  usage: `Usage: stcts relay --listen HOST:PORT --to ws://HOST:PORT [link options]
       stcts relay --listen udp://HOST:PORT --to udp://HOST:PORT [link options] [--reorder P] [--duplicate P]

Forwards link packets both ways through the link emulator (rate limit, loss, bursts, delay,
jitter, outages), seeded and reproducible. Over UDP it is a user-space impairment proxy (netem is
not in every kernel): each datagram's fate is seeded by its index, the rate limit counts the
28-byte IP/UDP header, and --reorder / --duplicate hold back or repeat that share of datagrams.
Prints statistics on Ctrl-C.
${LINK_FLAGS_USAGE}`,
  async run(args) {
    const p = parseArgs(args, { values: ['listen', 'to', 'reorder', 'duplicate', ...LINK_FLAGS] });
    const to = stringFlag(p, 'to');
    const listen = stringFlag(p, 'listen');
    if (to?.startsWith('udp://') || listen?.startsWith('udp://')) {
      if (!to?.startsWith('udp://') || !listen?.startsWith('udp://')) throw new UsageError('a UDP relay takes --listen udp://HOST:PORT --to udp://HOST:PORT');
      const link = linkOptionsFrom(p);
      const proxy = await startImpairProxy({ listen, target: to, link: { ...link, reorderRate: numberFlag(p, 'reorder', { min: 0, max: 1 }) ?? 0, duplicateRate: numberFlag(p, 'duplicate', { min: 0, max: 1 }) ?? 0 } });
      process.stderr.write(`relay: udp port ${proxy.port}, forwarding to ${to}\n`);
      await new Promise<void>((resolve) => process.once('SIGINT', resolve).once('SIGTERM', resolve));
      process.stderr.write(`relay: ${JSON.stringify(proxy.stats)}\n`);
      await proxy.close();
      return 0;
    }
    if (!to || !/^wss?:\/\//.test(to)) throw new UsageError('--to takes ws://HOST:PORT (or udp://HOST:PORT with a udp:// --listen)');
    const relay = await startRelay(hostPort(listen, 'listen'), to, linkOptionsFrom(p));
    process.stderr.write(`relay: listening on port ${relay.port}, forwarding to ${to}\n`);
    await new Promise<void>((resolve) => process.once('SIGINT', resolve).once('SIGTERM', resolve));
    const s = relay.stats();
    process.stderr.write(`relay: ${JSON.stringify(s)}\n`);
    await relay.close();
    return 0;
  },
};
