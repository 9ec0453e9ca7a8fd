export * from './types.ts';
export { opusBaseline } from './opus.ts';
export { codec2Baseline } from './codec2.ts';

import { codec2Baseline } from './codec2.ts';
import { opusBaseline } from './opus.ts';
import type { Baseline } from './types.ts';

/** Baselines by the names `stcts eval --baselines` takes: opus (6 kbps), codec2 (700C and 1200). */
export function baselinesByName(names: string[]): Baseline[] {
  const out: Baseline[] = [];
  for (const n of names) {
    if (n === 'opus') out.push(opusBaseline(6000));
    else if (n === 'codec2') out.push(codec2Baseline('700C'), codec2Baseline('1200'));
    else if (/^opus-\d+k$/.test(n)) out.push(opusBaseline(Number(n.slice(5, -1)) * 1000));
    else if (/^codec2-\w+$/.test(n)) out.push(codec2Baseline(n.slice(7) as '700C'));
  }
  return out;
}
