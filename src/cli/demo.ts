import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { resample, writeWavFile } from '../audio/index.ts';
import { createTtsEngine } from '../engines/tts/registry.ts';
import { decodeStcFile } from '../pipeline/decode-file.ts';
import { encodeWavFile } from '../pipeline/encode-file.ts';
import { formatInspection, inspectStc } from '../pipeline/inspect.ts';
import { readStcFile } from '../pipeline/stc-file.ts';
import { parseArgs, stringFlag } from './args.ts';
import type { CliCommand } from './command.ts';

const SAMPLE_TEXT = 'The ship will reach the harbour at seven. Keep the radio on channel sixteen.';

export const command: CliCommand = {
  summary: 'end-to-end demo: make a sample, encode it, show the frames and bits, decode it',
  usage: `Usage: stcts demo [--in IN.wav] [--dir OUT_DIR]

Without --in, synthesizes a sample sentence (there is no recording in the repository), then runs
encode → inspect → decode and leaves sample.wav, sample.stc and decoded.wav in OUT_DIR (default ./out).`,
  async run(args) {
    const p = parseArgs(args, { values: ['in', 'dir'] });
    const dir = stringFlag(p, 'dir') ?? 'out';
    await mkdir(dir, { recursive: true });
    let input = stringFlag(p, 'in');
    if (!input) {
      input = join(dir, 'sample.wav');
      const tts = await createTtsEngine('auto');
      try {
        const r = await tts.synthesize({ text: SAMPLE_TEXT, f0MedianHz: 120 });
        await writeWavFile(input, resample(r, 16000));
      } finally {
        await tts.close();
      }
      process.stdout.write(`1. sample speech (synthesized, male pitch): ${input}\n   "${SAMPLE_TEXT}"\n`);
    }
    const stc = join(dir, 'sample.stc');
    const enc = await encodeWavFile(input, stc, { mode: 'balanced', coding: 'lm' });
    process.stdout.write(`2. encoded ${enc.audioSeconds.toFixed(2)} s of speech to ${stc}: ${enc.bytes} bytes = ${enc.bitsPerSecond.toFixed(1)} bit/s (every header counted)\n\n`);
    const { bytes, items } = await readStcFile(stc);
    process.stdout.write(formatInspection(await inspectStc(bytes, items)).replace(/^/gm, '   ') + '\n');
    const out = join(dir, 'decoded.wav');
    const report = await decodeStcFile(stc, out, { tts: 'auto', outputRateHz: 16000, useProsody: true, useSpeaker: true });
    process.stdout.write(`3. decoded to ${out}: ${report.phrases.length} phrases, ${(report.durationMs / 1000).toFixed(2)} s of speech\n`);
    return 0;
  },
};
