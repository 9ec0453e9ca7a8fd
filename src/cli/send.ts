import { writeFileSync } from 'node:fs';
import { CODEC_MODES } from '../codec/frame/index.ts';
import { UsageError } from '../core/errors.ts';
import { sendLive } from '../pipeline/live.ts';
import { linkKindOf, LINK_URL_FORMS } from '../transport/links/index.ts';
import { choiceFlag, numberFlag, parseArgs, stringFlag } from './args.ts';
import type { CliCommand } from './command.ts';
import { LINK_URL_FLAGS, LINK_URL_USAGE, linkUrlOptionsFrom, PSK_FLAG_USAGE, pskFrom } from './link-args.ts';

export const command: CliCommand = {
  summary: 'send speech live to a receiver over a link (WebSocket, UDP, KISS TNC): ARQ, reconnect, resume',
  usage: `Usage: stcts send IN.wav|- --to URL [--mode auto|minimal|balanced|high] [--bps 300] [--prosody-copies N]
                  [--psk-file F] [--callsign CALL --peer-callsign CALL] [--transcript F] [--stats-json F] [--fast]
                  [--state-dir DIR]

URL: ${LINK_URL_FORMS}.
Plays IN.wav at real-time pace (--fast: as fast as possible), or reads raw 16 kHz mono s16le PCM
from stdin ('-', e.g. \`arecord -f S16_LE -r 16000 -c 1 | stcts send - --to …\`), through VAD →
ASR → coder and sends each phrase as soon as it ends. Reconnects by itself; exits when everything
was acknowledged. --bps is the link budget on IP links (a radio link paces to its own airtime).
--mode auto picks the mode from the link's capacity. --prosody-copies 2..4 sends the best-effort
prosody detail (mode high) that many times (FEC against random loss; costs bits, see README).
--transcript F: JSON lines {"seq","text","t"}, t = wall clock (ms) when the phrase's last word ended.
--state-dir DIR: durable outbox (DIR/outbox.journal): each frame is on disk before it is sent and
leaves when acknowledged; after a crash (kill -9) the same command resumes the unfinished session
(same session id and seqs: the unacknowledged frames again, then its End) instead of reading IN.
--stats-json F: at exit, bits and airtime out/in (link headers included), retransmissions, and
  endAcknowledged (false: every phrase was acknowledged, the End was not within 60 s and 8 RTOs, and
  send stopped resending it).
${LINK_URL_USAGE}
${PSK_FLAG_USAGE}`,
  async run(args) {
    const p = parseArgs(args, { values: ['to', 'mode', 'bps', 'prosody-copies', 'psk-file', 'transcript', 'stats-json', 'state-dir', ...LINK_URL_FLAGS], booleans: ['fast', 'quiet'] });
    const [input] = p.positionals;
    const to = stringFlag(p, 'to');
    if (!input) throw new UsageError('give the WAV file to send');
    if (!to) throw new UsageError(`--to takes a link URL: ${LINK_URL_FORMS}`);
    linkKindOf(to);
    const quiet = p.flags.has('quiet');
    const statsPath = stringFlag(p, 'stats-json');
    const r = await sendLive(input, to, {
      mode: choiceFlag(p, 'mode', ['auto', ...CODEC_MODES] as const) ?? 'balanced',
      realtime: !p.flags.has('fast'),
      bitsPerSecond: numberFlag(p, 'bps', { min: 1 }) ?? 300,
      prosodyCopies: numberFlag(p, 'prosody-copies', { min: 1, max: 4 }) ?? 1,
      psk: pskFrom(p),
      link: linkUrlOptionsFrom(p),
      ...(stringFlag(p, 'transcript') ? { transcriptPath: stringFlag(p, 'transcript')! } : {}),
      ...(stringFlag(p, 'state-dir') ? { stateDir: stringFlag(p, 'state-dir')! } : {}),
      onStart: quiet ? undefined : (i) => process.stderr.write(`mode ${i.mode} on a ${i.link} link\n`),
      onPhrase: quiet ? undefined : (t, at) => process.stderr.write(`${(at / 1000).toFixed(2)}s → ${t}\n`),
      onState: quiet ? undefined : (s) => process.stderr.write(`link ${s}\n`),
    });
    if (statsPath) writeFileSync(statsPath, JSON.stringify({ frames: r.frames, mode: r.mode, wireBitsOut: r.bitsOut, wireBitsIn: r.bitsIn, airtimeSecondsOut: r.airtimeSecondsOut, retransmissions: r.retransmissions, seconds: r.seconds, endAcknowledged: r.endAcknowledged }, null, 2) + '\n');
    if (r.resumed) process.stderr.write(`resumed session ${r.resumed.sessionId}: ${r.resumed.frames} frames\n`);
    process.stderr.write(`sent ${r.frames} frames; ${r.bitsOut} bits out, ${r.bitsIn} bits in (acks) over ${r.seconds.toFixed(1)} s; ${r.retransmissions} retransmissions\n`);
    return 0;
  },
};
