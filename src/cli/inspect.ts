import { writeFile } from 'node:fs/promises';
import { frameJsonReplacer } from '../codec/frame/index.ts';
import { UsageError } from '../core/errors.ts';
import { inspectStc, formatInspection } from '../pipeline/inspect.ts';
import { readStcFile } from '../pipeline/stc-file.ts';
import { parseArgs, stringFlag } from './args.ts';
import type { CliCommand } from './command.ts';

export const command: CliCommand = {
  summary: 'show every frame of a .stc file: type, bits, content, transcript, totals per stream',
  usage: `Usage: stcts inspect FILE.stc [--json] [-o OUT.json]

Prints each frame (type, size in bits on the wire, decoded content), the decoded transcript and the
bits per stream (text, prosody, speaker, overhead). With --json, prints (or writes to -o) an object
with at least: transcript (string), frames (array), totals, bitsPerSecond.`,
  async run(args) {
    const p = parseArgs(args, { values: ['o'], booleans: ['json'], aliases: { output: 'o' } });
    const [file] = p.positionals;
    if (!file || p.positionals.length > 1) throw new UsageError('give exactly one .stc file');
    const { bytes, items } = await readStcFile(file);
    const report = await inspectStc(bytes, items);
    const out = stringFlag(p, 'o');
    if (p.flags.has('json') || out) {
      const json = JSON.stringify(report, frameJsonReplacer, 2) + '\n';
      if (out) await writeFile(out, json);
      else process.stdout.write(json);
    } else {
      process.stdout.write(formatInspection(report));
    }
    for (const w of report.warnings) process.stderr.write(`warning: ${w}\n`);
    return 0;
  },
};
