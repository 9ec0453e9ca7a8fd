import { UsageError } from '../core/errors.ts';
import { parseArgs, stringFlag } from './args.ts';
import type { CliCommand } from './command.ts';

/** Subcommand name → runner. Other benchmarks add a line here. */
const SUBCOMMANDS: Record<string, { summary: string; run(args: string[]): Promise<number> }> = {
  text: {
    summary: 'text channel bitrate vs Brotli on a corpus\'s reference transcripts',
    async run(args) {
      const p = parseArgs(args, { values: ['corpus', 'sentences', 'model'], booleans: ['json'] });
      const dir = stringFlag(p, 'corpus');
      const sentences = stringFlag(p, 'sentences');
      if (!dir === !sentences) throw new UsageError('give either --corpus DIR or --sentences FILE');
      const { readTextBenchCorpus, readSentenceList, runTextBench, formatTextBench } = await import('../eval/text-bench.ts');
      const utts = dir ? await readTextBenchCorpus(dir) : await readSentenceList(sentences as string);
      const report = await runTextBench(utts, stringFlag(p, 'model'));
      process.stdout.write((p.flags.has('json') ? JSON.stringify(report, null, 2) : formatTextBench(report)) + '\n');
      return 0;
    },
  },
};

export const command: CliCommand = {
  summary: 'benchmarks: text (more to come)',
  usage: `Usage: stcts bench <what> [options]

  text (--corpus DIR | --sentences FILE) [--json] [--model PATH]
      Codes each reference transcript as one segment of one session per speaker (corpus order)
      and prints bits, bits/char and bit/s over the audio duration beside Brotli-5/11.
      --json prints textBps, bitsPerChar, brotli5Bps, brotli11Bps, wordsPerSecond, modelLoadMs,
      rssMb, utterances, audioSeconds and perUtterance.
      --sentences codes one sentence per line (upper-cased, one session) with nominal durations of
      words / 2.9 s — for text the model never saw.`,
  async run(args) {
    const [sub, ...rest] = args;
    const entry = sub ? SUBCOMMANDS[sub] : undefined;
    if (!entry) throw new UsageError(`unknown benchmark '${sub ?? ''}'; one of: ${Object.keys(SUBCOMMANDS).join(', ')}`);
    return entry.run(rest);
  },
};
