export * from './types.ts';
export * from './config.ts';
export * from './daemon.ts';
export type { DaemonSnapshot, PeerSnapshot } from './daemon-metrics.ts';
export * from './wav-endpoint.ts';
export * from './http-body.ts';
export { PeerLink, classifyPacket, type PeerState, type WireClass } from './peer-link.ts';
