import { hostname } from 'node:os';
import { resample } from '../audio/index.ts';
import type { TtsEngine } from '../engines/tts/types.ts';
import type { AsrEngine } from '../engines/asr/types.ts';
import { loadDefaultTextModel, phraseCodecFactory, profileHashOf } from '../pipeline/codecs.ts';
import type { TextModel } from '../codec/text/index.ts';
import { DownlinkHub } from './downlink.ts';
import { phraseRenderer, timbrePostProcess } from '../pipeline/render.ts';
import type { TransportError } from '../core/errors.ts';
import type { GatewayConfig } from './config.ts';
import { openJetStream, type GatewayJetStream } from './jetstream.ts';
import { startShoreHttp, type ShoreHttp } from './shore-http.ts';
import { listenKissTerminator, listenUdpTerminator, listenWebSocketTerminator, type LinkTerminator } from './terminator.ts';
import { ToneTts } from './tone-tts.ts';
import { UplinkHub } from './uplink.ts';
import { listenSbdDirectIp } from './sbd-terminator.ts';
import { GatewayWorker } from './worker.ts';

/** What this node runs: `all` (terminators and workers), or one of them. */
export type GatewayRole = 'all' | 'terminator' | 'worker';

export interface GatewayNode {
  readonly jet: GatewayJetStream;
  readonly hub: UplinkHub | undefined;
  /** Shore→ship sessions sent to the vessels attached to this node's terminators. */
  readonly downlinks: DownlinkHub | undefined;
  readonly terminators: readonly LinkTerminator[];
  readonly workers: readonly GatewayWorker[];
  /** The shore clients' page (`shore.listen`), when this node serves it. */
  readonly shore: ShoreHttp | undefined;
  close(): Promise<void>;
}

/** Loads a TTS engine by id (`tone`: the plumbing-test voice). */
export async function gatewayTts(id: string): Promise<TtsEngine> {
  if (id === 'tone') return new ToneTts();
  const { createTtsEngine } = await import('../engines/tts/registry.ts');
  return createTtsEngine(id);
}

/** One mutex per worker: synthesis runs one phrase at a time (one engine, one core). */
function makeLock(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>) => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => {});
    return run;
  };
}

/**
 * Starts a gateway node (issue #18): connects to JetStream, creates the streams/buckets if
 * missing, and runs this node's terminators and workers. Nodes share nothing but JetStream.
 */
export async function startGateway(
  config: GatewayConfig,
  o: {
    role?: GatewayRole;
    workerId?: string;
    onError?: (e: TransportError) => void;
    onPhrase?: (sessionId: number, seq: number, replayed: boolean) => void;
    /** A shore→ship phrase coded by a worker of this node. */
    onCoded?: (sessionId: number, seq: number, text: string, replayed: boolean) => void;
    /** The shore→ship recognizer (tests pass a fake); default: `workers.asr` from the registry. */
    createAsr?: () => Promise<AsrEngine>;
    /** The text model for `workers.text: lm` (default: models/text-lm.bin). */
    textModel?: TextModel;
  } = {},
): Promise<GatewayNode> {
  const role = o.role ?? 'all';
  const jet = await openJetStream({ ...config.nats, name: `stcts-gateway-${o.workerId ?? process.pid}` });
  const terminators: LinkTerminator[] = [];
  const workers: GatewayWorker[] = [];
  const engines: TtsEngine[] = [];
  let hub: UplinkHub | undefined;
  let downlinks: DownlinkHub | undefined;
  let shore: ShoreHttp | undefined;
  try {
    if (config.shore) shore = await startShoreHttp(jet, { ...config.shore, vessels: config.vessels, sbdVessels: new Set([...config.imeis.values()].filter((v) => !config.vessels.has(v))) });
    if (role !== 'worker' && config.terminators.length) {
      hub = new UplinkHub(jet.js, jet.jsm, jet.calls);
      downlinks = new DownlinkHub(jet);
      for (const t of config.terminators) {
        const onError = { downlinks, ...(o.onError ? { onError: o.onError } : {}) };
        if (t.kind === 'sbd-directip') {
          terminators.push(await listenSbdDirectIp(jet, { host: t.host, port: t.port, allowFrom: [], ...t.sbd, imeis: config.imeis, ...(o.onError ? { onError: o.onError } : {}) }));
          continue;
        }
        terminators.push(t.kind === 'udp'
          ? await listenUdpTerminator(hub, { host: t.host, port: t.port, vesselKeys: config.vessels, ...onError })
          : t.kind === 'kiss'
            ? await listenKissTerminator(hub, { url: t.url!, vesselKeys: config.vessels, ...onError })
            : await listenWebSocketTerminator(hub, { host: t.host, port: t.port, ...(config.vessels.size ? { vesselKeys: config.vessels } : {}), ...onError }));
      }
    }
    if (role !== 'terminator' && config.workers.count > 0) {
      const textModel = config.workers.text === 'lm' ? (o.textModel ?? (await loadDefaultTextModel())) : undefined;
      const codecFor = await phraseCodecFactory(textModel);
      // Iridium SBD voice messages are always LM-coded, whatever workers.text says.
      let messageModel: Promise<TextModel> | undefined;
      const messageTextModel = () => (messageModel ??= Promise.resolve(textModel ?? o.textModel ?? loadDefaultTextModel()));
      const createAsr = o.createAsr ?? (async () => {
        const { createAsrEngine } = await import('../engines/asr/registry.ts');
        return createAsrEngine(config.workers.asr);
      });
      for (let i = 0; i < config.workers.count; i++) {
        const tts = await gatewayTts(config.workers.tts);
        engines.push(tts);
        const id = `${o.workerId ?? `${hostname()}-${process.pid}`}${config.workers.count > 1 ? `-${i}` : ''}`;
        const w = new GatewayWorker(jet, {
          codecFor,
          tts,
          render: phraseRenderer(tts, { useProsody: true, useSpeaker: true }),
          postProcess: timbrePostProcess({ useProsody: true, useSpeaker: true }),
          resample,
          hashProfile: profileHashOf,
          synthLock: makeLock(),
          outputRateHz: config.workers.outputRateHz,
          maxPartBytes: 512 * 1024,
          retryMs: 250,
          ...(o.onPhrase ? { onPhrase: o.onPhrase } : {}),
          messageTextModel,
          talk: { createAsr, textModel, mode: config.workers.mode, retryMs: 250, ...(o.onCoded ? { onPhrase: o.onCoded } : {}) },
        }, { id, maxSessions: config.workers.maxSessions, lease: config.lease });
        w.start();
        workers.push(w);
      }
    }
  } catch (err) {
    await shore?.close();
    await Promise.all(terminators.map((t) => t.close()));
    downlinks?.close();
    await Promise.all(workers.map((w) => w.close()));
    await jet.close();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    jet, hub, downlinks, terminators, workers, shore,
    close: () => (closing ??= (async () => {
      await shore?.close();
      await Promise.all(terminators.map((t) => t.close()));
      downlinks?.close();
      await Promise.all(workers.map((w) => w.close()));
      await hub?.close();
      await Promise.all(engines.map((e) => e.close()));
      await jet.close();
    })()),
  };
}
