/** The daemon's browser client: page, WebRTC through mediasoup, WebSocket-PCM fallback (issue #8). */
export * from './server.ts';
export * from './protocol.ts';
export * from './web-endpoint.ts';
export { locateMediasoupWorker, loadMediasoup, builtWorkerPath, type MediasoupWorkerLocation, type WorkerSource } from './mediasoup-loader.ts';
export { DEFAULT_MEDIASOUP_SERVICE_OPTIONS, type MediasoupServiceOptions } from './mediasoup-service.ts';
