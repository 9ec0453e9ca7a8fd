export * from './errors.ts';
export * from './queue.ts';
export * from './bytes.ts';
