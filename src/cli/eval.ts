import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CODEC_MODES } from '../codec/frame/index.ts';
import { UsageError } from '../core/errors.ts';
import { bitrateWerSvg, f0ContourSvg, markdownReport } from '../eval/report.ts';
import { runEval } from '../eval/run-eval.ts';
import { formatConcatSession, runConcatSession } from '../eval/concat-session.ts';
import { choiceFlag, numberFlag, parseArgs, stringFlag } from './args.ts';
import { asrEngineFlag, modelDirFlag, speakerEncoderFlag, ttsEngineFlag } from './engine-flags.ts';
import type { CliCommand } from './command.ts';
import { progressReporter } from '../core/progress.ts';

export const command: CliCommand = {
  summary: 'measure bitrate, intelligibility, prosody and speaker fidelity on a corpus, beside Opus and Codec2',
  usage: `Usage: stcts eval --corpus DIR [--mode minimal|balanced|high] [--json OUT.json] [--report OUT.md]
                  [--baselines opus,codec2] [--sweep prosody] [--no-text-only] [--tts ID] [--asr ID] [--score-asr ID]
                  [--speaker-encoder ID] [--model-dir DIR] [--limit N] [--session speaker|concat]

Runs every utterance through encode → bytes → decode (one session per speaker, in corpus order) and
measures every bit on the wire, sender and round-trip WER (against the reference), F0 fidelity after
word-timing alignment, word and pause timing measured on the decoded audio, speaker identification,
speed and memory; the same metrics for the baselines. Round-trip WER and timing are judged by an
independent recognizer configuration (pocketsphinx, same acoustic model and dictionary, a unigram LM
instead of the sender's 3-gram LM: models/judge-unigram.lm from scripts/build-models.mjs); the sender's
own recognizer gives roundTrip.werSameRecognizer besides. DIR: transcripts.tsv + <id>.wav, or the LibriSpeech layout.
  --asr ID        sender ASR engine (default pocketsphinx)
  --score-asr ID  ASR engine that judges the decoded audio instead of the independent pocketsphinx judge
                  (keep it fixed to compare runs; the sender's own id gives the same-recognizer figure)
  --tts ID        receiver TTS engine (default auto)
  --speaker-encoder ID  neural speaker encoder for the sender's speaker channel (default none): adds its
                  ≤ 64-byte embedding to each profile (counted in the speaker bitrate; no TTS renders it)
  --model-dir DIR neural model cache (default $STCTS_MODEL_DIR, else ~/.cache/stcts/models)
  --session concat  instead: the corpus as ONE session (corpus order, 1 s gaps; several people on one
                  microphone, issue #17) encoded as \`stcts encode\` would; reports turns.{trueChanges,
                  changesHit (≤ 1 phrase late), falseChanges, labelAccuracy}, profiles and SpeakerRefs
                  sent, the call's bit/s and the sender WER (--json OUT.json for all of it)`,
  async run(args) {
    const p = parseArgs(args, { values: ['corpus', 'mode', 'json', 'report', 'baselines', 'sweep', 'tts', 'limit', 'asr', 'score-asr', 'speaker-encoder', 'model-dir', 'session'], booleans: ['no-text-only', 'quiet'] });
    const corpusDir = stringFlag(p, 'corpus');
    if (!corpusDir) throw new UsageError('give the corpus directory with --corpus DIR');
    const sweep = stringFlag(p, 'sweep');
    if (sweep !== undefined && sweep !== 'prosody') throw new UsageError("--sweep takes 'prosody'");
    const baselines = (stringFlag(p, 'baselines') ?? '').split(',').filter(Boolean);
    for (const b of baselines) if (!/^(opus|codec2)(-\w+)?$/.test(b)) throw new UsageError(`unknown baseline '${b}' (use opus, codec2)`);
    const asr = asrEngineFlag(p);
    const scoreAsr = asrEngineFlag(p, 'score-asr');
    const speakerEncoder = speakerEncoderFlag(p);
    const modelDir = modelDirFlag(p);
    const session = choiceFlag(p, 'session', ['speaker', 'concat'] as const) ?? 'speaker';
    if (session === 'concat') {
      const limit = numberFlag(p, 'limit', { min: 1 });
      const concat = await runConcatSession(corpusDir, { mode: choiceFlag(p, 'mode', CODEC_MODES) ?? 'balanced', ...(asr ? { asr } : {}), ...(modelDir ? { asrOptions: { modelDir } } : {}), ...(limit ? { limit } : {}) });
      const out = stringFlag(p, 'json');
      if (out) await writeFile(out, JSON.stringify(concat, null, 2) + '\n');
      process.stdout.write(formatConcatSession(concat) + '\n');
      return 0;
    }
    const progress = progressReporter(p.flags.has('quiet'));
    const result = await runEval({
      ...(asr ? { asr } : {}),
      ...(scoreAsr ? { scoreAsr } : {}),
      ...(speakerEncoder ? { speakerEncoder } : {}),
      ...(modelDir ? { modelDir, asrOptions: { modelDir } } : {}),
      corpusDir,
      mode: choiceFlag(p, 'mode', CODEC_MODES) ?? 'balanced',
      baselines,
      sweep: sweep === 'prosody',
      textOnly: !p.flags.has('no-text-only'),
      tts: ttsEngineFlag(p) ?? 'auto',
      limit: numberFlag(p, 'limit', { min: 1 }),
      command: ['stcts', 'eval', ...args].join(' '),
      onProgress: (f, label) => progress.update(f, label),
    });
    progress.done();
    const json = stringFlag(p, 'json');
    if (json) await writeFile(json, JSON.stringify(result, null, 2) + '\n');
    const report = stringFlag(p, 'report');
    if (report) {
      const dir = dirname(report);
      await mkdir(dir, { recursive: true });
      const stem = basename(report).replace(/\.md$/, '');
      const points = [
        { name: `stcts ${result.mode}`, bps: result.bitrate.totalBps, wer: result.roundTrip.wer, ours: true },
        ...result.baselines.filter((b) => !b.skipped).map((b) => ({ name: b.name, bps: b.bps, wer: b.wer })),
      ];
      await writeFile(join(dir, `${stem}-bitrate-wer.svg`), bitrateWerSvg(points));
      const plots: { bitrateWer: string; f0?: string } = { bitrateWer: `${stem}-bitrate-wer.svg` };
      if (result.f0Example) {
        await writeFile(join(dir, `${stem}-f0.svg`), f0ContourSvg(result.f0Example.id, result.f0Example.originalHz, result.f0Example.decodedHz));
        plots.f0 = `${stem}-f0.svg`;
      }
      await writeFile(report, markdownReport(result, plots));
    }
    const b = result.bitrate;
    const lines = [
      `stcts ${result.mode}: ${b.totalBps.toFixed(1)} bit/s on the wire (sustained ${b.sustainedBps.toFixed(1)}; text ${b.textBps.toFixed(1)}, prosody ${b.prosodyBps.toFixed(1)}, speaker ${b.speakerBps.toFixed(1)}, overhead ${b.overheadBps.toFixed(1)})`,
      `  WER: sender ${result.asr.senderWer.toFixed(3)}; round trip ${result.roundTrip.wer.toFixed(3)} by the judge (judge on the originals ${result.asr.judgeWerOnOriginal.toFixed(3)}; vs sender text ${result.roundTrip.werVsSender.toFixed(3)}), ${result.roundTrip.werSameRecognizer.toFixed(3)} by the sender's own recognizer`,
      `  judge: ${result.roundTrip.judge}`,
      `  timing on the decoded audio: word-duration corr ${result.prosody.wordDurationCorr.toFixed(3)}, pause corr ${result.prosody.pauseCorr.toFixed(3)} (${result.prosody.timingMatchedWords}/${result.prosody.timingOriginalWords} words); from the TTS plan: ${result.prosody.planWordDurationCorr.toFixed(3)}, ${result.prosody.planPauseCorr.toFixed(3)}`,
      `  F0 corr ${result.prosody.f0Corr.toFixed(3)}, RMSE ${result.prosody.f0RmseSemitones.toFixed(2)} st; speaker-ID ${result.speaker.idAccuracy.toFixed(2)}, median-F0 error ${result.speaker.medianF0ErrorSemitones.toFixed(2)} st`,
      `  speed: encode RTF ${result.speed.encodeRtf.toFixed(3)}, decode RTF ${result.speed.decodeRtf.toFixed(3)}, peak RSS ${result.speed.peakRssMb.toFixed(0)} MB`,
      ...(result.textOnly ? [`  text-only baseline: F0 corr ${result.textOnly.f0Corr.toFixed(3)}, speaker-ID ${result.textOnly.idAccuracy.toFixed(2)}, median-F0 error ${result.textOnly.medianF0ErrorSemitones.toFixed(2)} st, WER ${result.textOnly.roundTripWer.toFixed(3)} (sender's recognizer ${result.textOnly.roundTripWerSameRecognizer.toFixed(3)})`] : []),
      ...result.baselines.map((x) => (x.skipped ? `  ${x.name}: skipped (${x.skipped})` : `  ${x.name}: ${x.bps.toFixed(0)} bit/s, WER ${x.wer.toFixed(3)} (sender's recognizer ${x.werSameRecognizer?.toFixed(3)}), timing corr ${x.wordDurationCorr?.toFixed(3)} / pauses ${x.pauseCorr?.toFixed(3)}, speaker-ID ${x.speakerIdAccuracy?.toFixed(2)}`)),
      ...(result.sweep ?? []).map((s) => `  sweep ${s.mode}: ${s.totalBps.toFixed(1)} bit/s (sustained ${s.sustainedBps.toFixed(1)}, prosody ${s.prosodyBps.toFixed(1)}), F0 corr ${s.f0Corr.toFixed(3)}, WER ${s.roundTripWer.toFixed(3)}`),
    ];
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  },
};
