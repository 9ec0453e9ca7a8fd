import { writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CODEC_MODES } from '../codec/frame/index.ts';
import { UsageError } from '../core/errors.ts';
import { hfSimMarkdown, werVsSnrSvg } from '../eval/hf-report.ts';
import { runHfSim } from '../eval/hf-sim.ts';
import { FREEDV_AUTO_MODES } from '../transport/links/freedv/url.ts';
import { FREEDV_DATA_MODES, FREEDV_VOICE_MODES, type FreedvDataModeName, type FreedvVoiceModeName } from '../transport/links/freedv/modes.ts';
import { choiceFlag, numberFlag, parseArgs, stringFlag } from './args.ts';
import type { CliCommand } from './command.ts';

export const command: CliCommand = {
  summary: 'a corpus as one call over a simulated HF channel through the real FreeDV modems, beside FreeDV voice',
  usage: `Usage: stcts hf-sim --corpus DIR --channel awgn|good|poor --snr LIST [--modes auto|datac0|datac3|datac1|fsk_ldpc_200|fsk_ldpc|M+M…[,…]]
                   [--baselines freedv-700d,freedv-700e,freedv-1600] [--mode balanced] [--frames-per-burst N]
                   [--seed N] [--limit N] [--json F] [--report F.md] [--quiet]

The corpus is played once into the live sender (real time: latencies are this machine's), then for
every SNR (dB in 3 kHz, e.g. --snr -7,-4,-2) and mode: ARQ → FreeDV data modem (libcodec2) → HF
channel (AWGN, CCIR good/poor Watterson) → modem → ARQ, acks back over the same half-duplex channel
(stream time, faster than real time), receiver TTS, judged by the same pocketsphinx judge as eval.
Baselines: the call's speech through the real FreeDV voice modem → the same channel → judge.
--modes: one row per entry; auto (= datac0+fsk_ldpc_200+fsk_ldpc) or M+M… is the adaptive link (every
candidate demodulated at once, the mode chosen from the SNR measured at the far end).
--report writes Markdown with a WER-vs-SNR SVG beside it.`,
  async run(args) {
    const p = parseArgs(args, { values: ['corpus', 'channel', 'snr', 'modes', 'baselines', 'mode', 'frames-per-burst', 'seed', 'limit', 'json', 'report'], booleans: ['quiet'] });
    const corpusDir = stringFlag(p, 'corpus');
    if (!corpusDir) throw new UsageError('give the corpus with --corpus DIR');
    const channel = choiceFlag(p, 'channel', ['awgn', 'good', 'poor'] as const);
    if (!channel) throw new UsageError('give --channel awgn|good|poor');
    const snrText = stringFlag(p, 'snr');
    if (!snrText) throw new UsageError('give --snr LIST, e.g. --snr -7,-4,-2 (dB in 3 kHz)');
    const snrDb = snrText.split(',').map((s) => {
      const n = Number(s);
      if (s.trim() === '' || !Number.isFinite(n) || n < -30 || n > 60) throw new UsageError(`--snr: '${s}' is not an SNR in dB (−30…60)`);
      return n;
    });
    const modesText = (stringFlag(p, 'modes') ?? 'datac0').toLowerCase();
    const modes = modesText.split(',').map((entry) => {
      if (entry === 'auto') return FREEDV_AUTO_MODES;
      const set = entry.split('+');
      for (const m of set) if (!(m in FREEDV_DATA_MODES)) throw new UsageError(`--modes: unknown mode '${m}' (auto, datac0, datac3, datac1, fsk_ldpc_200, fsk_ldpc, or an adaptive set like datac0+fsk_ldpc)`);
      return set.length === 1 ? (set[0] as FreedvDataModeName) : (set as FreedvDataModeName[]);
    });
    const baselines = (stringFlag(p, 'baselines') ?? '')
      .split(',')
      .filter((b) => b !== '')
      .map((b) => {
        const m = b.toLowerCase().replace(/^freedv-/, '');
        if (!(m in FREEDV_VOICE_MODES)) throw new UsageError(`--baselines: unknown '${b}' (freedv-700d, freedv-700e, freedv-1600)`);
        return m as FreedvVoiceModeName;
      });
    const codecMode = choiceFlag(p, 'mode', CODEC_MODES) ?? 'balanced';
    const quiet = p.flags.has('quiet');
    const r = await runHfSim({
      corpusDir,
      channel,
      snrDb,
      modes,
      baselines,
      codecMode,
      seed: numberFlag(p, 'seed', { min: 1, max: 2 ** 31 }) ?? 1,
      framesPerBurst: numberFlag(p, 'frames-per-burst', { min: 1, max: 8 }) ?? 1,
      ...(numberFlag(p, 'limit', { min: 1 }) !== undefined ? { limit: numberFlag(p, 'limit', { min: 1 })! } : {}),
      command: `stcts hf-sim ${args.join(' ')}`,
      onProgress: (label) => {
        if (!quiet) process.stderr.write(`hf-sim: ${label}\n`);
      },
    });
    const json = stringFlag(p, 'json');
    if (json) await writeFile(json, JSON.stringify(r, null, 2) + '\n');
    const report = stringFlag(p, 'report');
    if (report) {
      const svg = `${basename(report).replace(/\.md$/i, '')}-wer-snr.svg`;
      await writeFile(join(dirname(report), svg), werVsSnrSvg(r.rows));
      await writeFile(report, hfSimMarkdown(r, svg));
    }
    for (const row of r.rows) {
      const d = row.deliveredRatio === null ? '' : ` delivered ${(row.deliveredRatio * 100).toFixed(0)} %, latency median ${((row.latencyMsMedian ?? NaN) / 1000).toFixed(1)} s p95 ${((row.latencyMsP95 ?? NaN) / 1000).toFixed(1)} s,`;
      const b = row.codedBer === undefined ? '' : ` coded BER ${(row.codedBer * 100).toFixed(1)} %, sync ${(row.syncRatio ?? 0).toFixed(2)},`;
      process.stdout.write(`${row.system} ${row.modesUsed.join('+')} ${row.channel} ${row.snrDb} dB:${d}${b} WER ${row.roundTripWer.toFixed(2)}\n`);
    }
    return 0;
  },
};
