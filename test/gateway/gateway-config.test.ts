import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.ts';
import { loadGatewayConfig, parseGatewayConfig } from '../../src/gateway/config.ts';
import { upSubject } from '../../src/gateway/subjects.ts';
import { DecodeError } from '../../src/core/errors.ts';
import { vesselFromPath } from '../../src/gateway/terminator.ts';

const KEY = '3f9a1c0b7d2e4f6a8b0c1d2e3f405162';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).code;
  }
  return undefined;
};

describe('gateway config (edge/gateway.yaml)', () => {
  it('the example config parses: one ws terminator on loopback, defaults for the rest', () => {
    const c = loadGatewayConfig(new URL('../../edge/gateway.yaml', import.meta.url).pathname);
    expect(c.terminators).toEqual([{ kind: 'ws', host: '127.0.0.1', port: 8790 }]);
    expect(c.nats.servers).toEqual(['nats://127.0.0.1:4222']);
    expect(c.workers).toMatchObject({ count: 1, maxSessions: 8, tts: 'auto', asr: 'pocketsphinx', text: 'lm', mode: 'balanced' });
    expect(c.lease).toEqual({ ttlMs: 3000, heartbeatMs: 1000 });
  });
  it('udp and kiss terminators: udp://HOST:PORT, kiss+tcp://… or kiss:/dev/…, and only with vessels that have keys (a datagram names no vessel)', () => {
    const c = parseGatewayConfig(`terminators: [{ kind: udp, listen: 'udp://0.0.0.0:8791' }]\nvessels: [{ name: mv-aurora, psk: ${KEY} }]`);
    expect(c.terminators).toEqual([{ kind: 'udp', host: '0.0.0.0', port: 8791 }]);
    expect(code(() => parseGatewayConfig(`terminators: [{ kind: udp, listen: 'udp://0.0.0.0:8791' }]`))).toBe('invalid_value');
    expect(code(() => parseGatewayConfig(`terminators: [{ kind: kiss, listen: 'x:1' }]\nvessels: [{ name: mv-aurora, psk: ${KEY} }]`))).toBe('invalid_value');
    const k = parseGatewayConfig(`terminators: [{ kind: kiss, listen: 'kiss+tcp://127.0.0.1:8001' }, { kind: kiss, listen: 'kiss:/dev/ttyUSB0?baud=9600' }]\nvessels: [{ name: mv-aurora, psk: ${KEY} }]`);
    expect(k.terminators.map((t) => [t.kind, t.url])).toEqual([['kiss', 'kiss+tcp://127.0.0.1:8001'], ['kiss', 'kiss:/dev/ttyUSB0?baud=9600']]);
    expect(code(() => parseGatewayConfig(`terminators: [{ kind: kiss, listen: 'kiss+tcp://127.0.0.1:8001' }]`))).toBe('invalid_value');
  });
  it('vessels with keys', () => {
    const c = parseGatewayConfig(`vessels: [{ name: mv-aurora, psk: ${KEY} }]`);
    expect([...c.vessels]).toEqual([['mv-aurora', KEY]]);
  });
  it('refuses unknown keys, bad names, weak keys, bad lease timing, non-nats URLs', () => {
    expect(code(() => parseGatewayConfig('workers: { count: 1, threads: 2 }'))).toBe('unknown_key');
    expect(code(() => parseGatewayConfig(`vessels: [{ name: 'mv.aurora', psk: ${KEY} }]`))).toBe('invalid_value');
    expect(code(() => parseGatewayConfig('vessels: [{ name: mv, psk: short }]'))).toBe('invalid_value');
    expect(code(() => parseGatewayConfig('vessels: [{ name: mv }]'))).toBe('missing');
    expect(code(() => parseGatewayConfig('lease: { ttl_ms: 1000, heartbeat_ms: 800 }'))).toBe('invalid_value');
    expect(code(() => parseGatewayConfig("nats: { servers: ['http://x'] }"))).toBe('invalid_value');
    expect(code(() => parseGatewayConfig('terminators: [{ kind: ws, listen: nowhere }]'))).toBe('invalid_value');
    expect(code(() => parseGatewayConfig(': : :'))).toBe('invalid_yaml');
    expect(code(() => parseGatewayConfig('workers: { text: gzip }'))).toBe('invalid_value');
    expect(code(() => parseGatewayConfig('workers: { mode: loud }'))).toBe('invalid_value');
  });
  it('vessel names are single subject tokens', () => {
    expect(upSubject('mv-aurora', 7)).toBe('stcts.v1.up.mv-aurora.7');
    expect(() => upSubject('a.b', 7)).toThrow(DecodeError);
    expect(() => upSubject('>', 7)).toThrow(DecodeError);
    expect(vesselFromPath('/vessel/mv-aurora')).toBe('mv-aurora');
    expect(vesselFromPath('/vessel/a.b')).toBeUndefined();
    expect(vesselFromPath('/')).toBe('anonymous');
  });
  it('sbd-directip terminator: allow_from required (IP addresses), vessels named by a 15-digit imei (no key needed), optional mt_server', () => {
    const c = parseGatewayConfig(`terminators: [{ kind: sbd-directip, listen: '0.0.0.0:10800', allow_from: ['12.47.179.11', '::1'], mt_server: 'mt.example.net:10800', mt_retry_ms: 5000 }]\nvessels: [{ name: mv-aurora, imei: '300234010753370' }, { name: mv-both, imei: '300234010753371', psk: ${KEY} }]`);
    expect(c.terminators).toEqual([{ kind: 'sbd-directip', host: '0.0.0.0', port: 10800, sbd: { allowFrom: ['12.47.179.11', '::1'], mtServer: { host: 'mt.example.net', port: 10800 }, mtRetryMs: 5000 } }]);
    expect([...c.imeis]).toEqual([['300234010753370', 'mv-aurora'], ['300234010753371', 'mv-both']]);
    expect([...c.vessels.keys()]).toEqual(['mv-both']);
    const t = (extra: string, vessels = `[{ name: mv-aurora, imei: '300234010753370' }]`) => `terminators: [{ kind: sbd-directip, listen: '127.0.0.1:10800'${extra} }]\nvessels: ${vessels}`;
    expect(code(() => parseGatewayConfig(t('')))).toBe('missing');
    expect(code(() => parseGatewayConfig(t(', allow_from: []')))).toBe('missing');
    expect(code(() => parseGatewayConfig(t(", allow_from: ['iridium.example']")))).toBe('invalid_value');
    expect(code(() => parseGatewayConfig(t(", allow_from: ['127.0.0.1'], mt_server: 'nohost'")))).toBe('invalid_value');
    expect(code(() => parseGatewayConfig(t(", allow_from: ['127.0.0.1'], bogus: 1")))).toBe('unknown_key');
    expect(code(() => parseGatewayConfig(t(", allow_from: ['127.0.0.1']", `[{ name: a, imei: '3002340107' }]`)))).toBe('invalid_value');
    expect(code(() => parseGatewayConfig(t(", allow_from: ['127.0.0.1']", `[{ name: a, imei: '300234010753370' }, { name: b, imei: '300234010753370' }]`)))).toBe('invalid_value');
    expect(code(() => parseGatewayConfig(t(", allow_from: ['127.0.0.1']", `[{ name: a, psk: ${KEY} }]`)))).toBe('invalid_value'); // no vessel with an imei
    expect(code(() => parseGatewayConfig(`vessels: [{ name: a }]`))).toBe('missing'); // neither a key nor an imei
  });
});
