/** Public face of the evaluation library used by `stcts eval` and the bench scripts. */
export * from './corpus.ts';
export * from './wer.ts';
export * from './prosody-metrics.ts';
export * from './speaker-id.ts';
export * from './baselines/index.ts';
export * from './report.ts';
export type { EvalResult } from './result.ts';
