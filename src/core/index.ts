export * from './errors.ts';
export * from './queue.ts';
