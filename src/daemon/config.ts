import { createPrivateKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../core/errors.ts';
import type { CodecMode } from '../codec/frame/index.ts';
import type { LinkOptions } from '../transport/emulator.ts';
import type { LogLevel } from '../core/log.ts';
import { isSbdUrl, parseSbdUrl } from './sbd-url.ts';

/** Largest config file accepted, bytes. */
export const MAX_CONFIG_BYTES = 64 * 1024;
/** Shortest pre-shared key or end-to-end key accepted, bytes (kept for callers; the real check is {@link MIN_KEY_BITS}). */
export const MIN_KEY_BYTES = 16;
/** Least key material a PSK or end-to-end key must carry, bits, counted after hex/base64 decoding (issue #20). */
export const MIN_KEY_BITS = 128;
/** Values the sample config and docs use as placeholders: never accepted as keys. */
const PLACEHOLDER_KEY = /change[-_ ]?me|placeholder|example|your[-_ ]?key|secret-000|^(.)\1+$/i;

/**
 * Bits of key material in a configured key: 4 per hex digit when the whole key is hex, 8 per
 * decoded byte when it is base64 or base64url, 0 for anything else (text passphrases are refused:
 * their strength cannot be counted). Fewer than 8 distinct characters count as 0 (`aaaa…`, `0101…`).
 */
export function keyStrengthBits(key: string): number {
  if (new Set(key).size < 8) return 0;
  if (/^[0-9a-fA-F]+$/.test(key)) return 4 * key.length;
  const b64 = /^[A-Za-z0-9+/]+={0,2}$/.test(key) || /^[A-Za-z0-9_-]+={0,2}$/.test(key);
  if (b64) return 8 * Math.floor((key.replace(/=+$/, '').length * 6) / 8);
  return 0;
}

/** The key's bytes as decoded for comparison (hex, else base64/base64url, else UTF-8). */
function keyBytes(key: string): string {
  if (/^[0-9a-fA-F]+$/.test(key) && key.length % 2 === 0) return Buffer.from(key, 'hex').toString('hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(key)) return Buffer.from(key.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('hex');
  return Buffer.from(key, 'utf8').toString('hex');
}

/** A remote edge box. */
export interface PeerConfig {
  name: string;
  /** ws:// URL this daemon dials (set it on ONE side of a pair); absent = the peer dials us. */
  url?: string;
  /** Pre-shared key for the challenge–response authentication. */
  psk: string;
  /** Budget of the link to this peer, bit/s (the sender paces itself to it). */
  bitsPerSecond: number;
  /**
   * The peer's static X25519 public key, hex (64 digits), to pin: the handshake then stops before
   * sending anything PSK-dependent to a server with another key (issue #20). Optional.
   */
  publicKey?: string;
}

export interface DaemonLimits {
  /** Largest HTTP request body, bytes. */
  httpBodyBytes: number;
  /** Largest WebSocket message on the link, bytes (a sealed link packet). */
  wsMessageBytes: number;
  /** Largest WAV file read (WAV-loop endpoints), bytes. */
  wavBytes: number;
  /** Most local endpoints attached at once. */
  maxCalls: number;
}

/** The daemon's whole configuration (edge/stcts.yaml, documented in edge/README.md). */
export interface DaemonConfig {
  node: string;
  /** Local clients, /healthz, /metrics; with `tls` (PEM certificate chain and key) served over HTTPS/WSS. */
  http: { host: string; port: number; tls?: { cert: string; key: string } };
  /** Where remote edge boxes connect; absent = dial only. */
  link?: { host: string; port: number };
  /** `link.listen: udp://HOST:PORT`: where peers reach us over UDP (issue #14). */
  linkUdp?: { host: string; port: number };
  /** `link.listen: kiss+tcp://…` or `kiss:/dev/…`: our TNC, where peers call us over the radio (issue #14). */
  linkKiss?: string;
  peers: PeerConfig[];
  codec: { mode: CodecMode; text: 'lm' | 'utf8' };
  engines: { asr: string; tts: string };
  /** End-to-end key for the frames; absent = each peer's psk. */
  security: {
    key?: string;
    /** This node's static X25519 private key, hex (from `security.static_key_file`); absent = a fresh key per start (no pinning possible). */
    staticKey?: string;
  };
  limits: DaemonLimits;
  /** Emulated thin link applied to everything this daemon sends (tests and soak runs). */
  emulator?: Partial<LinkOptions>;
  log: { level: LogLevel };
  /**
   * `state_dir`: where the daemon journals what it has accepted and not yet seen acknowledged
   * (issue #16 item 5): outgoing call sessions, incoming sessions, speaker profiles. Absent = in memory
   * only (a restart loses what the peer had not acknowledged).
   */
  stateDir?: string;
}

export const DEFAULT_DAEMON_LIMITS: Readonly<DaemonLimits> = Object.freeze({
  httpBodyBytes: 64 * 1024,
  wsMessageBytes: 8 * 1024,
  wavBytes: 64 * 1024 * 1024,
  maxCalls: 8,
});

type Obj = Record<string, unknown>;

/** Reads and validates a config file; relative `psk_file`/`key_file` paths are relative to it. */
export function loadConfig(path: string): DaemonConfig {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new ConfigError('not_found', `config file ${path} not found; start from edge/stcts.yaml`);
  }
  if (size > MAX_CONFIG_BYTES) throw new ConfigError('too_large', `config file ${path} is ${size} bytes; the limit is ${MAX_CONFIG_BYTES}`);
  return parseConfig(readFileSync(path, 'utf8'), { baseDir: dirname(resolve(path)) });
}

/** Parses and validates config text (YAML). Throws {@link ConfigError} naming the offending key. */
export function parseConfig(text: string, options: { baseDir?: string } = {}): DaemonConfig {
  if (Buffer.byteLength(text) > MAX_CONFIG_BYTES) throw new ConfigError('too_large', `config is larger than ${MAX_CONFIG_BYTES} bytes`);
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 16 });
  } catch (err) {
    throw new ConfigError('invalid_yaml', `config is not valid YAML: ${(err as Error).message}`);
  }
  const baseDir = options.baseDir ?? process.cwd();
  const root = obj(doc, '(root)');
  keys(root, '', ['node', 'http', 'link', 'peers', 'codec', 'engines', 'security', 'limits', 'emulator', 'log', 'state_dir']);
  const http = obj(req(root, 'http', ''), 'http');
  keys(http, 'http', ['listen', 'tls']);
  const tls = http.tls === undefined ? undefined : obj(http.tls, 'http.tls');
  if (tls) keys(tls, 'http.tls', ['cert_file', 'key_file']);
  const link = root.link === undefined ? undefined : obj(root.link, 'link');
  if (link) keys(link, 'link', ['listen']);
  const peersRaw = req(root, 'peers', '');
  if (!Array.isArray(peersRaw)) throw new ConfigError('invalid_value', 'peers must be a list');
  if (peersRaw.length > 64) throw new ConfigError('invalid_value', 'peers: at most 64');
  const peers = peersRaw.map((p, i) => peer(obj(p, `peers[${i}]`), `peers[${i}]`, baseDir));
  const names = new Set<string>();
  for (const p of peers) {
    if (names.has(p.name)) throw new ConfigError('invalid_value', `peers: name '${p.name}' appears twice`);
    names.add(p.name);
  }
  // One key per pair: with a key shared by two peers, either could pose as the other (issue #20).
  const owners = new Map<string, string>();
  for (const p of peers) {
    const k = keyBytes(p.psk);
    const other = owners.get(k);
    if (other !== undefined) throw new ConfigError('invalid_value', `peers '${other}' and '${p.name}' share one psk; give every peer its own key (openssl rand -hex 32)`, { key: `peers.${p.name}.psk`, reason: 'duplicate' });
    owners.set(k, p.name);
  }
  const codec = obj(root.codec ?? {}, 'codec');
  keys(codec, 'codec', ['mode', 'text']);
  const engines = obj(root.engines ?? {}, 'engines');
  keys(engines, 'engines', ['asr', 'tts']);
  const security = obj(root.security ?? {}, 'security');
  keys(security, 'security', ['key', 'key_file', 'static_key_file']);
  const limits = obj(root.limits ?? {}, 'limits');
  keys(limits, 'limits', ['http_body_bytes', 'ws_message_bytes', 'wav_bytes', 'max_calls']);
  const logCfg = obj(root.log ?? {}, 'log');
  keys(logCfg, 'log', ['level']);
  const config: DaemonConfig = {
    node: name(req(root, 'node', ''), 'node'),
    http: hostPort(req(http, 'listen', 'http'), 'http.listen'),
    peers,
    codec: {
      mode: choice(codec.mode ?? 'balanced', 'codec.mode', ['minimal', 'balanced', 'high'] as const),
      text: choice(codec.text ?? 'lm', 'codec.text', ['lm', 'utf8'] as const),
    },
    engines: { asr: str(engines.asr ?? 'pocketsphinx', 'engines.asr'), tts: str(engines.tts ?? 'auto', 'engines.tts') },
    security: {},
    limits: {
      httpBodyBytes: int(limits.http_body_bytes ?? DEFAULT_DAEMON_LIMITS.httpBodyBytes, 'limits.http_body_bytes', 1024, 16 * 1024 * 1024),
      wsMessageBytes: int(limits.ws_message_bytes ?? DEFAULT_DAEMON_LIMITS.wsMessageBytes, 'limits.ws_message_bytes', 256, 1024 * 1024),
      wavBytes: int(limits.wav_bytes ?? DEFAULT_DAEMON_LIMITS.wavBytes, 'limits.wav_bytes', 1024, 512 * 1024 * 1024),
      maxCalls: int(limits.max_calls ?? DEFAULT_DAEMON_LIMITS.maxCalls, 'limits.max_calls', 1, 256),
    },
    log: { level: choice(logCfg.level ?? 'info', 'log.level', ['debug', 'info', 'warn', 'error'] as const) },
    ...(root.state_dir !== undefined ? { stateDir: resolve(baseDir, str(root.state_dir, 'state_dir')) } : {}),
  };
  if (link) {
    // One listening point or a list: HOST:PORT or ws://HOST:PORT (WebSocket), udp://HOST:PORT (issue #14).
    const listen = req(link, 'listen', 'link');
    for (const [i, v] of (Array.isArray(listen) ? listen : [listen]).entries()) {
      const at = Array.isArray(listen) ? `link.listen[${i}]` : 'link.listen';
      const text = str(v, at);
      if (/^kiss(\+tcp)?:/i.test(text)) {
        if (config.linkKiss) throw new ConfigError('invalid_value', `${at}: only one KISS TNC to listen on`);
        if (!/^kiss\+tcp:\/\/[^\s/]+:\d{1,5}\/?$/i.test(text) && !/^kiss:\/\S+$/i.test(text)) throw new ConfigError('invalid_value', `${at} must be kiss+tcp://HOST:PORT or kiss:/dev/DEVICE, got '${text}'`);
        config.linkKiss = text;
        continue;
      }
      const udp = /^udp:\/\/(.*)$/i.exec(text);
      const target = udp ? 'linkUdp' : 'link';
      if (config[target]) throw new ConfigError('invalid_value', `${at}: only one ${udp ? 'udp://' : 'WebSocket'} listening point`);
      config[target] = hostPort(udp ? udp[1] : text.replace(/^ws:\/\//i, '').replace(/\/$/, ''), at);
    }
  }
  if (tls) {
    const pair = { cert: pemFile(tls, 'http.tls', 'cert_file', 'CERTIFICATE', baseDir), key: pemFile(tls, 'http.tls', 'key_file', 'PRIVATE KEY', baseDir) };
    try {
      createSecureContext(pair); // a key that does not match the certificate, an encrypted key, bad PEM
    } catch (err) {
      throw new ConfigError('invalid_value', `http.tls: the certificate and key cannot be used: ${(err as Error).message}`);
    }
    config.http.tls = pair;
  }
  const key = secret(security, 'security', 'key', baseDir, false);
  if (key !== undefined) {
    const shared = peers.find((p) => keyBytes(p.psk) === keyBytes(key));
    if (shared) throw new ConfigError('invalid_value', `security.key equals the psk of peer '${shared.name}'; the end-to-end key must be a separate key`, { key: 'security.key', reason: 'duplicate' });
    config.security.key = key;
  }
  if (security.static_key_file !== undefined) config.security.staticKey = staticKeyFile(resolve(baseDir, str(security.static_key_file, 'security.static_key_file')));
  if (root.emulator !== undefined) config.emulator = emulator(obj(root.emulator, 'emulator'));
  const sbd = peers.find((p) => isSbdUrl(p.url));
  if (sbd && config.stateDir === undefined) throw new ConfigError('invalid_value', `peer '${sbd.name}' is an sbd: peer: set state_dir (its message queue and inbox are kept there)`);
  return config;
}

function peer(p: Obj, at: string, baseDir: string): PeerConfig {
  keys(p, at, ['name', 'url', 'psk', 'psk_file', 'bits_per_second', 'public_key']);
  const out: PeerConfig = {
    name: name(req(p, 'name', at), `${at}.name`),
    psk: secret(p, at, 'psk', baseDir, true)!,
    bitsPerSecond: num(p.bits_per_second ?? 300, `${at}.bits_per_second`, 10, 10_000_000),
  };
  if (p.public_key !== undefined) {
    const k = str(p.public_key, `${at}.public_key`).toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(k)) throw new ConfigError('invalid_value', `${at}.public_key must be the peer's X25519 public key as 64 hex digits`);
    out.publicKey = k;
  }
  if (p.url !== undefined) {
    const url = str(p.url, `${at}.url`);
    if (isSbdUrl(url)) {
      try {
        parseSbdUrl(url);
      } catch (err) {
        throw new ConfigError('invalid_value', `${at}.url: ${(err as Error).message}`);
      }
    }
    const ok = isSbdUrl(url) || /^wss?:\/\/[^\s/]+(:\d+)?(\/\S*)?$/.test(url) || /^(udp|kiss\+tcp):\/\/[^\s/]+:\d{1,5}\/?$/i.test(url) || /^kiss:\/\S+$/i.test(url);
    if (!ok) throw new ConfigError('invalid_value', `${at}.url must be ws://HOST:PORT, wss://…, udp://HOST:PORT, kiss+tcp://HOST:PORT, kiss:/dev/DEVICE or sbd:/dev/DEVICE, got '${url}'`);
    out.url = url;
  }
  return out;
}

