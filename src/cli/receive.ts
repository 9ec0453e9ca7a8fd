import { UsageError } from '../core/errors.ts';
import { receiveLive } from '../pipeline/live.ts';
import { numberFlag, parseArgs, stringFlag } from './args.ts';
import type { CliCommand } from './command.ts';
import { hostPort, PSK_FLAG_USAGE, pskFrom } from './link-args.ts';

export const command: CliCommand = {
  summary: 'receive a live session over the WebSocket link and speak it into a WAV',
  usage: `Usage: stcts receive --listen HOST:PORT -o OUT.wav|- [--rate-hz 16000] [--psk-file F]

With -o -, writes raw s16le mono PCM to stdout in real time (e.g. | aplay -f S16_LE -r 16000).

Waits for a sender, synthesizes each phrase as it arrives (audio written progressively), and
returns when the sender ends the session.
${PSK_FLAG_USAGE}`,
  async run(args) {
    const p = parseArgs(args, { values: ['listen', 'o', 'rate-hz', 'psk-file'], booleans: ['quiet'], aliases: { output: 'o' } });
    const out = stringFlag(p, 'o');
    if (!out) throw new UsageError('give the output file with -o OUT.wav');
    const { host, port } = hostPort(stringFlag(p, 'listen'), 'listen');
    const quiet = p.flags.has('quiet');
    const r = await receiveLive(host, port, out, {
      outputRateHz: numberFlag(p, 'rate-hz', { min: 8000, max: 48000 }) ?? 16000,
      psk: pskFrom(p),
      onListening: (pt) => process.stderr.write(`listening on ${host}:${pt}\n`),
      onPhrase: quiet ? undefined : (ph) => process.stderr.write(`${(ph.placed.startMs / 1000).toFixed(2)}s ← ${ph.text}\n`),
      onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
    });
    process.stderr.write(`${out}: ${r.phrases} phrases, ${(r.durationMs / 1000).toFixed(2)} s; ${r.bitsIn} bits in, ${r.bitsOut} bits out (acks)\n`);
    return 0;
  },
};
