import { UsageError } from '../core/errors.ts';
import { choiceFlag, parseArgs, stringFlag } from './args.ts';
import type { CliCommand } from './command.ts';

export const command: CliCommand = {
  summary: 'run a shore gateway node: vessel link terminators and session workers on NATS JetStream',
  usage: `Usage: stcts gateway --config edge/gateway.yaml [--role all|terminator|worker] [--worker-id ID]

Terminates vessels' links, stores each session's frames in NATS JetStream, and runs
session-affine workers (receiver codec + TTS) whose rendered PCM any node can read
(subject stcts.v1.pcm.<session>). Start as many nodes as needed against one NATS cluster;
a dead worker's sessions are taken over by the others. Needs nats-server with -js.

  --role        what this node runs (default all: the config's terminators and workers)
  --worker-id   lease owner id (default host-pid)`,
  async run(args) {
    const p = parseArgs(args, { values: ['config', 'role', 'worker-id'], aliases: { c: 'config' } });
    const path = stringFlag(p, 'config');
    if (!path) throw new UsageError('give the configuration with --config edge/gateway.yaml');
    if (p.positionals.length) throw new UsageError(`unexpected argument '${p.positionals[0]}'`);
    const role = choiceFlag(p, 'role', ['all', 'terminator', 'worker'] as const) ?? 'all';
    const { loadGatewayConfig, startGateway } = await import('../gateway/index.ts');
    const config = loadGatewayConfig(path);
    const workerId = stringFlag(p, 'worker-id');
    const node = await startGateway(config, {
      role,
      ...(workerId ? { workerId } : {}),
      onError: (e) => process.stderr.write(`${JSON.stringify({ level: 'warn', code: e.code, msg: e.message })}\n`),
    });
    const ready = { level: 'info', msg: 'gateway ready', role, terminators: node.terminators.map((t) => t.address), workers: node.workers.map((w) => w.options.id), ...(node.shore && config.shore ? { shore: `http://${config.shore.host}:${node.shore.port}/` } : {}) };
    process.stderr.write(`${JSON.stringify(ready)}\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await node.close();
    const stats = { level: 'info', msg: 'gateway stopped', uplink: node.hub?.stats, terminators: node.terminators.flatMap((t) => ('stats' in t ? [{ address: t.address, stats: (t as { stats: unknown }).stats }] : [])), workers: Object.fromEntries(node.workers.map((w) => [w.options.id, w.stats])) };
    process.stderr.write(`${JSON.stringify(stats)}\n`);
    setTimeout(() => process.exit(0), 3000).unref();
    return 0;
  },
};
