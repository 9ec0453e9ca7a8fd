import type { IncomingMessage, ServerResponse } from 'node:http';
import { AudioError, DecodeError, EncodeError, InvalidStateError, StctsError, TransportError } from '../core/errors.ts';
import { JournalError } from '../transport/journal/index.ts';
import { readBody } from './http-body.ts';
import type { SbdPeer } from './sbd-peer.ts';

export interface SbdHttpOptions {
  /** Largest WAV body accepted, bytes (413 beyond). Default 8 MiB: over 4 min of 16 kHz 16-bit mono, more than 16 SBD parts hold. */
  maxWavBytes: number;
}

export const DEFAULT_SBD_HTTP_OPTIONS: Readonly<SbdHttpOptions> = Object.freeze({ maxWavBytes: 8 * 1024 * 1024 });

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body) + '\n');
}

function error(res: ServerResponse, status: number, code: string, message: string): void {
  json(res, status, { error: { code, message } });
}

/** HTTP status of an enqueue failure: the client's fault (400/413), the box's state (507/503), or a bug (500). */
function statusOf(err: unknown): number {
  if (err instanceof TransportError && err.code === 'overflow') return err.details?.busy ? 503 : 413;
  if (err instanceof InvalidStateError) return 503;
  if ((err instanceof EncodeError || err instanceof AudioError) && err.code === 'too_large') return 413;
  if (err instanceof AudioError || err instanceof DecodeError || err instanceof EncodeError) return 400;
  if (err instanceof JournalError) return err.code === 'full' ? 507 : 503;
  return 500;
}

/**
 * The voice-message routes of the daemon's HTTP server (issue #16 item 4):
 * - `POST /messages?peer=NAME` with a WAV body: 202 `{seq, messageId, parts, bytes, speechSeconds,
 *   transcript}` once the message is journalled (it will be sent across restarts); 413 body or
 *   message too large, 400 not a WAV, 404 unknown peer, 503 busy coding other recordings or
 *   closing, 507 queue full; errors are `{error: {code, message}}`.
 * - `GET /messages?peer=NAME`: the peer's queue and receive status (without `peer`: every peer).
 * Resolves false when the request is not for `/messages` (the caller routes it elsewhere).
 */
export function sbdHttpHandler(peers: ReadonlyMap<string, SbdPeer> | readonly SbdPeer[], options: Partial<SbdHttpOptions> = {}): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const o = { ...DEFAULT_SBD_HTTP_OPTIONS, ...options };
  const byName = peers instanceof Map ? peers : new Map((peers as readonly SbdPeer[]).map((p) => [p.name, p]));
  return async (req, res) => {
    const u = new URL(req.url ?? '/', 'http://local');
    if (u.pathname !== '/messages') return false;
    const name = u.searchParams.get('peer');
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (name === null) {
        json(res, 200, { peers: [...byName.values()].map((p) => p.stats()) });
        return true;
      }
      const peer = byName.get(name);
      if (!peer) error(res, 404, 'unknown_peer', `no SBD peer named '${name}' (known: ${[...byName.keys()].join(', ') || 'none'})`);
      else json(res, 200, peer.stats());
      return true;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'GET, POST' }).end();
      return true;
    }
    const peer = name === null ? undefined : byName.get(name);
    if (!peer) {
      req.resume();
      error(res, 404, 'unknown_peer', `give the peer as ?peer=NAME, one of: ${[...byName.keys()].join(', ') || 'none'}`);
      return true;
    }
    try {
      const body = await readBody(req, o.maxWavBytes);
      if (body.length === 0) throw new AudioError('empty', 'the request body is empty: POST the recording as a WAV file');
      const r = await peer.enqueueWav(new Uint8Array(body.buffer, body.byteOffset, body.length));
      json(res, 202, r);
    } catch (err) {
      const status = statusOf(err);
      const code = err instanceof StctsError ? err.code : 'internal';
      error(res, status, code, status === 500 ? 'internal error; see the daemon log' : (err as Error).message);
      if (status === 413) res.once('finish', () => req.destroy());
    }
    return true;
  };
}
