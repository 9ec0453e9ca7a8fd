import { UsageError } from '../core/errors.ts';
import { loadConfig, type DaemonConfig } from '../daemon/config.ts';
import type { Logger } from '../core/log.ts';
import type { LocalClientServer, LocalEndpointHost } from '../daemon/types.ts';
import { parseArgs, stringFlag } from './args.ts';
import type { CliCommand } from './command.ts';

export const command: CliCommand = {
  summary: 'run the edge daemon: local clients, peers over the secured live link, /healthz, /metrics',
  usage: `Usage: stcts daemon --config edge/stcts.yaml [--wav-loop IN.wav [--loops N] [--peer NAME]] [--transcript FILE]

Serves local clients over HTTP (browser page, /healthz, /metrics), links to the peers of the
config over authenticated, encrypted WebSockets, and runs a call per attached client.
Logs are JSON lines on stderr. Stops cleanly on SIGINT/SIGTERM. See edge/README.md.

  --wav-loop IN.wav   attach a local endpoint that plays IN.wav in a loop as its microphone
                      (a test call without a browser); --peer chooses the peer (default: first);
                      --loops N plays it N times (default: until stopped)
  --transcript FILE   append one JSON line per phrase accepted from a local user (dir "out") and
                      per phrase played from a peer (dir "in"), fsync'd; with state_dir a restart
                      reads it so that nothing is played twice`,
  async run(args) {
    const p = parseArgs(args, { values: ['config', 'wav-loop', 'peer', 'loops', 'transcript'], aliases: { c: 'config' } });
    const path = stringFlag(p, 'config');
    if (!path) throw new UsageError('give the configuration with --config edge/stcts.yaml');
    if (p.positionals.length) throw new UsageError(`unexpected argument '${p.positionals[0]}'`);
    const config = loadConfig(path);
    const { startDaemon } = await import('../daemon/daemon.ts');
    const { createLogger } = await import('../core/log.ts');
    const log = createLogger({ level: config.log.level }, { node: config.node });
    const web = await loadLocalClients();
    const transcriptPath = stringFlag(p, 'transcript');
    const loopsText = stringFlag(p, 'loops');
    const loops = loopsText === undefined ? Infinity : Number(loopsText);
    if (loops !== Infinity && (!Number.isInteger(loops) || loops < 1)) throw new UsageError(`--loops must be a whole number ≥ 1, got '${loopsText}'`);
    const daemon = await startDaemon(config, { log, ...(transcriptPath ? { transcriptPath } : {}), ...(web ? { localClients: (host) => web(host, { config, log }) } : {}) });
    const wav = stringFlag(p, 'wav-loop');
    if (wav) {
      const { WavLoopEndpoint } = await import('../daemon/wav-endpoint.ts');
      const ep = await WavLoopEndpoint.fromFile(wav, { id: 'wav-loop', loops, maxWavBytes: config.limits.wavBytes });
      const peer = stringFlag(p, 'peer');
      void daemon.host.attach(ep, peer ? { peer } : {}).catch((err) => process.stderr.write(`wav-loop call failed: ${(err as Error).message}\n`));
    }
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await daemon.close();
    // An engine's child process or a native handle must not keep a stopped daemon alive.
    setTimeout(() => process.exit(0), 3000).unref();
    return 0;
  },
};

type LocalClientsFactory = (host: LocalEndpointHost, o: { config: DaemonConfig; log: Logger }) => LocalClientServer;

/**
 * The browser side, when present (optional for a headless edge box): src/daemon/web/index.ts
 * exporting `createLocalClients(host, { config, log })`.
 */
async function loadLocalClients(): Promise<LocalClientsFactory | undefined> {
  try {
    const mod = (await import('../daemon/web/index.ts' as string)) as { createLocalClients?: LocalClientsFactory };
    return mod.createLocalClients;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw err;
  }
}
