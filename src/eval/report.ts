import type { EvalResult } from './result.ts';

const fmt = (x: number | undefined, d = 2) => (x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(d));

/** SVG scatter: bitrate (log x) vs round-trip WER, one point per system. */
export function bitrateWerSvg(points: Array<{ name: string; bps: number; wer: number; ours?: boolean }>): string {
  const W = 640, H = 400, L = 60, R = 20, T = 20, B = 50;
  const xs = points.map((p) => Math.log10(Math.max(p.bps, 1)));
  const x0 = Math.floor(Math.min(1, ...xs)), x1 = Math.ceil(Math.max(4, ...xs));
  const X = (b: number) => L + ((Math.log10(Math.max(b, 1)) - x0) / (x1 - x0)) * (W - L - R);
  const Y = (w: number) => T + (1 - Math.min(1.2, w) / 1.2) * (H - T - B);
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`, `<rect width="${W}" height="${H}" fill="white"/>`];
  for (let e = x0; e <= x1; e++) {
    parts.push(`<line x1="${X(10 ** e)}" y1="${T}" x2="${X(10 ** e)}" y2="${H - B}" stroke="#ddd"/>`, `<text x="${X(10 ** e)}" y="${H - B + 16}" text-anchor="middle">${10 ** e}</text>`);
  }
  for (let w = 0; w <= 1.2001; w += 0.2) parts.push(`<line x1="${L}" y1="${Y(w)}" x2="${W - R}" y2="${Y(w)}" stroke="#eee"/>`, `<text x="${L - 6}" y="${Y(w) + 4}" text-anchor="end">${w.toFixed(1)}</text>`);
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 10}" text-anchor="middle">bits per second on the wire (log scale)</text>`);
  parts.push(`<text x="14" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(T + H - B) / 2})">round-trip WER (independent judge)</text>`);
  for (const p of points) {
    const color = p.ours ? '#c0392b' : '#2c3e50';
    parts.push(`<circle cx="${X(p.bps)}" cy="${Y(p.wer)}" r="5" fill="${color}"/>`, `<text x="${X(p.bps) + 8}" y="${Y(p.wer) - 6}" fill="${color}">${escapeXml(p.name)}</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}

/** SVG line plot of original vs decoded F0 (10 ms frames; unvoiced frames leave gaps). */
export function f0ContourSvg(id: string, originalHz: number[], decodedHz: number[]): string {
  const W = 720, H = 300, L = 50, R = 20, T = 30, B = 40;
  const voiced = [...originalHz, ...decodedHz].filter((x) => x > 0);
  const lo = Math.max(50, Math.min(...voiced, 400) * 0.9), hi = Math.max(...voiced, 100) * 1.1;
  const n = Math.max(originalHz.length, decodedHz.length, 2);
  const X = (i: number) => L + (i / (n - 1)) * (W - L - R);
  const Y = (hz: number) => T + (1 - (Math.log(hz) - Math.log(lo)) / (Math.log(hi) - Math.log(lo))) * (H - T - B);
  const path = (f0: number[]) => {
    let d = '';
    let pen = false;
    f0.forEach((hz, i) => {
      if (hz > 0) {
        d += `${pen ? 'L' : 'M'}${X(i).toFixed(1)},${Y(hz).toFixed(1)} `;
        pen = true;
      } else pen = false;
    });
    return d;
  };
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${L}" y="18">F0 of ${escapeXml(id)}: original (black) vs decoded (red), aligned by word timings</text>`,
    ...[lo, Math.sqrt(lo * hi), hi].map((hz) => `<text x="${L - 6}" y="${Y(hz) + 4}" text-anchor="end">${hz.toFixed(0)}</text><line x1="${L}" y1="${Y(hz)}" x2="${W - R}" y2="${Y(hz)}" stroke="#eee"/>`),
    `<text x="${(L + W - R) / 2}" y="${H - 10}" text-anchor="middle">time (s), ${((n * 10) / 1000).toFixed(1)} s total; F0 in Hz (log scale)</text>`,
    `<path d="${path(originalHz)}" stroke="black" fill="none" stroke-width="1.5"/>`,
    `<path d="${path(decodedHz)}" stroke="#c0392b" fill="none" stroke-width="1.5"/>`,
    '</svg>',
  ].join('\n');
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] as string);
}

