export * from './types.ts';
export * from './rigctld.ts';