function emulator(e: Obj): Partial<LinkOptions> {
  keys(e, 'emulator', ['bits_per_second', 'loss', 'burst', 'delay_ms', 'jitter_ms', 'seed']);
  const out: Partial<LinkOptions> = {};
  if (e.bits_per_second !== undefined) out.bitsPerSecond = num(e.bits_per_second, 'emulator.bits_per_second', 10, 10_000_000);
  if (e.loss !== undefined) out.lossRate = num(e.loss, 'emulator.loss', 0, 0.9);
  if (e.burst !== undefined) out.meanBurstPackets = num(e.burst, 'emulator.burst', 1, 1000);
  if (e.delay_ms !== undefined) out.delayMs = num(e.delay_ms, 'emulator.delay_ms', 0, 60_000);
  if (e.jitter_ms !== undefined) out.jitterMs = num(e.jitter_ms, 'emulator.jitter_ms', 0, 60_000);
  if (e.seed !== undefined) out.seed = int(e.seed, 'emulator.seed', 0, 2 ** 31);
  return out;
}

/** A key given inline (`psk`) or in a file (`psk_file`), exactly one of them. */
/** Largest PEM file read for `http.tls` (a certificate chain), bytes. */
const MAX_PEM_BYTES = 64 * 1024;

/** A required PEM file (path relative to the config) whose text holds a `-----BEGIN …<label>-----` block. */
function pemFile(o: Obj, at: string, key: string, label: string, baseDir: string): string {
  const path = resolve(baseDir, str(req(o, key, at), `${at}.${key}`));
  let text: string;
  try {
    if (statSync(path).size > MAX_PEM_BYTES) throw new ConfigError('too_large', `${at}.${key} ${path} is larger than ${MAX_PEM_BYTES} bytes`);
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError('not_found', `${at}.${key} ${path} cannot be read`);
  }
  if (!new RegExp(`-----BEGIN [A-Z ]*${label}-----`).test(text)) throw new ConfigError('invalid_value', `${at}.${key} ${path} is not a PEM ${label.toLowerCase()}`);
  return text;
}

