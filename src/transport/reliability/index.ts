export * from './classes.ts';
export * from './sender.ts';
export * from './receiver.ts';
export * from './pacer.ts';
