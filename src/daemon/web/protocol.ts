/**
 * The browser page's control WebSocket (issue #8). Text messages are JSON; binary messages are
 * 16 kHz mono s16le PCM (WebSocket-PCM fallback only: browser mic up, received speech down).
 * Every message is size-checked and validated here; nothing else parses client input.
 */
import { TransportError } from '../../core/errors.ts';
import type { DaemonEvent } from '../types.ts';

/** How audio travels between the page and the daemon. */
export type AudioTransportKind = 'webrtc' | 'ws';
/** What the page asks for: `auto` = WebRTC when mediasoup is available, else WebSocket PCM. */
export type AudioTransportRequest = AudioTransportKind | 'auto';
/** Push-to-talk (the mic passes only while `talk` is on) or hands-free (always on). */
export type TalkMode = 'ptt' | 'hands-free';

export type SignalMethod = 'connectTransport' | 'produce' | 'consume' | 'resumeConsumer';

export type ClientMessage =
  | { type: 'hello'; transport: AudioTransportRequest; mode: TalkMode; peer?: string }
  | { type: 'talk'; on: boolean }
  | { type: 'request'; id: number; method: SignalMethod; data: Record<string, unknown> };

/** JSON parameters of a mediasoup WebRtcTransport that the page needs to create its side. */
export interface TransportParams {
  id: string;
  iceParameters: unknown;
  iceCandidates: unknown;
  dtlsParameters: unknown;
}

export type ServerMessage =
  | {
      type: 'welcome';
      clientId: string;
      transport: AudioTransportKind;
      /** Why WebRTC is not used (when `transport` is `ws`). */
      reason?: string;
      /** PCM rate of binary messages (ws transport). */
      sampleRateHz: number;
      routerRtpCapabilities?: unknown;
      sendTransport?: TransportParams;
      recvTransport?: TransportParams;
    }
  | { type: 'response'; id: number; ok: true; data: unknown }
  | { type: 'response'; id: number; ok: false; error: { code: string; message: string } }
  | { type: 'event'; event: DaemonEvent }
  | { type: 'ended'; reason: string };

/** Sample rate of binary PCM messages both ways. */
export const WS_PCM_RATE_HZ = 16_000;

const METHODS: ReadonlySet<string> = new Set(['connectTransport', 'produce', 'consume', 'resumeConsumer']);

function fail(message: string): never {
  throw new TransportError('protocol', message);
}

/**
 * Parses one text message. Throws `TransportError` `too_large` above `maxBytes`, `protocol` for
 * anything that is not a well-formed {@link ClientMessage}.
 */
export function parseClientMessage(text: string, maxBytes: number): ClientMessage {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) throw new TransportError('too_large', `control message of ${bytes} bytes (max ${maxBytes})`, { bytes, maxBytes });
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    fail('control message is not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('control message is not a JSON object');
  const m = v as Record<string, unknown>;
  switch (m['type']) {
    case 'hello': {
      const transport = m['transport'] ?? 'auto';
      if (transport !== 'auto' && transport !== 'webrtc' && transport !== 'ws') fail(`unknown transport '${String(transport)}'`);
      const mode = m['mode'] ?? 'hands-free';
      if (mode !== 'ptt' && mode !== 'hands-free') fail(`unknown mode '${String(mode)}'`);
      const peer = m['peer'];
      if (peer !== undefined && (typeof peer !== 'string' || peer.length > 128)) fail('peer must be a string of at most 128 characters');
      return peer === undefined ? { type: 'hello', transport, mode } : { type: 'hello', transport, mode, peer };
    }
    case 'talk':
      if (typeof m['on'] !== 'boolean') fail('talk.on must be a boolean');
      return { type: 'talk', on: m['on'] };
    case 'request': {
      const id = m['id'];
      if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) fail('request.id must be a non-negative integer');
      const method = m['method'];
      if (typeof method !== 'string' || !METHODS.has(method)) fail(`unknown request method '${String(method)}'`);
      const data = m['data'] ?? {};
      if (typeof data !== 'object' || data === null || Array.isArray(data)) fail('request.data must be an object');
      return { type: 'request', id, method: method as SignalMethod, data: data as Record<string, unknown> };
    }
    default:
      return fail(`unknown control message type '${String(m['type'])}'`);
  }
}

/**
 * Checks one binary PCM message (16 kHz s16le) and returns its samples (copied, so the socket's
 * buffer can be reused). Throws `TransportError` `too_large` or `protocol` (odd byte count).
 */
export function parsePcmMessage(data: Uint8Array, maxBytes: number): Int16Array {
  if (data.length > maxBytes) throw new TransportError('too_large', `audio message of ${data.length} bytes (max ${maxBytes})`, { bytes: data.length, maxBytes });
  if (data.length % 2 !== 0) fail(`audio message of ${data.length} bytes is not whole 16-bit samples`);
  const pcm = new Int16Array(data.length / 2);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < pcm.length; i++) pcm[i] = view.getInt16(2 * i, true);
  return pcm;
}

/** Encodes s16 samples as a little-endian binary message. */
export function encodePcmMessage(pcm: Int16Array): Uint8Array {
  const out = new Uint8Array(pcm.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < pcm.length; i++) view.setInt16(2 * i, pcm[i] as number, true);
  return out;
}
