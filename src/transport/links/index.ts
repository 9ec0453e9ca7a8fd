export * from './types.ts';
export * from './cost.ts';
