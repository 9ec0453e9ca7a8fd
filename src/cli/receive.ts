import { writeFileSync } from 'node:fs';
import { UsageError } from '../core/errors.ts';
import { receiveLive } from '../pipeline/live.ts';
import { LINK_URL_FORMS } from '../transport/links/index.ts';
import { numberFlag, parseArgs, stringFlag } from './args.ts';
import type { CliCommand } from './command.ts';
import { LINK_URL_FLAGS, LINK_URL_USAGE, linkUrlOptionsFrom, PSK_FLAG_USAGE, pskFrom } from './link-args.ts';

export const command: CliCommand = {
  summary: 'receive a live session over a link (WebSocket, UDP, KISS TNC) and speak it into a WAV',
  usage: `Usage: stcts receive --listen HOST:PORT|URL -o OUT.wav|- [--rate-hz 16000] [--psk-file F]
                     [--callsign CALL --peer-callsign CALL] [--transcript F] [--stats-json F] [--state-dir DIR]

URL: ${LINK_URL_FORMS} (HOST:PORT alone = ws://HOST:PORT). A KISS TNC has no listening side:
\`--listen kiss+tcp://…\` attaches to it and waits for a sender.
With -o -, writes raw s16le mono PCM to stdout in real time (e.g. | aplay -f S16_LE -r 16000).

Waits for a sender, synthesizes each phrase as it arrives (audio written progressively), and
returns when the sender ends the session (or on SIGTERM/SIGINT).
--transcript F: JSON lines {"seq","text","t"}, t = wall clock (ms) when the phrase's audio starts being written.
--state-dir DIR: durable receiver state (DIR/inbox.journal, DIR/profiles.journal): frames are on disk
before they are acknowledged; after a crash the same command resumes the session: nothing is spoken
twice, OUT.wav and the transcript are continued (not truncated), known speaker profiles are kept.
--stats-json F: at exit: phrasesDelivered, duplicates, inOrder, wireBitsIn, wireBitsOut (link headers
included), airtimeSecondsOut, retransmissions, duplicateFramesIn.
${LINK_URL_USAGE}
${PSK_FLAG_USAGE}`,
  async run(args) {
    const p = parseArgs(args, { values: ['listen', 'o', 'rate-hz', 'psk-file', 'transcript', 'stats-json', 'state-dir', 'bps', ...LINK_URL_FLAGS], booleans: ['quiet'], aliases: { output: 'o' } });
    const out = stringFlag(p, 'o');
    if (!out) throw new UsageError('give the output file with -o OUT.wav');
    const listen = stringFlag(p, 'listen');
    if (!listen) throw new UsageError(`--listen takes HOST:PORT or a link URL: ${LINK_URL_FORMS}`);
    const quiet = p.flags.has('quiet');
    const statsPath = stringFlag(p, 'stats-json');
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    try {
      const r = await receiveLive(listen, out, {
        outputRateHz: numberFlag(p, 'rate-hz', { min: 8000, max: 48000 }) ?? 16000,
        ...(numberFlag(p, 'bps', { min: 1 }) !== undefined ? { bitsPerSecond: numberFlag(p, 'bps', { min: 1 })! } : {}),
        psk: pskFrom(p),
        link: linkUrlOptionsFrom(p),
        signal: stop.signal,
        ...(stringFlag(p, 'transcript') ? { transcriptPath: stringFlag(p, 'transcript')! } : {}),
        ...(stringFlag(p, 'state-dir') ? { stateDir: stringFlag(p, 'state-dir')! } : {}),
        onListening: (where) => process.stderr.write(`listening on ${where}\n`),
        onPhrase: quiet ? undefined : (ph) => process.stderr.write(`${(ph.placed.startMs / 1000).toFixed(2)}s ← ${ph.text}\n`),
        onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
      });
      if (statsPath) {
        const { phrasesDelivered, duplicates, inOrder, wireBitsIn, wireBitsOut, airtimeSecondsOut, retransmissions, duplicateFramesIn, link, durationMs } = r;
        writeFileSync(statsPath, JSON.stringify({ phrasesDelivered, duplicates, inOrder, wireBitsIn, wireBitsOut, airtimeSecondsOut, retransmissions, duplicateFramesIn, link, durationMs }, null, 2) + '\n');
      }
      process.stderr.write(`${out}: ${r.phrases} phrases, ${(r.durationMs / 1000).toFixed(2)} s; ${r.bitsIn} bits in, ${r.bitsOut} bits out (acks)\n`);
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
    return 0;
  },
};
