import { writeFile } from 'node:fs/promises';
import { CODEC_MODES } from '../codec/frame/index.ts';
import { MESSAGE_CHANNEL_IDS, MESSAGE_CHANNELS } from '../codec/message/index.ts';
import { UsageError } from '../core/errors.ts';
import { progressReporter } from '../core/progress.ts';
import { choiceFlag, numberFlag, parseArgs, stringFlag, type ParsedArgs } from './args.ts';
import { asrEngineFlag, ttsEngineFlag } from './engine-flags.ts';
import type { CliCommand } from './command.ts';

const FORMATS = ['auto', 'sms', 'binary'] as const;

async function knownProfilesFlag(p: ParsedArgs): Promise<Uint8Array[]> {
  const path = stringFlag(p, 'known-profiles');
  if (!path) return [];
  const { readKnownProfiles } = await import('../pipeline/message-parts.ts');
  return readKnownProfiles(path);
}

async function readInputs(p: ParsedArgs) {
  const { readPartInputs } = await import('../pipeline/message-parts.ts');
  return readPartInputs(p.positionals, choiceFlag(p, 'format', FORMATS) ?? 'auto');
}

const SUBCOMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  async encode(args) {
    const p = parseArgs(args, { values: ['for', 'o', 'mode', 'known-profiles', 'save-profile', 'alphabet', 'id', 'asr', 'profile-layout'], booleans: ['quiet', 'json'], aliases: { output: 'o' } });
    const [input] = p.positionals;
    if (!input || p.positionals.length > 1) throw new UsageError('give exactly one input WAV file');
    const channel = choiceFlag(p, 'for', MESSAGE_CHANNEL_IDS);
    if (!channel) throw new UsageError(`say which channel the parts are for: --for ${MESSAGE_CHANNEL_IDS.join('|')}`);
    const output = stringFlag(p, 'o');
    if (!output && channel !== 'sms') throw new UsageError('give the output with -o OUT (binary parts are written as OUT.1, OUT.2, …; raw as OUT)');
    const mode = choiceFlag(p, 'mode', CODEC_MODES) ?? 'balanced';
    const smsAlphabet = choiceFlag(p, 'alphabet', ['base77', 'base64'] as const) ?? 'base77';
    const profileLayout = choiceFlag(p, 'profile-layout', ['compact', 'full'] as const) ?? 'compact';
    const messageId = numberFlag(p, 'id', { min: 0, max: 127 });
    if (messageId !== undefined && !Number.isInteger(messageId)) throw new UsageError('--id must be an integer 0..127');
    const asr = asrEngineFlag(p);
    const knownProfiles = await knownProfilesFlag(p);
    const { encodeWavToMessage } = await import('../pipeline/message-encode.ts');
    const progress = progressReporter(p.flags.has('quiet'));
    const r = await encodeWavToMessage(input, { channel, mode, smsAlphabet, knownProfiles, profileLayout, ...(messageId !== undefined ? { messageId } : {}), ...(asr ? { asr } : {}) }, progress);
    progress.done();
    const files: string[] = [];
    if (channel === 'sms') {
      const text = r.parts.map((x) => x.text).join('\n') + '\n';
      if (output) {
        await writeFile(output, text);
        files.push(output);
      } else process.stdout.write(text);
    } else if (channel === 'raw') {
      await writeFile(output!, r.parts[0]!.bytes);
      files.push(output!);
    } else {
      for (const part of r.parts) {
        const f = `${output}.${part.number}`;
        await writeFile(f, part.bytes);
        files.push(f);
      }
    }
    const save = stringFlag(p, 'save-profile');
    if (save && r.profile) {
      const { rememberProfile } = await import('../pipeline/message-parts.ts');
      await rememberProfile(save, r.profile);
    }
    // The parts may be on stdout (sms without -o): the report then goes to stderr.
    const report = channel === 'sms' && !output ? process.stderr : process.stdout;
    if (p.flags.has('json')) {
      report.write(JSON.stringify({ channel, messageId: r.messageId ?? null, files, transcript: r.transcript, phrases: r.phrases, audioSeconds: r.audioSeconds, messageBytes: r.message.length, bytes: r.wireBytes, ...(r.chars !== undefined ? { chars: r.chars } : {}), profileByHash: r.profileByHash, parts: r.parts.map((x) => ({ number: x.number, count: x.count, bytes: x.bytes.length, ...(x.text ? { chars: x.text.length } : {}), speechSeconds: Number(x.speechSeconds.toFixed(2)), phrases: x.phrases })) }, null, 2) + '\n');
    } else {
      for (const x of r.parts) {
        const size = x.text ? `${x.text.length} characters (${x.bytes.length} bytes)` : `${x.bytes.length} bytes`;
        report.write(`part ${x.number}/${x.count}: ${size}, ${x.speechSeconds.toFixed(2)} s of speech${files.length > 1 ? ` → ${files[x.number - 1]}` : ''}\n`);
      }
      report.write(`message${r.messageId !== undefined ? ` ${r.messageId}` : ''}: "${r.transcript}" — ${r.phrases} phrases, ${r.audioSeconds.toFixed(2)} s, ${r.message.length} bytes${r.profile ? r.profileByHash ? ', speaker profile by hash' : ', speaker profile in full' : ''}${files.length === 1 ? ` → ${files[0]}` : ''}\n`);
    }
    return 0;
  },

  async decode(args) {
    const p = parseArgs(args, { values: ['o', 'known-profiles', 'format', 'tts', 'rate-hz'], booleans: ['partial', 'no-prosody', 'no-speaker', 'quiet', 'remember'], aliases: { output: 'o' } });
    const output = stringFlag(p, 'o');
    if (!output) throw new UsageError('give the output file with -o OUT.wav');
    const tts = ttsEngineFlag(p) ?? 'auto';
    const rateHz = numberFlag(p, 'rate-hz', { min: 8000, max: 48000 }) ?? 16000;
    const knownProfiles = await knownProfilesFlag(p);
    const received = await readInputs(p);
    const { decodePartsToWav } = await import('../pipeline/message-decode.ts');
    const r = await decodePartsToWav(received, output, {
      tts,
      knownProfiles,
      partial: p.flags.has('partial'),
      outputRateHz: rateHz,
      useProsody: !p.flags.has('no-prosody'),
      useSpeaker: !p.flags.has('no-speaker'),
      ...(p.flags.has('quiet') ? {} : { onPhrase: (text: string, startMs: number) => process.stderr.write(`${(startMs / 1000).toFixed(2)}s  ${text}\n`) }),
    });
    for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
    const known = stringFlag(p, 'known-profiles');
    if (known && p.flags.has('remember')) {
      const { rememberProfile } = await import('../pipeline/message-parts.ts');
      for (const it of r.decoded.items) if (it.type === 'profile' && !it.byHash) await rememberProfile(known, it.profile);
    }
    process.stderr.write(`${output}: ${r.phrases} phrases, ${(r.durationMs / 1000).toFixed(2)} s of audio${r.missingParts.length ? ` (parts ${r.missingParts.join(', ')} missing)` : ''}\n`);
    return 0;
  },

  async inspect(args) {
    const p = parseArgs(args, { values: ['known-profiles', 'format'], booleans: ['json', 'partial'] });
    const knownProfiles = await knownProfilesFlag(p);
    const received = await readInputs(p);
    const { loadDefaultTextModel } = await import('../pipeline/codecs.ts');
    const { readMessage, inspectMessage, formatMessageInspection } = await import('../pipeline/message-decode.ts');
    const read = readMessage(received, await loadDefaultTextModel(), { knownProfiles, partial: p.flags.has('partial') });
    const report = inspectMessage(received, read);
    process.stdout.write(p.flags.has('json') ? JSON.stringify(report, null, 2) + '\n' : formatMessageInspection(report));
    for (const w of report.warnings) process.stderr.write(`warning: ${w}\n`);
    return 0;
  },
};

