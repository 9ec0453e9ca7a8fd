import { resample, writeWavFile } from '../audio/index.ts';
import { UsageError } from '../core/errors.ts';
import { createTtsEngine } from '../engines/tts/registry.ts';
import { choiceFlag, numberFlag, parseArgs, stringFlag } from './args.ts';
import type { CliCommand } from './command.ts';

export const command: CliCommand = {
  summary: 'speak text with the receiver TTS (for quick listening)',
  usage: `Usage: stcts say "TEXT" -o OUT.wav [--f0-hz N] [--range-st S] [--rate R] [--alpha A] [--tts auto|hts|flite] [--voice V] [--rate-hz 16000]

  --f0-hz     median pitch, Hz (the voice's own contour is shifted to it)
  --range-st  pitch range, semitones (default: the voice's own)
  --rate      speaking rate factor (1.2 = 20% faster)
  --voice     engine voice (flite: slt, rms, awb, kal16)
  --tts       engine (alias --engine)
  --alpha     all-pass constant (timbre; the voice's default when absent)`,
  async run(args) {
    const p = parseArgs(args, { values: ['o', 'f0-hz', 'range-st', 'rate', 'alpha', 'tts', 'rate-hz', 'voice'], aliases: { output: 'o', engine: 'tts' } });
    const text = p.positionals.join(' ').trim();
    const out = stringFlag(p, 'o');
    if (!text) throw new UsageError('give the text to say');
    if (!out) throw new UsageError('give the output file with -o OUT.wav');
    const tts = await createTtsEngine(choiceFlag(p, 'tts', ['auto', 'hts', 'flite'] as const) ?? 'auto');
    try {
      const alpha = numberFlag(p, 'alpha', { min: 0, max: 0.9 });
      const r = await tts.synthesize({
        text,
        voice: stringFlag(p, 'voice'),
        f0MedianHz: numberFlag(p, 'f0-hz', { min: 50, max: 500 }),
        f0RangeSemitones: numberFlag(p, 'range-st', { min: 0, max: 36 }),
        rate: numberFlag(p, 'rate', { min: 0.25, max: 4 }),
        ...(alpha !== undefined ? { timbre: { allpassAlpha: alpha } } : {}),
      });
      const rate = numberFlag(p, 'rate-hz', { min: 8000, max: 48000 }) ?? 16000;
      await writeWavFile(out, r.sampleRateHz === rate ? r : resample(r, rate));
      process.stderr.write(`${out}: ${(r.samples.length / r.sampleRateHz).toFixed(2)} s\n`);
    } finally {
      await tts.close();
    }
    return 0;
  },
};
