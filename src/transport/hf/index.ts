export * from './channel.ts';
export { DopplerTap, TAP_RATE_PER_HZ, type DopplerTapOptions } from './fading.ts';
export { AnalyticSignal, HILBERT_DELAY, HILBERT_TAPS } from './hilbert.ts';
export { GaussianSource } from './gaussian.ts';
