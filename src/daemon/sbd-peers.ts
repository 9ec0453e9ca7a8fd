import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TextModel } from '../codec/text/index.ts';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { PeerConfig } from './config.ts';
import { sbdHttpHandler } from './sbd-http.ts';
import { startSbdPeer, type ReceivedVoiceMessage, type SbdPeer, type SbdPeerOptions } from './sbd-peer.ts';
import { isSbdUrl } from './sbd-url.ts';

/** The daemon's SBD peers (the `sbd:` ones of `peers`), their HTTP routes and one close(). */
export interface SbdPeerSet {
  readonly peers: ReadonlyMap<string, SbdPeer>;
  /** `POST/GET /messages?peer=NAME`; resolves false for other paths (see sbdHttpHandler). */
  handleRequest(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts one {@link startSbdPeer} per `sbd:` peer of the config (none: an empty set whose handler
 * answers nothing). `stateDir` is required when there is one (config.ts checks it too).
 */
export async function startSbdPeers(o: {
  peers: readonly PeerConfig[];
  stateDir: string | undefined;
  log: Logger;
  textModel?: TextModel;
  /** Largest WAV accepted by POST /messages, bytes (limits.wav_bytes). */
  maxWavBytes?: number;
  onMessage?: (m: ReceivedVoiceMessage) => void;
  /** Per-peer overrides (tests: short back-off, a fake decoder). */
  peerOptions?: Partial<SbdPeerOptions>;
}): Promise<SbdPeerSet> {
  const peers = new Map<string, SbdPeer>();
  const sbd = o.peers.filter((p) => isSbdUrl(p.url));
  if (sbd.length > 0 && o.stateDir === undefined) throw new ConfigError('invalid_value', `peer '${sbd[0]!.name}' is an sbd: peer: set state_dir`);
  try {
    for (const pc of sbd) {
      peers.set(pc.name, await startSbdPeer({ ...o.peerOptions, name: pc.name, url: pc.url!, stateDir: o.stateDir!, log: o.log, ...(o.textModel ? { textModel: o.textModel } : {}), ...(o.onMessage ? { onMessage: o.onMessage } : {}) }));
    }
  } catch (err) {
    for (const p of peers.values()) await p.close();
    throw err;
  }
  const handler = sbdHttpHandler(peers, o.maxWavBytes !== undefined ? { maxWavBytes: o.maxWavBytes } : {});
  let closing: Promise<void> | undefined;
  return {
    peers,
    handleRequest: (req, res) => (peers.size === 0 ? Promise.resolve(false) : handler(req, res)),
    close: () => (closing ??= Promise.all([...peers.values()].map((p) => p.close())).then(() => {})),
  };
}
