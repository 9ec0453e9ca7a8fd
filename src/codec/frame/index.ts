export * from './types.ts';
export { encodeFrameBody, decodeFrameBody } from './frame-codec.ts';
export * from './stream.ts';
export * from './json.ts';
