import { WebSocket, WebSocketServer } from 'ws';
import { TransportError } from '../core/errors.ts';
import { decodePacket, MAX_PACKET_BYTES } from './packet.ts';
import type { LinkSession, PacketPort } from './link-session.ts';

/** A WebSocket as a packet port: one binary message = one link packet. */
export class WebSocketPort implements PacketPort {
  constructor(private readonly ws: WebSocket) {}
  get connected(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }
  send(packet: Uint8Array): void {
    if (this.connected) this.ws.send(packet);
  }
}

export interface ServerOptions {
  host: string;
  port: number;
  /** Called for each new session id (first packet of a new peer); returns its LinkSession. */
  sessionFor: (sessionId: number) => LinkSession;
  onError?: (err: TransportError) => void;
}

/**
 * Listens for peers. Sessions are keyed by the session id in the first frame of the first packet,
 * and survive reconnects: a peer that comes back with the same session id resumes where it was.
 */
export async function listenLink(options: ServerOptions): Promise<{ close(): Promise<void>; port: number }> {
  const sessions = new Map<number, LinkSession>();
  const wss = new WebSocketServer({ host: options.host, port: options.port, maxPayload: MAX_PACKET_BYTES });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', (e) => reject(new TransportError('refused', `cannot listen on ${options.host}:${options.port}: ${e.message}`)));
  });
  wss.on('connection', (ws) => {
    const port = new WebSocketPort(ws);
    let session: LinkSession | undefined;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        options.onError?.(new TransportError('protocol', 'text message on the link; closing'));
        ws.close(1003);
        return;
      }
      const bytes = new Uint8Array(data);
      if (!session) {
        const id = peekSessionId(bytes);
        if (id === undefined) return;
        session = sessions.get(id) ?? options.sessionFor(id);
        sessions.set(id, session);
        session.attach(port);
      }
      void session.onPacket(bytes);
    });
    ws.on('close', () => session?.detach());
    ws.on('error', (e) => options.onError?.(new TransportError('protocol', e.message)));
  });
  const address = wss.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    close: () => new Promise<void>((resolve) => {
      for (const c of wss.clients) c.terminate();
      wss.close(() => resolve());
    }),
  };
}


function peekSessionId(bytes: Uint8Array): number | undefined {
  return decodePacket(bytes).frames[0]?.sessionId;
}

/**
 * Connects a session to a peer and keeps it connected: on close or error it reconnects with
 * exponential back-off (capped), re-attaching the same LinkSession so the transfer resumes.
 */
export function connectLink(url: string, session: LinkSession, options: { maxBackoffMs?: number; onState?: (s: 'connected' | 'disconnected') => void } = {}): { close(): void } {
  let stopped = false;
  let backoff = 250;
  let ws: WebSocket | undefined;
  let retry: NodeJS.Timeout | undefined;
  const connect = () => {
    if (stopped) return;
    ws = new WebSocket(url, { maxPayload: MAX_PACKET_BYTES });
    ws.binaryType = 'nodebuffer';
    ws.on('open', () => {
      backoff = 250;
      session.attach(new WebSocketPort(ws!));
      options.onState?.('connected');
    });
    ws.on('message', (data: Buffer) => void session.onPacket(new Uint8Array(data)));
    ws.on('close', () => {
      session.detach();
      options.onState?.('disconnected');
      if (!stopped) {
        retry = setTimeout(connect, backoff);
        backoff = Math.min(options.maxBackoffMs ?? 5000, backoff * 2);
      }
    });
    ws.on('error', () => {});
  };
  connect();
  return {
    close() {
      stopped = true;
      if (retry) clearTimeout(retry);
      ws?.close();
    },
  };
}
