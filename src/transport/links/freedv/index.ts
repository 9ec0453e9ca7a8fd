export * from './modes.ts';
export { codec2AddonBuilt, CODEC2_REMEDY } from './addon.ts';
export * from './modem.ts';
export * from './voice.ts';
