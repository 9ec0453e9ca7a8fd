import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../core/errors.ts';
import { keyStrengthBits, MIN_KEY_BITS } from '../daemon/config.ts';
import { DEFAULT_JETSTREAM_OPTIONS, type JetStreamOptions } from './jetstream.ts';
import { DEFAULT_LEASE_OPTIONS, type LeaseOptions } from './lease.ts';
import { isValidVesselName } from './subjects.ts';
import type { SbdDirectIpOptions } from './sbd-terminator.ts';

/** One link terminator of the gateway (edge/gateway.yaml `terminators`). */
export interface TerminatorConfig {
  /**
   * `ws`: WebSocket (`listen: HOST:PORT`); `udp`: one UDP socket for every vessel (`listen:
   * udp://HOST:PORT`); `kiss`: our own TNC (`listen: kiss+tcp://HOST:PORT` or `kiss:/dev/DEVICE`,
   * in `url`). `udp` and `kiss` need `vessels` with keys. `sbd-directip`: Iridium SBD's DirectIP MO
   * server (`listen: HOST:PORT`, `allow_from`: Iridium's source addresses), needs `vessels` with `imei`.
   */
  kind: 'ws' | 'udp' | 'kiss' | 'sbd-directip';
  host: string;
  port: number;
  /** `kiss`: the TNC's URL. */
  url?: string;
  /** `sbd-directip`: allow_from, read_timeout_ms, store_timeout_ms, mt_server, mt_retry_ms (src/gateway/sbd-terminator.ts). */
  sbd?: Pick<SbdDirectIpOptions, 'allowFrom'> & Partial<Pick<SbdDirectIpOptions, 'readTimeoutMs' | 'storeTimeoutMs' | 'mtServer' | 'mtRetryMs'>>;
}

/** The workers this node runs. */
export interface WorkersConfig {
  /** Workers in this process (0: a terminator-only node). Scale out with more processes/machines, one worker each. */
  count: number;
  maxSessions: number;
  /** TTS engine id: auto | hts | flite | tone (tone: plumbing tests). */
  tts: string;
  outputRateHz: number;
  /** Shore→ship: the recognizer (engine id, as the edge daemon's `engines.asr`). */
  asr: string;
  /** Shore→ship: text coding (`lm`, the default, needs the text model; `utf8`). */
  text: 'lm' | 'utf8';
  /** Shore→ship: codec mode. */
  mode: 'minimal' | 'balanced' | 'high';
}

export interface GatewayConfig {
  nats: Pick<JetStreamOptions, 'servers' | 'storage' | 'replicas'>;
  terminators: TerminatorConfig[];
  /** Vessel name → pre-shared key; empty = plain links (vessel named by the URL path). */
  vessels: Map<string, string>;
  /** Iridium modem IMEI → vessel name (`vessels[].imei`): whose SBD messages DirectIP delivers. */
  imeis: Map<string, string>;
  workers: WorkersConfig;
  lease: LeaseOptions;
  /** `shore.listen: HOST:PORT`: the shore clients' page and speech (src/gateway/shore-http.ts); absent = none on this node. */
  shore?: { host: string; port: number };
}

export const DEFAULT_WORKERS_CONFIG: Readonly<WorkersConfig> = Object.freeze({ count: 1, maxSessions: 8, tts: 'auto', outputRateHz: 16000, asr: 'pocketsphinx', text: 'lm', mode: 'balanced' });

type Obj = Record<string, unknown>;
const MAX_CONFIG_BYTES = 64 * 1024;

export function loadGatewayConfig(path: string): GatewayConfig {
  let text: string;
  try {
    if (statSync(path).size > MAX_CONFIG_BYTES) throw new ConfigError('too_large', `${path} is larger than ${MAX_CONFIG_BYTES} bytes`);
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError('not_found', `gateway config ${path} cannot be read`);
  }
  return parseGatewayConfig(text, dirname(resolve(path)));
}