/**
 * Reads a key file (PSK or end-to-end key) as the daemon and `stcts send/receive --psk-file` do:
 * at most 4096 bytes, not readable by group or others (like ssh with its private keys), trimmed.
 * `where` names the setting in errors. Throws {@link ConfigError} (`too_large`, `not_found`,
 * `invalid_value` with reason `permissions`). Does not check the key's strength: {@link checkKeyStrength}.
 */
export function readKeyFile(path: string, where: string): string {
  try {
    const st = statSync(path);
    if (st.size > 4096) throw new ConfigError('too_large', `${where} ${path} is larger than 4096 bytes`);
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      throw new ConfigError('invalid_value', `${where} ${path} is accessible by group or others (mode ${(st.mode & 0o777).toString(8)}); run chmod 600 ${path}`, { key: where, reason: 'permissions' });
    }
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError('not_found', `${where} ${path} cannot be read`);
  }
}

/** Refuses a placeholder key and one with fewer than {@link MIN_KEY_BITS} bits ({@link keyStrengthBits}); `where` names the setting. */
export function checkKeyStrength(value: string, where: string): void {
  if (PLACEHOLDER_KEY.test(value)) throw new ConfigError('invalid_value', `${where} is the sample placeholder; generate a key: openssl rand -hex 32`, { key: where, reason: 'placeholder' });
  const bits = keyStrengthBits(value);
  if (bits < MIN_KEY_BITS) {
    throw new ConfigError('invalid_value', `${where} carries ${bits} bits of key material; at least ${MIN_KEY_BITS} are needed, written as hex or base64 (openssl rand -hex 32)`, { key: where, reason: 'weak', bits });
  }
}