/** Markdown report; plots are referenced by file name (written next to the report by the caller). */
export function markdownReport(r: EvalResult, plots: { bitrateWer: string; f0?: string }): string {
  const b = r.bitrate;
  const lines = [
    `# stcts eval — ${r.utterances} utterances, ${r.audioSeconds.toFixed(1)} s, mode ${r.mode}`,
    '',
    `Command: \`${r.environment.command}\` (${r.environment.date}, Node ${r.environment.node}, ${r.environment.cpus} CPUs)`,
    '',
    "| system | bit/s on the wire | round-trip WER (judge) | WER (sender's recognizer) | word-duration corr | pause corr | speaker-ID | encode RTF | decode RTF |",
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| **stcts ${r.mode}** | **${fmt(b.totalBps, 1)}** (sustained ${fmt(b.sustainedBps, 1)}) | **${fmt(r.roundTrip.wer)}** | ${fmt(r.roundTrip.werSameRecognizer)} | ${fmt(r.prosody.wordDurationCorr)} | ${fmt(r.prosody.pauseCorr)} | ${fmt(r.speaker.idAccuracy)} | ${fmt(r.speed.encodeRtf)} | ${fmt(r.speed.decodeRtf)} |`,
    ...r.baselines.map((x) =>
      x.skipped
        ? `| ${x.name} | skipped: ${x.skipped} | | | | | | | |`
        : `| ${x.name} | ${fmt(x.bps, 0)} | ${fmt(x.wer)} | ${fmt(x.werSameRecognizer)} | ${fmt(x.wordDurationCorr)} | ${fmt(x.pauseCorr)} | ${fmt(x.speakerIdAccuracy)} | ${fmt(x.encodeRtf, 3)} | ${fmt(x.decodeRtf, 3)} |`,
    ),
    `| original audio | 256000 | ${fmt(r.asr.judgeWerOnOriginal)} | ${fmt(r.asr.senderWer)} | | | | | |`,
    '',
    `Judge: ${r.roundTrip.judge}. "WER (sender's recognizer)" re-recognizes with the sender's own instance and configuration, which shares its language model and errors (flattering to stcts). Timing correlations are measured on the decoded audio: the judge's word times there against its word times in the original, over the words found in both (${r.prosody.timingMatchedWords} of ${r.prosody.timingOriginalWords} for stcts).`,
    '',
    `Bitrate split: text ${fmt(b.textBps, 1)}, prosody ${fmt(b.prosodyBps, 1)}, speaker ${fmt(b.speakerBps, 1)}, overhead ${fmt(b.overheadBps, 1)} bit/s.`,
    `Round-trip WER vs the sender's own text: ${fmt(r.roundTrip.werVsSender)}.`,
    `Prosody: log-F0 correlation ${fmt(r.prosody.f0Corr)}, RMSE ${fmt(r.prosody.f0RmseSemitones)} st (shape only ${fmt(r.prosody.f0ShapeRmseSemitones)} st); timing measured on the decoded audio: word-duration correlation ${fmt(r.prosody.wordDurationCorr)}, pause correlation ${fmt(r.prosody.pauseCorr)}; from the TTS's plan (not measured): ${fmt(r.prosody.planWordDurationCorr)}, ${fmt(r.prosody.planPauseCorr)}.`,
    `Speaker: ID accuracy ${fmt(r.speaker.idAccuracy)} (chance ${fmt(1 / Math.max(1, new Set(r.perUtterance.map((u) => u.speaker)).size))}), median-F0 error ${fmt(r.speaker.medianF0ErrorSemitones)} st, profile ${r.speaker.profileBytes} bytes.`,
    `Peak memory ${fmt(r.speed.peakRssMb, 0)} MB.`,
    '',
  ];
  if (r.textOnly) {
    lines.push(`Text-only baseline (same text, no prosody or speaker rendering): F0 correlation ${fmt(r.textOnly.f0Corr)}, speaker-ID ${fmt(r.textOnly.idAccuracy)}, median-F0 error ${fmt(r.textOnly.medianF0ErrorSemitones)} st, round-trip WER ${fmt(r.textOnly.roundTripWer)} (sender's recognizer ${fmt(r.textOnly.roundTripWerSameRecognizer)}), word-duration correlation ${fmt(r.textOnly.wordDurationCorr)}, pause correlation ${fmt(r.textOnly.pauseCorr)}.`, '');
  }
  if (r.sweep?.length) {
    lines.push('## Prosody sweep', '', '| mode | total bit/s | sustained bit/s | prosody bit/s | F0 corr | F0 RMSE st | round-trip WER |', '|---|---:|---:|---:|---:|---:|---:|');
    for (const s of r.sweep) lines.push(`| ${s.mode} | ${fmt(s.totalBps, 1)} | ${fmt(s.sustainedBps, 1)} | ${fmt(s.prosodyBps, 1)} | ${fmt(s.f0Corr)} | ${fmt(s.f0RmseSemitones)} | ${fmt(s.roundTripWer)} |`);
    lines.push('');
  }
  lines.push(`![bitrate vs WER](${plots.bitrateWer})`, '');
  if (plots.f0) lines.push(`![F0 contour](${plots.f0})`, '');
  lines.push('## Per utterance', '', "| id | s | bits | sender WER | round-trip WER (judge) | (sender's recognizer) | F0 corr | decoded text (judge) |", '|---|---:|---:|---:|---:|---:|---:|---|');
  for (const u of r.perUtterance) lines.push(`| ${u.id} | ${fmt(u.seconds, 1)} | ${u.bits} | ${fmt(u.senderWer)} | ${fmt(u.roundTripWer)} | ${fmt(u.roundTripWerSameRecognizer)} | ${fmt(u.f0Corr)} | ${u.decodedText} |`);
  return lines.join('\n') + '\n';
}