/** `--device PATH [--baud N]`: the SBD modem (a pty needs no --baud). */
async function openModem(p: ParsedArgs) {
  const device = stringFlag(p, 'device');
  if (!device) throw new UsageError('give the modem with --device /dev/ttyUSB0');
  const baudRate = numberFlag(p, 'baud', { min: 1200, max: 460800 });
  const { openSerialDevice, SbdModem } = await import('../transport/links/sbd/index.ts');
  return SbdModem.open(await openSerialDevice(device, baudRate !== undefined ? { baudRate } : {}));
}

SUBCOMMANDS['send-sbd'] = async (args) => {
  const p = parseArgs(args, { values: ['device', 'baud'] });
  if (p.positionals.length === 0) throw new UsageError('give the binary parts to send (from message encode --for sbd)');
  const { readFile } = await import('node:fs/promises');
  const parts = await Promise.all(p.positionals.map(async (f) => ({ f, bytes: new Uint8Array(await readFile(f)) })));
  const modem = await openModem(p);
  try {
    process.stderr.write(`signal: ${await modem.signalQuality()} of 5 bars\n`);
    for (const { f, bytes } of parts) {
      const r = await modem.send(bytes);
      process.stdout.write(`${f}: ${bytes.length} bytes sent as MOMSN ${r.momsn} after ${r.attempts} session(s)${r.failures.length ? ` (failed: ${r.failures.join(', ')})` : ''}\n`);
    }
  } finally {
    modem.close();
  }
  return 0;
};