function secret(o: Obj, at: string, key: string, baseDir: string, required: boolean): string | undefined {
  const inline = o[key];
  const file = o[`${key}_file`];
  const where = at ? `${at}.${key}` : key;
  if (inline !== undefined && file !== undefined) throw new ConfigError('invalid_value', `${where}: give ${key} or ${key}_file, not both`);
  let value: string | undefined;
  if (inline !== undefined) value = str(inline, where);
  else if (file !== undefined) value = readKeyFile(resolve(baseDir, str(file, `${where}_file`)), `${where}_file`);
  if (value === undefined) {
    if (required) throw new ConfigError('missing', `${where} (or ${key}_file) is required`);
    return undefined;
  }
  checkKeyStrength(value, where);
  return value;
}

/**
 * This node's static X25519 private key from a file: 64 hex digits, or the PEM of
 * `openssl genpkey -algorithm X25519 -out node.key`; mode 0600 like the PSK files. Returns hex.
 */
function staticKeyFile(path: string): string {
  let text: string;
  try {
    const st = statSync(path);
    if (st.size > 4096) throw new ConfigError('too_large', `security.static_key_file ${path} is larger than 4096 bytes`);
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      throw new ConfigError('invalid_value', `security.static_key_file ${path} is accessible by group or others (mode ${(st.mode & 0o777).toString(8)}); run chmod 600 ${path}`, { key: 'security.static_key_file', reason: 'permissions' });
    }
    text = readFileSync(path, 'utf8').trim();
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError('not_found', `security.static_key_file ${path} cannot be read`);
  }
  if (/^[0-9a-fA-F]{64}$/.test(text)) return text.toLowerCase();
  try {
    const key = createPrivateKey(text);
    if (key.asymmetricKeyType !== 'x25519') throw new Error(`a ${key.asymmetricKeyType} key`);
    return key.export({ format: 'der', type: 'pkcs8' }).subarray(-32).toString('hex');
  } catch (err) {
    throw new ConfigError('invalid_value', `security.static_key_file ${path} is not an X25519 private key (openssl genpkey -algorithm X25519): ${(err as Error).message}`);
  }
}

