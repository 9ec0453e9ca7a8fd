export * from './pcm.ts';
export * from './wav.ts';
export * from './resample.ts';
export * from './vad.ts';
