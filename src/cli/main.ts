import { StctsError, UsageError } from '../core/errors.ts';
import type { CliCommand } from './command.ts';

/** Command name → module path. Commands load lazily so `stcts --help` stays fast. */
const COMMANDS: Record<string, () => Promise<{ command: CliCommand }>> = {
  encode: () => import('./encode.ts'),
  decode: () => import('./decode.ts'),
  inspect: () => import('./inspect.ts'),
  say: () => import('./say.ts'),
  bench: () => import('./bench.ts'),
  eval: () => import('./eval.ts'),
  send: () => import('./send.ts'),
  receive: () => import('./receive.ts'),
  relay: () => import('./relay.ts'),
  sim: () => import('./sim.ts'),
  'hf-sim': () => import('./hf-sim.ts'),
  demo: () => import('./demo.ts'),
  daemon: () => import('./daemon.ts'),
  models: () => import('./models.ts'),
  message: () => import('./message.ts'),
  gateway: () => import('./gateway.ts'),
};

async function loadCommand(name: string): Promise<CliCommand | undefined> {
  const loader = COMMANDS[name];
  if (!loader) return undefined;
  try {
    return (await loader()).command;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String(err).includes(`/cli/${name}.ts`)) {
      return undefined;
    }
    throw err;
  }
}

async function printHelp(): Promise<void> {
  const lines = ['stcts — speech codec for thin links (text + prosody + speaker profile)', '', 'Usage: stcts <command> [options]', '', 'Commands:'];
  for (const name of Object.keys(COMMANDS)) {
    const cmd = await loadCommand(name);
    if (cmd) lines.push(`  ${name.padEnd(9)} ${cmd.summary}`);
  }
  lines.push('', 'Run `stcts <command> --help` for the options of a command.');
  process.stdout.write(lines.join('\n') + '\n');
}

/** Entry point; returns the process exit code (0 ok, 1 failure, 2 usage error). */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    await printHelp();
    return name ? 0 : 2;
  }
  const cmd = await loadCommand(name);
  if (!cmd) {
    process.stderr.write(`stcts: unknown command '${name}'. Run 'stcts --help' for the list.\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(cmd.usage.trimEnd() + '\n');
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`stcts ${name}: ${err.message}\n${cmd.usage.trimEnd()}\n`);
      return 2;
    }
    if (err instanceof StctsError) {
      process.stderr.write(`stcts ${name}: error [${err.code}]: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