SUBCOMMANDS['receive-sbd'] = async (args) => {
  const p = parseArgs(args, { values: ['device', 'baud', 'o', 'timeout-s'], aliases: { output: 'o' } });
  const prefix = stringFlag(p, 'o');
  if (!prefix) throw new UsageError('give where to write the parts with -o PREFIX (PREFIX.1, PREFIX.2, …)');
  const timeoutS = numberFlag(p, 'timeout-s', { min: 1 }) ?? 3600;
  const { decodePart, reassembleMessage, MessageIncompleteError } = await import('../codec/message/index.ts');
  const modem = await openModem(p);
  const got: Array<ReturnType<typeof decodePart>> = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new UsageError(`no complete message within ${timeoutS} s`)), timeoutS * 1000);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      modem.onError = (err) => process.stderr.write(`warning: ${err.message}\n`);
      modem.onMessage = (bytes) => {
        const file = `${prefix}.${got.length + 1}`;
        void writeFile(file, bytes).then(() => process.stdout.write(`${file}: ${bytes.length} bytes\n`));
        try {
          got.push(decodePart(bytes));
          reassembleMessage(got);
          done();
        } catch (err) {
          if (!(err instanceof MessageIncompleteError)) process.stderr.write(`warning: ${(err as Error).message}\n`);
        }
      };
      modem.checkMailbox().catch((err: Error) => process.stderr.write(`warning: mailbox check: ${err.message}\n`));
    });
  } finally {
    modem.close();
  }
  await new Promise((r) => setImmediate(r));
  return 0;
};

export const command: CliCommand = {
  summary: 'voice messages for SMS, Iridium SBD, Meshtastic: encode a WAV to parts, decode or inspect parts',
  usage: `Usage: stcts message encode IN.wav --for ${MESSAGE_CHANNEL_IDS.join('|')} [-o OUT] [--known-profiles FILE] [--save-profile FILE]
                             [--mode minimal|balanced|high] [--alphabet base77|base64] [--profile-layout compact|full]
                             [--id N] [--asr ID] [--json] [--quiet]
       stcts message decode [PARTS…|-] -o OUT.wav [--known-profiles FILE [--remember]] [--partial] [--format auto|sms|binary]
                             [--tts ID] [--rate-hz N] [--no-prosody] [--no-speaker] [--quiet]
       stcts message inspect [PARTS…|-] [--json] [--known-profiles FILE] [--partial] [--format auto|sms|binary]
       stcts message send-sbd PARTS… --device /dev/ttyUSB0 [--baud 19200]
       stcts message receive-sbd --device /dev/ttyUSB0 -o PREFIX [--baud 19200] [--timeout-s 3600]

A voice message is one recording as a self-contained message: a 2-byte header, the speaker profile
(or only a 12-bit reference to it), the phrases (LM-coded text with in-band prosody and times), an end; split into
parts that fit the channel, each with (message id, part i of n).
${MESSAGE_CHANNEL_IDS.map((id) => `  ${id.padEnd(11)} ${MESSAGE_CHANNELS[id].summary}`).join('\n')}

encode: sms parts are lines of text (to -o OUT, else stdout); binary parts are written as OUT.1, OUT.2, …
  (raw: OUT). Prints each part's size and the seconds of speech it carries; progress on stderr.
  --known-profiles FILE  profiles the receiver holds (24 or 64 hex digits per line): a speaker close to
                         one of them is sent as a 12-bit reference instead of the ~12-byte profile
  --save-profile FILE    add the profile this message names to FILE (your list of what the receiver holds)
  --alphabet             sms text: base77 (default, 125 bytes per SMS) or base64 (fallback, 119 bytes)
  --profile-layout       compact (default, 12-byte profile as sessions send) or full (32 bytes, ~23 in a message)
  --id N                 message id 0..127 carried by the parts of a multi-part message (default random)
decode / inspect: parts in any order, duplicates ignored; files (SMS text or binary parts) or text on
  stdin as pasted from a phone (whitespace and line breaks ignored). A missing part is an error naming
  it; --partial decodes the phrases before the gap. decode --remember adds profiles received in full
  to the --known-profiles file. inspect --json: transcript, parts, bytes, speechSeconds, phrases, …
send-sbd / receive-sbd: an Iridium 9602/9603 on a serial port (AT+SBDWB, AT+SBDIX with back-off on
  failed sessions, ring alerts, AT+SBDRB); receive-sbd writes PREFIX.1, … until a message is complete.
  Tested against a modem emulator only (no real modem was available).`,
  async run(args) {
    const [sub, ...rest] = args;
    const run = sub ? SUBCOMMANDS[sub] : undefined;
    if (!run) throw new UsageError(`unknown message subcommand '${sub ?? ''}'; one of: ${Object.keys(SUBCOMMANDS).join(', ')}`);
    return run(rest);
  },
};
