import { CODEC_MODES } from '../codec/frame/index.ts';
import { UsageError } from '../core/errors.ts';
import { sendLive } from '../pipeline/live.ts';
import { choiceFlag, numberFlag, parseArgs, stringFlag } from './args.ts';
import type { CliCommand } from './command.ts';
import { PSK_FLAG_USAGE, pskFrom } from './link-args.ts';

export const command: CliCommand = {
  summary: 'send speech live to a receiver over the WebSocket link (ARQ, reconnect, resume)',
  usage: `Usage: stcts send IN.wav|- --to ws://HOST:PORT [--mode minimal|balanced|high] [--bps 300] [--prosody-copies N] [--psk-file F] [--fast]

Plays IN.wav at real-time pace (--fast: as fast as possible), or reads raw 16 kHz mono s16le PCM
from stdin ('-', e.g. \`arecord -f S16_LE -r 16000 -c 1 | stcts send - --to …\`), through VAD →
ASR → coder and sends each phrase as soon as it ends. Reconnects by itself; exits when everything
was acknowledged. --prosody-copies 2..4 sends the best-effort prosody detail (mode high) that many
times, each copy in a later packet (FEC against random loss; costs bits, see README).
${PSK_FLAG_USAGE}`,
  async run(args) {
    const p = parseArgs(args, { values: ['to', 'mode', 'bps', 'prosody-copies', 'psk-file'], booleans: ['fast', 'quiet'] });
    const [input] = p.positionals;
    const to = stringFlag(p, 'to');
    if (!input) throw new UsageError('give the WAV file to send');
    if (!to || !/^wss?:\/\//.test(to)) throw new UsageError('--to takes ws://HOST:PORT');
    const quiet = p.flags.has('quiet');
    const r = await sendLive(input, to, {
      mode: choiceFlag(p, 'mode', CODEC_MODES) ?? 'balanced',
      realtime: !p.flags.has('fast'),
      bitsPerSecond: numberFlag(p, 'bps', { min: 1 }) ?? 300,
      prosodyCopies: numberFlag(p, 'prosody-copies', { min: 1, max: 4 }) ?? 1,
      psk: pskFrom(p),
      onPhrase: quiet ? undefined : (t, at) => process.stderr.write(`${(at / 1000).toFixed(2)}s → ${t}\n`),
      onState: quiet ? undefined : (s) => process.stderr.write(`link ${s}\n`),
    });
    process.stderr.write(`sent ${r.frames} frames; ${r.bitsOut} bits out, ${r.bitsIn} bits in (acks) over ${r.seconds.toFixed(1)} s\n`);
    return 0;
  },
};
