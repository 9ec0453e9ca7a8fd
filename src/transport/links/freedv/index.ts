export * from './modes.ts';
export { codec2AddonBuilt, CODEC2_REMEDY } from './addon.ts';
export * from './modem.ts';
export * from './voice.ts';
export * from './fragments.ts';
export * from './cost.ts';
export * from './audio-port.ts';
export * from './link.ts';
