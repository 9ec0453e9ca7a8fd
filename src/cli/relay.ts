import { UsageError } from '../core/errors.ts';
import { startRelay } from '../transport/relay.ts';
import { parseArgs, stringFlag } from './args.ts';
import type { CliCommand } from './command.ts';
import { hostPort, LINK_FLAGS, LINK_FLAGS_USAGE, linkOptionsFrom } from './link-args.ts';

export const command: CliCommand = {
  summary: 'emulate a thin lossy link between `stcts send` and `stcts receive`',
  usage: `Usage: stcts relay --listen HOST:PORT --to ws://HOST:PORT [link options]

Forwards WebSocket link packets both ways through the link emulator (rate limit, loss, bursts,
delay, jitter, outages), seeded and reproducible. Prints statistics on Ctrl-C.
${LINK_FLAGS_USAGE}`,
  async run(args) {
    const p = parseArgs(args, { values: ['listen', 'to', ...LINK_FLAGS] });
    const to = stringFlag(p, 'to');
    if (!to || !/^wss?:\/\//.test(to)) throw new UsageError('--to takes ws://HOST:PORT');
    const relay = await startRelay(hostPort(stringFlag(p, 'listen'), 'listen'), to, linkOptionsFrom(p));
    process.stderr.write(`relay: listening on port ${relay.port}, forwarding to ${to}\n`);
    await new Promise<void>((resolve) => process.once('SIGINT', resolve).once('SIGTERM', resolve));
    const s = relay.stats();
    process.stderr.write(`relay: ${JSON.stringify(s)}\n`);
    await relay.close();
    return 0;
  },
};
