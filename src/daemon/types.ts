/**
 * Contract between the edge daemon's core (calls, peers over the live link, metrics) and its
 * local-client side (browser page, WebRTC through mediasoup or WebSocket-PCM fallback, WAV loops).
 * Issue #8. The core never knows how audio reaches a local client; a local client never knows
 * about the satellite link.
 */

/** Something the daemon tells a local client about (shown live in the browser page). */
export type DaemonEvent =
  /** A phrase recognized from this client's microphone and sent to the peer (the wire text). */
  | { type: 'transcript'; direction: 'out'; text: string; atMs: number }
  /** A phrase received from the peer (before or while it is spoken). */
  | { type: 'transcript'; direction: 'in'; text: string; atMs: number }
  /** Link to the peer: state and what it uses, bits per second on the wire over the last 10 s. */
  /**
   * Link to the peer: state and what it uses, bits per second on the wire over the last 10 s; its
   * type (`ws`, `udp`, `kiss`), the ARQ's retransmission timeout (from the measured RTT; absent
   * before a sample) and the share of the peer's packets lost on the way to us.
   */
  | { type: 'link'; peer: string; state: 'connected' | 'connecting' | 'disconnected'; bitsPerSecondOut: number; bitsPerSecondIn: number; bitsOutTotal: number; bitsInTotal: number; kind?: string; rtoMs?: number; lossIn?: number }
  /** One of this client's phrases on its way (issue #14): queued → sent (first transmission) → acknowledged by the peer. */
  | { type: 'phrase'; session: number; seq: number; state: 'queued' | 'sent' | 'acknowledged'; text: string; atMs: number }
  | { type: 'error'; code: string; message: string };

/**
 * One connected local user (a browser tab, or a WAV file looped for a soak test). Created by the
 * local-client side and handed to {@link LocalEndpointHost.attach}; the daemon runs a sender pipeline
 * on `mic` and plays what the peer says through `play`.
 */
export interface LocalEndpoint {
  /** Unique while attached; used in logs and metrics labels. */
  readonly id: string;
  /** Microphone: 16 kHz mono signed 16-bit PCM chunks (any length, ~20–100 ms). Ends when the user leaves. */
  readonly mic: AsyncIterable<Int16Array>;
  /**
   * Plays received speech (mono, any rate). Resolves when the endpoint has accepted it (its own
   * bounded buffer has room): this is the daemon's backpressure.
   */
  play(samples: Float32Array, sampleRateHz: number): Promise<void>;
  /** Live information for the user; must not block (drop if the client is slow). */
  event(e: DaemonEvent): void;
  /** Idempotent. */
  close(): Promise<void>;
}

/** What the daemon core offers the local-client side. */
export interface LocalEndpointHost {
  /**
   * Starts a call between this endpoint and a peer (`peer` = a peer name from the config; default the
   * first peer). Resolves when the call ends (mic ended or endpoint closed). Rejects with a typed error
   * for an unknown peer.
   */
  attach(endpoint: LocalEndpoint, options?: { peer?: string }): Promise<void>;
}

/**
 * HTTP side of the local clients (static page, WebSocket control/audio, WebRTC signalling). The
 * daemon's HTTP server offers each request and upgrade to it after its own routes (`/healthz`,
 * `/metrics`); `false` means "not mine" (→ 404 / socket destroyed).
 */
export interface LocalClientServer {
  handleRequest(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): boolean;
  handleUpgrade(req: import('node:http').IncomingMessage, socket: import('node:stream').Duplex, head: Buffer): boolean;
  /** Gauges/counters for /metrics (Prometheus text lines, without HELP/TYPE is fine). */
  metricsLines(): string[];
  close(): Promise<void>;
}