/** Parses edge/gateway.yaml; every key is checked (unknown keys are errors). */
export function parseGatewayConfig(text: string, baseDir = '.'): GatewayConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError('invalid_yaml', `gateway config is not valid YAML: ${(err as Error).message}`);
  }
  const root = obj(doc ?? {}, '');
  keys(root, '', ['nats', 'terminators', 'vessels', 'workers', 'lease', 'shore']);
  const n = obj(root.nats ?? {}, 'nats');
  keys(n, 'nats', ['servers', 'storage', 'replicas']);
  const servers = n.servers === undefined ? [...DEFAULT_JETSTREAM_OPTIONS.servers] : list(n.servers, 'nats.servers').map((s, i) => {
    const v = str(s, `nats.servers[${i}]`);
    if (!/^(nats|tls):\/\/[^\s]+$/.test(v)) throw new ConfigError('invalid_value', `nats.servers[${i}] must be a nats:// URL, got '${v}'`);
    return v;
  });
  const storage = n.storage === undefined ? 'file' : choice(n.storage, 'nats.storage', ['file', 'memory'] as const);
  const replicas = n.replicas === undefined ? 1 : int(n.replicas, 'nats.replicas', 1, 5);
  const terminators = list(root.terminators ?? [], 'terminators').map((t, i) => {
    const at = `terminators[${i}]`;
    const o = obj(t, at);
    const kind = choice(o.kind ?? 'ws', `${at}.kind`, ['ws', 'udp', 'kiss', 'sbd-directip'] as const);
    keys(o, at, kind === 'sbd-directip' ? ['kind', 'listen', 'allow_from', 'read_timeout_ms', 'store_timeout_ms', 'mt_server', 'mt_retry_ms'] : ['kind', 'listen']);
    if (kind === 'sbd-directip') {
      if (o.allow_from === undefined) throw new ConfigError('missing', `${at}.allow_from: name Iridium's DirectIP source addresses (DirectIP itself authenticates no one)`);
      const allowFrom = list(o.allow_from, `${at}.allow_from`).map((a, j) => {
        const v = str(a, `${at}.allow_from[${j}]`);
        if (isIP(v) === 0) throw new ConfigError('invalid_value', `${at}.allow_from[${j}] must be an IP address (Iridium's DirectIP servers), got '${v}'`);
        return v;
      });
      if (allowFrom.length === 0) throw new ConfigError('missing', `${at}.allow_from: name Iridium's DirectIP source addresses (DirectIP itself authenticates no one)`);
      const m = /^(.*):(\d{1,5})$/.exec(str(o.listen, `${at}.listen`));
      if (!m || Number(m[2]) > 65535) throw new ConfigError('invalid_value', `${at}.listen must be HOST:PORT`);
      let mtServer: { host: string; port: number } | undefined;
      if (o.mt_server !== undefined) {
        const mm = /^(.*):(\d{1,5})$/.exec(str(o.mt_server, `${at}.mt_server`));
        if (!mm || !mm[1] || Number(mm[2]) > 65535 || Number(mm[2]) === 0) throw new ConfigError('invalid_value', `${at}.mt_server must be HOST:PORT (Iridium's DirectIP MT server)`);
        mtServer = { host: mm[1].replace(/^\[|\]$/g, ''), port: Number(mm[2]) };
      }
      const ms = (key: string, min: number, max: number) => (o[key] === undefined ? undefined : int(o[key], `${at}.${key}`, min, max));
      const optional = { readTimeoutMs: ms('read_timeout_ms', 100, 600_000), storeTimeoutMs: ms('store_timeout_ms', 100, 600_000), mtServer, mtRetryMs: ms('mt_retry_ms', 100, 3_600_000) };
      const sbd = { allowFrom, ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)) };
      return { kind, host: m[1]!.replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(m[2]), sbd };
    }
    if (kind === 'kiss') {
      const url = str(o.listen, `${at}.listen`);
      if (!/^kiss\+tcp:\/\/[^\s/]+:\d{1,5}\/?$/i.test(url) && !/^kiss:\/\S+$/i.test(url)) throw new ConfigError('invalid_value', `${at}.listen must be kiss+tcp://HOST:PORT or kiss:/dev/DEVICE, got '${url}'`);
      return { kind, host: '', port: 0, url };
    }
    const m = /^(.*):(\d{1,5})$/.exec(str(o.listen, `${at}.listen`).replace(kind === 'udp' ? /^udp:\/\//i : /^ws:\/\//i, ''));
    if (!m || Number(m[2]) > 65535) throw new ConfigError('invalid_value', `${at}.listen must be ${kind === 'udp' ? 'udp://' : ''}HOST:PORT`);
    return { kind, host: m[1]!.replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(m[2]) };
  });
  const vessels = new Map<string, string>();
  const imeis = new Map<string, string>();
  const names = new Set<string>();
  list(root.vessels ?? [], 'vessels').forEach((v, i) => {
    const at = `vessels[${i}]`;
    const o = obj(v, at);
    keys(o, at, ['name', 'psk', 'psk_file', 'imei']);
    const name = str(o.name, `${at}.name`);
    if (!isValidVesselName(name)) throw new ConfigError('invalid_value', `${at}.name '${name}': letters, digits, - and _ only (it is a NATS subject token)`);
    if (vessels.has(name) || names.has(name)) throw new ConfigError('invalid_value', `${at}.name '${name}' appears twice`);
    names.add(name);
    if (o.imei !== undefined) {
      const imei = typeof o.imei === 'number' ? String(o.imei) : str(o.imei, `${at}.imei`);
      if (!/^\d{15}$/.test(imei)) throw new ConfigError('invalid_value', `${at}.imei must be the modem's 15-digit IMEI (quote it in YAML), got '${imei}'`);
      if (imeis.has(imei)) throw new ConfigError('invalid_value', `${at}.imei ${imei} is also ${imeis.get(imei)}'s`);
      imeis.set(imei, name);
    }
    // An SBD-only vessel (imei, no key) has no link to authenticate.
    if (o.imei === undefined || o.psk !== undefined || o.psk_file !== undefined) vessels.set(name, psk(o, at, baseDir));
  });
  // A UDP datagram names no vessel: only the Noise handshake (a vessel's own key) can say who sent it.
  const udpAt = terminators.findIndex((t) => t.kind === 'udp' || t.kind === 'kiss');
  if (udpAt >= 0 && vessels.size === 0) throw new ConfigError('invalid_value', `terminators[${udpAt}]: a ${terminators[udpAt]!.kind} terminator needs vessels with keys (a datagram names no vessel; the handshake does)`);
  const sbdAt = terminators.findIndex((t) => t.kind === 'sbd-directip');
  if (sbdAt >= 0 && imeis.size === 0) throw new ConfigError('invalid_value', `terminators[${sbdAt}]: an sbd-directip terminator needs vessels with an imei (DirectIP names the sending modem by IMEI)`);
  const w = obj(root.workers ?? {}, 'workers');
  keys(w, 'workers', ['count', 'max_sessions', 'tts', 'output_rate_hz', 'asr', 'text', 'mode']);
  const workers: WorkersConfig = {
    count: w.count === undefined ? DEFAULT_WORKERS_CONFIG.count : int(w.count, 'workers.count', 0, 64),
    maxSessions: w.max_sessions === undefined ? DEFAULT_WORKERS_CONFIG.maxSessions : int(w.max_sessions, 'workers.max_sessions', 1, 1000),
    tts: w.tts === undefined ? DEFAULT_WORKERS_CONFIG.tts : str(w.tts, 'workers.tts'),
    outputRateHz: w.output_rate_hz === undefined ? DEFAULT_WORKERS_CONFIG.outputRateHz : int(w.output_rate_hz, 'workers.output_rate_hz', 8000, 48000),
    asr: w.asr === undefined ? DEFAULT_WORKERS_CONFIG.asr : str(w.asr, 'workers.asr'),
    text: w.text === undefined ? DEFAULT_WORKERS_CONFIG.text : choice(w.text, 'workers.text', ['lm', 'utf8'] as const),
    mode: w.mode === undefined ? DEFAULT_WORKERS_CONFIG.mode : choice(w.mode, 'workers.mode', ['minimal', 'balanced', 'high'] as const),
  };
  const l = obj(root.lease ?? {}, 'lease');
  keys(l, 'lease', ['ttl_ms', 'heartbeat_ms']);
  const lease: LeaseOptions = {
    ttlMs: l.ttl_ms === undefined ? DEFAULT_LEASE_OPTIONS.ttlMs : int(l.ttl_ms, 'lease.ttl_ms', 500, 600_000),
    heartbeatMs: l.heartbeat_ms === undefined ? DEFAULT_LEASE_OPTIONS.heartbeatMs : int(l.heartbeat_ms, 'lease.heartbeat_ms', 100, 300_000),
  };
  if (lease.heartbeatMs * 2 > lease.ttlMs) throw new ConfigError('invalid_value', `lease.heartbeat_ms (${lease.heartbeatMs}) must be at most half of lease.ttl_ms (${lease.ttlMs})`);
  let shore: { host: string; port: number } | undefined;
  if (root.shore !== undefined) {
    const so = obj(root.shore, 'shore');
    keys(so, 'shore', ['listen']);
    const m = /^(.*):(\d{1,5})$/.exec(str(so.listen, 'shore.listen'));
    if (!m || Number(m[2]) > 65535) throw new ConfigError('invalid_value', 'shore.listen must be HOST:PORT');
    shore = { host: m[1]!.replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(m[2]) };
  }
  return { nats: { servers, storage, replicas }, terminators, vessels, imeis, workers, lease, ...(shore ? { shore } : {}) };
}

