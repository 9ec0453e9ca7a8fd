import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.ts';
import { errorCodeOf } from '../fixtures/errors.ts';
import { loadConfig, MAX_CONFIG_BYTES, parseConfig } from '../../src/daemon/config.ts';

const PSK = 'psk-for-the-config-tests-0123';
const base = `node: ship-a
http: { listen: "0.0.0.0:8080" }
link: { listen: "0.0.0.0:7700" }
peers:
  - name: shore
    url: ws://10.0.0.2:7700
    psk: ${PSK}
    bits_per_second: 300
`;

const codeOf = (f: () => unknown) => errorCodeOf(f, ConfigError);

describe('daemon config', () => {
  it('parses the documented example with defaults filled in', () => {
    const c = parseConfig(base);
    expect(c.node).toBe('ship-a');
    expect(c.http).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(c.link).toEqual({ host: '0.0.0.0', port: 7700 });
    expect(c.peers).toEqual([{ name: 'shore', url: 'ws://10.0.0.2:7700', psk: PSK, bitsPerSecond: 300 }]);
    expect(c.codec).toEqual({ mode: 'balanced', text: 'lm' });
    expect(c.engines).toEqual({ asr: 'pocketsphinx', tts: 'auto' });
    expect(c.limits.httpBodyBytes).toBe(65536);
    expect(c.emulator).toBeUndefined();
  });

  it('the shipped edge/stcts.yaml is valid once its psk_file exists; with the old placeholder key it is refused', () => {
    let err: unknown;
    try {
      loadConfig('edge/stcts.yaml');
    } catch (e) {
      err = e;
    }
    // The sample names /etc/stcts/shore.psk, which a test box does not have (and never dials 192.0.2.10).
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toMatchObject({ code: 'not_found' });
    const sample = readFileSync('edge/stcts.yaml', 'utf8');
    expect(sample).toMatch(/openssl rand -hex 32 > \S+; chmod 600/);
    expect(sample).toMatch(/openssl genpkey -algorithm X25519/);
    const placeholder = sample.replace(/psk_file: \S+/, 'psk: change-me-to-a-long-random-secret-0001');
    expect(codeOf(() => parseConfig(placeholder))).toBe('invalid_value');
    const text = sample.replace(/psk_file: \S+/, 'psk: 9d4b2e71c08f5a36e1d7b4c29a0f6e83');
    expect(parseConfig(text).peers.length).toBeGreaterThan(0);
  });

  it('reads psk_file relative to the config file, and the emulator section', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stcts-cfg-'));
    writeFileSync(join(dir, 'shore.psk'), `${PSK}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'stcts.yaml'), base.replace(`psk: ${PSK}`, 'psk_file: shore.psk') + 'emulator: { bits_per_second: 300, loss: 0.1, burst: 5, seed: 3 }\n');
    const c = loadConfig(join(dir, 'stcts.yaml'));
    expect(c.peers[0]!.psk).toBe(PSK);
    expect(c.emulator).toEqual({ bitsPerSecond: 300, lossRate: 0.1, meanBurstPackets: 5, seed: 3 });
  });

  it('gives typed errors: unknown keys, missing keys, bad values, bad YAML, size, missing file', () => {
    expect(codeOf(() => parseConfig(base + 'colour: blue\n'))).toBe('unknown_key');
    expect(codeOf(() => parseConfig(base.replace('bits_per_second: 300', 'bits_per_sec: 300')))).toBe('unknown_key');
    expect(codeOf(() => parseConfig(base.replace('node: ship-a\n', '')))).toBe('missing');
    expect(codeOf(() => parseConfig(base.replace(`psk: ${PSK}`, 'url2: x')))).toBe('unknown_key');
    expect(codeOf(() => parseConfig(base.replace(`    psk: ${PSK}\n`, '')))).toBe('missing');
    expect(codeOf(() => parseConfig(base.replace(PSK, 'short')))).toBe('invalid_value');
    expect(codeOf(() => parseConfig(base.replace('bits_per_second: 300', 'bits_per_second: -5')))).toBe('invalid_value');
    expect(codeOf(() => parseConfig(base.replace('0.0.0.0:8080', '0.0.0.0:99999')))).toBe('invalid_value');
    expect(codeOf(() => parseConfig(base.replace('ws://10.0.0.2:7700', 'http://x')))).toBe('invalid_value');
    expect(codeOf(() => parseConfig(base + 'codec: { mode: loud }\n'))).toBe('invalid_value');
    expect(codeOf(() => parseConfig(base + 'emulator: { loss: 1.5 }\n'))).toBe('invalid_value');
    expect(codeOf(() => parseConfig(base + '  - { name: shore, psk: ' + PSK + ' }\n'))).toBe('invalid_value');
    expect(codeOf(() => parseConfig('node: [unclosed\n'))).toBe('invalid_yaml');
    expect(codeOf(() => parseConfig('just a string'))).toBe('invalid_value');
    expect(codeOf(() => parseConfig(base + '#'.repeat(MAX_CONFIG_BYTES)))).toBe('too_large');
    expect(codeOf(() => loadConfig('/nonexistent/stcts.yaml'))).toBe('not_found');
    const dir = mkdtempSync(join(tmpdir(), 'stcts-cfg-'));
    writeFileSync(join(dir, 'big.yaml'), base + '#'.repeat(MAX_CONFIG_BYTES));
    expect(codeOf(() => loadConfig(join(dir, 'big.yaml')))).toBe('too_large');
  });
});

describe('daemon config: link URLs (#14)', () => {
  it('link.listen takes HOST:PORT, ws://, udp:// or a list of one of each; peers[].url takes ws, udp and kiss URLs', () => {
    const withLink = (listen: string) => base.replace('link: { listen: "0.0.0.0:7700" }', `link: { listen: ${listen} }`);
    expect(parseConfig(withLink('"ws://0.0.0.0:7700"')).link).toEqual({ host: '0.0.0.0', port: 7700 });
    const udp = parseConfig(withLink('"udp://127.0.0.1:7701"'));
    expect(udp.link).toBeUndefined();
    expect(udp.linkUdp).toEqual({ host: '127.0.0.1', port: 7701 });
    const both = parseConfig(withLink('["0.0.0.0:7700", "udp://0.0.0.0:7701"]'));
    expect([both.link, both.linkUdp]).toEqual([{ host: '0.0.0.0', port: 7700 }, { host: '0.0.0.0', port: 7701 }]);
    expect(codeOf(() => parseConfig(withLink('["udp://0.0.0.0:1", "udp://0.0.0.0:2"]')))).toBe('invalid_value');
    const url = (u: string) => parseConfig(base.replace(/url: \S+/, `url: "${u}"`)).peers[0]!.url;
    for (const u of ['udp://10.0.0.2:7701', 'kiss+tcp://127.0.0.1:8001', 'kiss:/dev/ttyUSB0?baud=9600', 'wss://shore.example:443/link']) expect(url(u)).toBe(u);
    for (const u of ['tcp://10.0.0.2:7701', 'udp://10.0.0.2', 'http://x:1']) expect(codeOf(() => url(u))).toBe('invalid_value');
  });
});
