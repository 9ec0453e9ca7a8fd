import { CODEC_MODES } from '../codec/frame/index.ts';
import { UsageError } from '../core/errors.ts';
import { encodeWavFile } from '../pipeline/encode-file.ts';
import { choiceFlag, parseArgs, stringFlag } from './args.ts';
import { asrEngineFlag, modelDirFlag, speakerEncoderFlag } from './engine-flags.ts';
import type { CliCommand } from './command.ts';
import { progressReporter } from '../core/progress.ts';

export const command: CliCommand = {
  summary: 'encode a WAV file to a .stc stream (text + prosody + speaker profile)',
  usage: `Usage: stcts encode IN.wav -o OUT.stc [--mode minimal|balanced|high] [--text lm|utf8] [--asr ID] [--speaker-encoder ID] [--model-dir DIR] [--quiet]

Recognizes the speech (pocketsphinx, or the engine given by --asr), measures prosody and the speaker profile, and writes the
frames that would go on the wire. Any WAV (8/16/24/32-bit PCM or float, any rate, mono or stereo).
  --mode    prosody detail: minimal (≈1 update per phrase), balanced (default), high (word level)
  --text    text coding: lm (language-model range coder, default) or utf8 (plain, readable)
  --asr     ASR engine id (default pocketsphinx; see stcts models list for neural ones)
  --speaker-encoder  neural speaker encoder id (default none): the speaker profile then also carries its
            embedding quantized to ≤ 64 bytes, and speaker changes are detected with it. The receiver's
            TTS does not render it (it is sent for speaker comparison); weights: stcts models fetch ID
  --model-dir  neural model cache (default $STCTS_MODEL_DIR, else ~/.cache/stcts/models)
  --quiet   no progress on stderr`,
  async run(args) {
    const p = parseArgs(args, { values: ['o', 'mode', 'text', 'asr', 'speaker-encoder', 'model-dir'], booleans: ['quiet'], aliases: { output: 'o' } });
    const [input] = p.positionals;
    const output = stringFlag(p, 'o');
    if (!input || p.positionals.length > 1) throw new UsageError('give exactly one input WAV file');
    if (!output) throw new UsageError('give the output file with -o OUT.stc');
    const mode = choiceFlag(p, 'mode', CODEC_MODES) ?? 'balanced';
    const coding = choiceFlag(p, 'text', ['lm', 'utf8'] as const) ?? 'lm';
    const asr = asrEngineFlag(p);
    const speakerEncoder = speakerEncoderFlag(p);
    const modelDir = modelDirFlag(p);
    const progress = progressReporter(p.flags.has('quiet'));
    const result = await encodeWavFile(input, output, { mode, coding, ...(asr ? { asr } : {}), ...(speakerEncoder ? { speakerEncoder } : {}), ...(modelDir ? { modelDir, asrOptions: { modelDir } } : {}) }, progress);
    progress.done();
    const b = result.bits;
    process.stderr.write(
      `${output}: ${result.phrases} phrases, ${result.bytes} bytes over ${result.audioSeconds.toFixed(2)} s = ${result.bitsPerSecond.toFixed(1)} bit/s ` +
        `(text ${b.text}, prosody ${b.prosody}, speaker ${b.speaker}, overhead ${b.overhead} bits)\n`,
    );
    return 0;
  },
};