function psk(o: Obj, at: string, baseDir: string): string {
  if ((o.psk === undefined) === (o.psk_file === undefined)) throw new ConfigError('missing', `${at}: give psk or psk_file (exactly one)`);
  let value: string;
  if (o.psk !== undefined) value = str(o.psk, `${at}.psk`);
  else {
    const path = resolve(baseDir, str(o.psk_file, `${at}.psk_file`));
    try {
      const st = statSync(path);
      if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) throw new ConfigError('invalid_value', `${at}.psk_file ${path} is readable by group or others; run chmod 600 ${path}`);
      value = readFileSync(path, 'utf8').trim();
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError('not_found', `${at}.psk_file ${path} cannot be read`);
    }
  }
  const bits = keyStrengthBits(value);
  if (bits < MIN_KEY_BITS) throw new ConfigError('invalid_value', `${at}: the key carries ${bits} bits; at least ${MIN_KEY_BITS} are needed (openssl rand -hex 32)`);
  return value;
}

function obj(v: unknown, at: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError('invalid_value', `${at || 'the config'} must be a mapping`);
  return v as Obj;
}
function list(v: unknown, at: string): unknown[] {
  if (!Array.isArray(v)) throw new ConfigError('invalid_value', `${at} must be a list`);
  return v;
}
function keys(o: Obj, at: string, allowed: string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new ConfigError('unknown_key', `unknown key ${at ? `${at}.` : ''}${k} (allowed: ${allowed.join(', ')})`, { key: k });
}
function str(v: unknown, at: string): string {
  if (typeof v !== 'string' || v === '') throw new ConfigError(v === undefined ? 'missing' : 'invalid_value', `${at} must be a non-empty string`);
  return v;
}
function int(v: unknown, at: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ConfigError('invalid_value', `${at} must be an integer ${min}–${max}`);
  return v;
}
function choice<T extends string>(v: unknown, at: string, choices: readonly T[]): T {
  if (typeof v !== 'string' || !choices.includes(v as T)) throw new ConfigError('invalid_value', `${at} must be one of ${choices.join(', ')}`);
  return v as T;
}
