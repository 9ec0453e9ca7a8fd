export * from './phrase-codec.ts';
export * from './session-encoder.ts';
export * from './session-decoder.ts';
export * from './lm-phrase-codec.ts';