function obj(v: unknown, at: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError('invalid_value', `${at} must be a mapping`);
  return v as Obj;
}

function keys(o: Obj, at: string, allowed: string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new ConfigError('unknown_key', `unknown key ${at ? `${at}.` : ''}${k} (allowed: ${allowed.join(', ')})`, { key: k });
  }
}

function req(o: Obj, k: string, at: string): unknown {
  if (o[k] === undefined || o[k] === null) throw new ConfigError('missing', `${at ? `${at}.` : ''}${k} is required`);
  return o[k];
}

function str(v: unknown, at: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 1024) throw new ConfigError('invalid_value', `${at} must be a non-empty string`);
  return v;
}

function name(v: unknown, at: string): string {
  const s = str(v, at);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(s)) throw new ConfigError('invalid_value', `${at} must be 1–63 letters, digits, '.', '_' or '-', got '${s}'`);
  return s;
}

function num(v: unknown, at: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new ConfigError('invalid_value', `${at} must be a number in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return v;
}

function int(v: unknown, at: string, min: number, max: number): number {
  const n = num(v, at, min, max);
  if (!Number.isInteger(n)) throw new ConfigError('invalid_value', `${at} must be an integer, got ${n}`);
  return n;
}

function choice<T extends string>(v: unknown, at: string, choices: readonly T[]): T {
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) throw new ConfigError('invalid_value', `${at} must be one of ${choices.join('|')}, got ${JSON.stringify(v)}`);
  return v as T;
}

function hostPort(v: unknown, at: string): { host: string; port: number } {
  const s = str(v, at);
  const m = /^(.*):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new ConfigError('invalid_value', `${at} must be HOST:PORT (port 0–65535), got '${s}'`);
  return { host: m[1]!.replace(/^\[|\]$/g, '') || '127.0.0.1', port };
}
