import { connect, DiscardPolicy, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager, type KV, type NatsConnection } from 'nats';
import { TransportError } from '../core/errors.ts';
import { CALLS_BUCKET, DOWN_PREFIX, DOWN_STREAM, LEASES_BUCKET, MO_BUCKET, MO_PREFIX, MO_STREAM, PCM_PREFIX, PCM_STREAM, TALK_PREFIX, TALK_STREAM, UP_PREFIX, UP_STREAM } from './subjects.ts';

/** How the gateway uses JetStream. */
export interface JetStreamOptions {
  /** nats:// URLs of the cluster (any node; the client fails over). */
  servers: string[];
  /** Window in which a republished message id is stored once, ms. Default 10 min (covers a server restart and the terminator's retries). */
  duplicateWindowMs: number;
  /** How long a session's frames and speech are kept, ms. Default 24 h. */
  maxAgeMs: number;
  /** Stream storage: `file` survives a server restart (default), `memory` for throwaway setups. */
  storage: 'file' | 'memory';
  /** Replicas of each stream and bucket (1 on a single server; 3 on a 3-node cluster). */
  replicas: number;
  /** Name of this client in the server's connection list. */
  name: string;
}

export const DEFAULT_JETSTREAM_OPTIONS: Readonly<JetStreamOptions> = Object.freeze({
  servers: ['nats://127.0.0.1:4222'],
  duplicateWindowMs: 10 * 60_000,
  maxAgeMs: 24 * 3600_000,
  storage: 'file',
  replicas: 1,
  name: 'stcts-gateway',
});

/** A connection with the gateway's streams and buckets in place. */
export interface GatewayJetStream {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  calls: KV;
  leases: KV;
  /** Completed SBD voice messages per vessel and message id (src/gateway/sbd-terminator.ts). */
  mo: KV;
  close(): Promise<void>;
}

const ns = (ms: number) => ms * 1_000_000;

/**
 * Connects (retrying for ever on disconnects: a server restart is a pause, not an error) and
 * creates the streams and buckets when missing (idempotent: every node may do it at start).
 */
export async function openJetStream(options: Partial<JetStreamOptions> = {}): Promise<GatewayJetStream> {
  const o = { ...DEFAULT_JETSTREAM_OPTIONS, ...options };
  // The first connect fails fast (a wrong URL, no server); once connected, reconnects never give up.
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: o.servers, name: o.name, maxReconnectAttempts: -1, reconnectTimeWait: 250, timeout: 5000 });
  } catch (err) {
    throw new TransportError('refused', `cannot reach NATS at ${o.servers.join(', ')}: ${(err as Error).message} (start nats-server -js)`, undefined, { cause: err });
  }
  const jsm = await nc.jetstreamManager();
  const storage = o.storage === 'file' ? StorageType.File : StorageType.Memory;
  const stream = async (name: string, subjects: string[]) => {
    const cfg = { name, subjects, storage, num_replicas: o.replicas, retention: RetentionPolicy.Limits, discard: DiscardPolicy.Old, duplicate_window: ns(o.duplicateWindowMs), max_age: ns(o.maxAgeMs) };
    try {
      await jsm.streams.info(name);
    } catch {
      await jsm.streams.add(cfg);
    }
  };
  await stream(UP_STREAM, [`${UP_PREFIX}.>`]);
  await stream(PCM_STREAM, [`${PCM_PREFIX}.>`]);
  await stream(TALK_STREAM, [`${TALK_PREFIX}.>`]);
  await stream(DOWN_STREAM, [`${DOWN_PREFIX}.>`]);
  await stream(MO_STREAM, [`${MO_PREFIX}.>`]);
  const js = nc.jetstream();
  const calls = await js.views.kv(CALLS_BUCKET, { history: 1, storage, replicas: o.replicas, ttl: o.maxAgeMs });
  const leases = await js.views.kv(LEASES_BUCKET, { history: 1, storage, replicas: o.replicas });
  const mo = await js.views.kv(MO_BUCKET, { history: 1, storage, replicas: o.replicas, ttl: o.maxAgeMs });
  let closed = false;
  return {
    nc, js, jsm, calls, leases, mo,
    async close() {
      if (closed) return;
      closed = true;
      await nc.drain().catch(() => nc.close());
    },
  };
}

/** Longest a key listing may take, ms: {@link listKeys}. */
export const LIST_KEYS_TIMEOUT_MS = 3000;

/**
 * The keys of a bucket, or a TransportError `timeout` after `timeoutMs`. nats-server 2.9's key
 * listing can block for good while keys are being deleted (nats-server issue 3481); every scan
 * of the registry goes through here so a blocked listing costs one scan, not the loop.
 */
export async function listKeys(kv: KV, timeoutMs = LIST_KEYS_TIMEOUT_MS): Promise<string[]> {
  const it = await kv.keys();
  const out: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        for await (const k of it) out.push(k);
      })(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TransportError('timeout', `listing the keys of a JetStream bucket took over ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    it.stop();
  }
  return out;
}
