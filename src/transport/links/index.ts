export * from './types.ts';
export * from './cost.ts';
export * from './arq-tuning.ts';
export * from './connect.ts';
