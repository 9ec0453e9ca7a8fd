import { UsageError } from '../core/errors.ts';
import { decodeStcFile } from '../pipeline/decode-file.ts';
import { numberFlag, parseArgs, stringFlag } from './args.ts';
import { modelDirFlag, ttsEngineFlag } from './engine-flags.ts';
import type { CliCommand } from './command.ts';

export const command: CliCommand = {
  summary: 'speak a .stc stream again: decode frames and synthesize with the transmitted prosody',
  usage: `Usage: stcts decode IN.stc -o OUT.wav [--tts ID] [--model-dir DIR] [--rate-hz 16000] [--no-prosody] [--no-speaker]

Each text segment is synthesized at its transmitted start time (pauses kept), following the
transmitted pitch contour, durations and the speaker profile's timbre. Audio is written as it is
produced. Corrupt or unknown frames are skipped with a warning.
  --tts         TTS engine id: auto (default: HTS when installed, else flite), hts, flite, or a neural voice
  --model-dir   neural model cache (default $STCTS_MODEL_DIR, else ~/.cache/stcts/models)
  --rate-hz     output sample rate (default 16000)
  --no-prosody  ignore transmitted prosody (text-only baseline)
  --no-speaker  ignore the speaker profile (default voice)`,
  async run(args) {
    const p = parseArgs(args, { values: ['o', 'tts', 'rate-hz', 'model-dir'], booleans: ['no-prosody', 'no-speaker', 'quiet'], aliases: { output: 'o' } });
    const [input] = p.positionals;
    const output = stringFlag(p, 'o');
    if (!input || p.positionals.length > 1) throw new UsageError('give exactly one .stc file');
    if (!output) throw new UsageError('give the output file with -o OUT.wav');
    const tts = ttsEngineFlag(p) ?? 'auto';
    const modelDir = modelDirFlag(p);
    const rateHz = numberFlag(p, 'rate-hz', { min: 8000, max: 48000 }) ?? 16000;
    const report = await decodeStcFile(input, output, {
      tts,
      outputRateHz: rateHz,
      useProsody: !p.flags.has('no-prosody'),
      useSpeaker: !p.flags.has('no-speaker'),
      ...(modelDir ? { modelDir } : {}),
      onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
      onPhrase: p.flags.has('quiet') ? undefined : (ph) => process.stderr.write(`${(ph.placed.startMs / 1000).toFixed(2)}s  ${ph.text}\n`),
    });
    process.stderr.write(`${output}: ${report.phrases.length} phrases, ${(report.durationMs / 1000).toFixed(2)} s of audio\n`);
    return 0;
  },
};
