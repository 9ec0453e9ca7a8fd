import { UsageError } from '../core/errors.ts';
import { createAsrEngine } from '../engines/asr/registry.ts';
import { createTtsEngine } from '../engines/tts/registry.ts';
import { loadUtteranceAudio, readCorpus } from '../eval/corpus.ts';
import { simulateLiveCall } from '../pipeline/live-sim.ts';
import { choiceFlag, numberFlag, parseArgs, stringFlag } from './args.ts';
import { progressReporter } from '../core/progress.ts';
import type { CliCommand } from './command.ts';
import { LINK_FLAGS, LINK_FLAGS_USAGE, linkOptionsFrom } from './link-args.ts';

export const command: CliCommand = {
  summary: 'run the whole live path on a corpus through an emulated thin lossy link',
  usage: `Usage: stcts sim --corpus DIR [link options] [--mode minimal|balanced|high] [--prosody-copies N] [--repeat N] [--json] [--quiet]

Plays the corpus as one call (utterances 1 s apart, repeated N times) into the live sender at real
time (VAD, speculative recognition, prosody, coding: latencies measured on this machine), then
through ARQ → emulated link (virtual time on the call's clock) → receiver → TTS (synthesis timed).
Takes as long as the corpus plays.
Reports textDeliveredRatio, duplicates, inOrder, addedLatencyMsMedian, wireBps, recoverySeconds.
${LINK_FLAGS_USAGE}`,
  async run(args) {
    const p = parseArgs(args, { values: ['corpus', 'repeat', 'mode', 'prosody-copies', ...LINK_FLAGS], booleans: ['json', 'quiet'] });
    const mode = choiceFlag(p, 'mode', ['minimal', 'balanced', 'high'] as const) ?? 'balanced';
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
      const r = await simulateLiveCall(utts, asr, tts, linkOptionsFrom(p), { mode, sender: { prosodyCopies: numberFlag(p, 'prosody-copies', { min: 1, max: 4 }) ?? 1 }, onProgress: (f) => progress.update(f, 'playing the call into the sender') });
      progress.done();
      if (p.flags.has('json')) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
      else {
        process.stdout.write(
          [
            `text delivered ${(r.textDeliveredRatio * 100).toFixed(1)}% of ${r.phrases} phrases, in order: ${r.inOrder}, duplicates: ${r.duplicates}`,
            `added latency (median) ${r.addedLatencyMsMedian.toFixed(0)} ms = sender ${r.latencyPartsMs.sender.toFixed(0)} + protocol ${r.latencyPartsMs.protocol.toFixed(0)} + synthesis ${r.latencyPartsMs.synthesis.toFixed(0)} (excluding the link's own serialization and delay)`,
            `wire ${r.wireBps.toFixed(1)} bit/s (forward ${r.forwardBps.toFixed(1)}, acks ${r.reverseBps.toFixed(1)}); codec ${r.codecBps.toFixed(1)} bit/s; retransmissions ${r.retransmissions}; prosody delivered ${(r.prosodyDeliveredRatio * 100).toFixed(0)}%`,
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
