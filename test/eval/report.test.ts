import { describe, expect, it } from 'vitest';
import { bitrateWerSvg, f0ContourSvg, markdownReport } from '../../src/eval/report.ts';
import type { EvalResult } from '../../src/eval/result.ts';

const result: EvalResult = {
  utterances: 2, audioSeconds: 8, mode: 'balanced',
  bitrate: { totalBps: 41.5, textBps: 27, prosodyBps: 4, speakerBps: 3, overheadBps: 7.5, sustainedBps: 37 },
  asr: { senderWer: 0.3, senderMeanUtteranceWer: 0.35, judgeWerOnOriginal: 0.4 },
  roundTrip: { wer: 0.45, werSameRecognizer: 0.31, werVsSender: 0.2, meanUtteranceWer: 0.5, judge: 'test judge' },
  prosody: { f0Corr: 0.7, f0RmseSemitones: 2.1, f0ShapeRmseSemitones: 1.5, wordDurationCorr: 0.8, pauseCorr: 0.6, timingMatchedWords: 9, timingOriginalWords: 12, planWordDurationCorr: 0.9, planPauseCorr: 0.7 },
  speaker: { idAccuracy: 0.5, medianF0ErrorSemitones: 0.4, profileBytes: 20 },
  speed: { encodeRtf: 0.4, decodeRtf: 0.1, peakRssMb: 300 },
  baselines: [{ name: 'opus-6k', bps: 6000, wer: 0.65, werSameRecognizer: 0.5, wordDurationCorr: 0.95, pauseCorr: 0.9, encodeRtf: 0.01, decodeRtf: 0.002 }, { name: 'codec2-700C', bps: 700, wer: 0, encodeRtf: 0, decodeRtf: 0, skipped: 'c2enc not found' }],
  perUtterance: [{ id: 'u1', speaker: 's', seconds: 4, bits: 160, reference: 'A', senderText: 'A', decodedText: 'A', senderWer: 0, roundTripWer: 0, roundTripWerSameRecognizer: 0, f0Corr: 0.9 }],
  environment: { node: 'v20', cpus: 2, date: '2026-11-28', command: 'stcts eval --corpus x' },
};

describe('eval report', () => {
  it('puts every system and the measured figures in the Markdown table', () => {
    const md = markdownReport(result, { bitrateWer: 'bitrate-wer.svg', f0: 'f0.svg' });
    // Judge WER, same-recognizer WER, then the timing measured on the decoded audio.
    expect(md).toContain('| **stcts balanced** | **41.5** (sustained 37.0) | **0.45** | 0.31 | 0.80 | 0.60 |');
    expect(md).toContain('| opus-6k | 6000 | 0.65 | 0.50 | 0.95 | 0.90 |');
    expect(md).toContain('| original audio | 256000 | 0.40 | 0.30 |');
    expect(md).toContain('Judge: test judge.');
    expect(md).toContain("from the TTS's plan (not measured): 0.90, 0.70");
    expect(md).toContain('codec2-700C | skipped: c2enc not found');
    expect(md).toContain('![F0 contour](f0.svg)');
  });

  it('draws one labelled point per system and F0 paths with gaps for unvoiced frames', () => {
    const svg = bitrateWerSvg([{ name: 'stcts', bps: 40, wer: 0.45, ours: true }, { name: 'opus-6k', bps: 6000, wer: 0.65 }]);
    expect(svg.match(/<circle/g)).toHaveLength(2);
    expect(svg).toContain('>opus-6k<');
    const f0 = f0ContourSvg('u1', [100, 110, 0, 120], [0, 105, 108, 0]);
    const paths = f0.match(/d="([^"]*)"/g)!;
    expect(paths[0]!.match(/M/g)).toHaveLength(2); // gap splits the original contour
  });
});
