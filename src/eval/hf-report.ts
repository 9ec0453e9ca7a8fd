import type { HfSimResult, HfSimRow } from './hf-sim.ts';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const COLORS = ['#c0392b', '#2c3e50', '#27ae60', '#8e44ad', '#d35400', '#16a085'];

/** SVG line plot: SNR (dB) vs round-trip WER, one line per system (stcts per mode, each FreeDV voice mode). */
export function werVsSnrSvg(rows: readonly HfSimRow[]): string {
  const W = 640, H = 400, L = 60, R = 150, T = 20, B = 50;
  const snrs = rows.map((r) => r.snrDb);
  const s0 = Math.floor(Math.min(...snrs, 0)) - 1, s1 = Math.ceil(Math.max(...snrs, 0)) + 1;
  const X = (s: number) => L + ((s - s0) / (s1 - s0)) * (W - L - R);
  const Y = (w: number) => T + (1 - Math.min(1.2, w) / 1.2) * (H - T - B);
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`, `<rect width="${W}" height="${H}" fill="white"/>`];
  for (let s = s0; s <= s1; s++) out.push(`<line x1="${X(s)}" y1="${T}" x2="${X(s)}" y2="${H - B}" stroke="#eee"/>`, `<text x="${X(s)}" y="${H - B + 16}" text-anchor="middle">${s}</text>`);
  for (let w = 0; w <= 1.2001; w += 0.2) out.push(`<line x1="${L}" y1="${Y(w)}" x2="${W - R}" y2="${Y(w)}" stroke="#eee"/>`, `<text x="${L - 6}" y="${Y(w) + 4}" text-anchor="end">${w.toFixed(1)}</text>`);
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 10}" text-anchor="middle">SNR in 3 kHz, dB (channel: ${esc([...new Set(rows.map((r) => r.channel))].join(', '))})</text>`);
  out.push(`<text x="14" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(T + H - B) / 2})">round-trip WER (independent judge)</text>`);
  const series = new Map<string, HfSimRow[]>();
  for (const r of rows) {
    const name = r.system === 'stcts' ? `stcts ${r.adaptive ? `auto (${r.adaptive.join('/')})` : r.modesUsed.join('+')}` : r.system;
    series.set(name, [...(series.get(name) ?? []), r]);
  }
  [...series].forEach(([name, pts], i) => {
    const color = COLORS[i % COLORS.length]!;
    const sorted = [...pts].sort((a, b) => a.snrDb - b.snrDb);
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${sorted.map((p) => `${X(p.snrDb).toFixed(1)},${Y(p.roundTripWer).toFixed(1)}`).join(' ')}"/>`);
    for (const p of sorted) out.push(`<circle cx="${X(p.snrDb).toFixed(1)}" cy="${Y(p.roundTripWer).toFixed(1)}" r="4" fill="${color}"/>`);
    out.push(`<rect x="${W - R + 12}" y="${T + 18 * i}" width="12" height="12" fill="${color}"/>`, `<text x="${W - R + 30}" y="${T + 18 * i + 11}">${esc(name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

const f = (x: number | null | undefined, d = 2) => (x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(d));

/** Markdown report of an hf-sim run; `svgFile` is the plot's file name beside the report. */
export function hfSimMarkdown(r: HfSimResult, svgFile: string): string {
  const lines = [
    `# stcts hf-sim`,
    '',
    `\`${r.environment.command}\` · ${r.environment.date} · node ${r.environment.node} · ${r.environment.cpus} CPUs · ${r.wallSeconds.toFixed(0)} s wall`,
    '',
    `Call: ${r.phrases} phrases, ${r.callSeconds.toFixed(1)} s, codec ${r.codecBps.toFixed(1)} bit/s. Judge: ${r.judge}; its WER on the original call audio: ${f(r.originalWer)}.`,
    'Latency: end of a phrase at the sender → its text frame delivered at the receiver (stream time; receiver synthesis not included). Delivered: within 60 s after the call ends.',
    '',
    `![WER vs SNR](${svgFile})`,
    '',
    '| system | channel | SNR dB | delivered | latency median s | p95 s | round-trip WER | modes | coded BER | sync | turns (A/B) | retx | collisions |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const row of r.rows) {
    lines.push(
      `| ${row.system} | ${row.channel} | ${row.snrDb} | ${row.deliveredRatio === null ? '–' : `${(row.deliveredRatio * 100).toFixed(0)} %`} | ${f(row.latencyMsMedian === null ? null : row.latencyMsMedian / 1000, 1)} | ${f(row.latencyMsP95 === null ? null : row.latencyMsP95 / 1000, 1)} | ${f(row.roundTripWer)} | ${row.modesUsed.join(', ')} | ${row.codedBer === undefined ? '–' : `${(row.codedBer * 100).toFixed(1)} %`} | ${f(row.syncRatio)} | ${row.link ? `${row.link.turns.sender}/${row.link.turns.receiver}` : '–'} | ${row.link?.retransmissions ?? '–'} | ${row.link?.collisions ?? '–'} |`,
    );
  }
  return lines.join('\n') + '\n';
}
