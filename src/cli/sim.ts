import { UsageError } from '../core/errors.ts';
import { createAsrEngine } from '../engines/asr/registry.ts';
import { createTtsEngine } from '../engines/tts/registry.ts';
import { loadUtteranceAudio, readCorpus } from '../eval/corpus.ts';
import { simulateLiveCall } from '../pipeline/live-sim.ts';
import { choiceFlag, numberFlag, parseArgs, stringFlag } from './args.ts';
import { progressReporter } from '../core/progress.ts';
import type { CliCommand } from './command.ts';
import { LINK_FLAGS, LINK_FLAGS_USAGE, SIM_LINK_KINDS, SIM_LINK_USAGE, simLinkFrom } from './link-args.ts';
import { autoMode, linkCapacityBitsPerSecond, fixedOverheadCost } from '../transport/links/index.ts';
import { CODEC_MODES } from '../codec/frame/index.ts';

export const command: CliCommand = {
  summary: 'run the whole live path on a corpus through an emulated thin lossy link',
  usage: `Usage: stcts sim --corpus DIR [link options] [--link K] [--mode auto|minimal|balanced|high] [--prosody-copies N] [--repeat N] [--json] [--quiet]

Plays the corpus as one call (utterances 1 s apart, repeated N times) into the live sender at real
time (VAD, speculative recognition, prosody, coding: latencies measured on this machine), then
through ARQ → emulated link (virtual time on the call's clock) → receiver → TTS (synthesis timed).
Takes as long as the corpus plays.
Reports textDeliveredRatio, duplicates, inOrder, addedLatencyMsMedian / P95 (end to end: sender +
protocol + synthesis, without the link's own serialization and delay; each part's median and p95
too), wireBps (both directions, link headers included), airtime and occupancy, recoverySeconds.
--mode auto picks the mode from the link's capacity.
${LINK_FLAGS_USAGE}
${SIM_LINK_USAGE}`,
  async run(args) {
    const p = parseArgs(args, { values: ['corpus', 'repeat', 'mode', 'prosody-copies', 'link', 'txdelay-ms', 'txtail-ms', ...LINK_FLAGS], booleans: ['json', 'quiet'] });
    const kind = choiceFlag(p, 'link', SIM_LINK_KINDS) ?? 'raw';
    const { link, tuning, cost } = simLinkFrom(p, kind);
    const modeFlag = choiceFlag(p, 'mode', ['auto', ...CODEC_MODES] as const) ?? 'balanced';
    const mode = modeFlag === 'auto' ? autoMode(linkCapacityBitsPerSecond(cost ?? fixedOverheadCost(0), link.bitsPerSecond ?? 300)) : modeFlag;
    const dir = stringFlag(p, 'corpus');
    if (!dir) throw new UsageError('give the corpus with --corpus DIR');
    const repeat = numberFlag(p, 'repeat', { min: 1, max: 100 }) ?? 1;
    const corpus = await readCorpus(dir);
    const utts = [];
    for (let r = 0; r < repeat; r++) for (const u of corpus) utts.push({ utt: u, audio: await loadUtteranceAudio(u) });
    const asr = await createAsrEngine('pocketsphinx');
    const tts = await createTtsEngine('auto');
    try {
      const progress = progressReporter(p.flags.has('quiet'));
      const r = await simulateLiveCall(utts, asr, tts, link, { mode, sender: { ...tuning.sender, prosodyCopies: numberFlag(p, 'prosody-copies', { min: 1, max: 4 }) ?? 1 }, receiver: tuning.receiver, onProgress: (f) => progress.update(f, 'playing the call into the sender') });
      progress.done();
      if (p.flags.has('json')) process.stdout.write(JSON.stringify({ link: kind, mode, ...r }, null, 2) + '\n');
      else {
        process.stdout.write(
          [
            `text delivered ${(r.textDeliveredRatio * 100).toFixed(1)}% of ${r.phrases} phrases, in order: ${r.inOrder}, duplicates: ${r.duplicates}`,
            `link ${kind}, mode ${mode}`,
            `added latency median ${r.addedLatencyMsMedian.toFixed(0)} ms, p95 ${r.addedLatencyMsP95.toFixed(0)} ms (end to end, excluding the link's own time: median ${r.linkTimeMs.median.toFixed(0)}, p95 ${r.linkTimeMs.p95.toFixed(0)} ms)`,
            `  median: sender ${r.latencyPartsMs.sender.toFixed(0)} + protocol ${r.latencyPartsMs.protocol.toFixed(0)} + synthesis ${r.latencyPartsMs.synthesis.toFixed(0)}; p95: sender ${r.latencyPartsP95Ms.sender.toFixed(0)}, protocol ${r.latencyPartsP95Ms.protocol.toFixed(0)}, synthesis ${r.latencyPartsP95Ms.synthesis.toFixed(0)}`,
            `wire ${r.wireBps.toFixed(1)} bit/s (forward ${r.forwardBps.toFixed(1)}, acks ${r.reverseBps.toFixed(1)}); codec ${r.codecBps.toFixed(1)} bit/s; retransmissions ${r.retransmissions}; prosody delivered ${(r.prosodyDeliveredRatio * 100).toFixed(0)}%`,
            `airtime ${r.airtimeSeconds.toFixed(1)} s, occupancy ${(r.occupancy * 100).toFixed(1)} %`,
            ...(r.recoverySeconds !== undefined ? [`after the outage: first delivery ${r.recoverySeconds.toFixed(1)} s, backlog cleared ${r.backlogClearedSeconds?.toFixed(1)} s`] : []),
          ].join('\n') + '\n',
        );
      }
    } finally {
      await asr.close();
      await tts.close();
    }
    return 0;
  },
};
