import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ConfigError } from '../../src/core/errors.ts';
import { errorCodeOf } from '../fixtures/errors.ts';
import { silentLogger } from '../../src/core/log.ts';
import { parseConfig, startDaemon, type Daemon } from '../../src/daemon/index.ts';
import { FakeAsr, FakeTts } from './fakes.ts';
import { describeWith, OPENSSL } from '../fixtures/components.ts';

const dir = mkdtempSync(join(tmpdir(), 'stcts-tls-'));

/** A self-signed certificate for 127.0.0.1 (and its key) in `dir` under `name`. */
function selfSigned(name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`), key = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key };
}

const yaml = (tls: string) => `node: ship\nhttp: { listen: "127.0.0.1:0", tls: ${tls} }\ncodec: { mode: balanced, text: utf8 }\npeers:\n  - { name: shore, url: "ws://127.0.0.1:9", psk: "a-test-psk-0123456789abcdef" }\n`;

const codeOf = (f: () => unknown) => errorCodeOf(f, ConfigError);

const running: Daemon[] = [];
afterAll(async () => {
  for (const d of running) await d.close();
});

describeWith('daemon HTTPS (http.tls; openssl makes the test certificate)', [OPENSSL], () => {
  it('refuses missing, non-PEM and mismatched certificate/key files with typed errors', () => {
    const a = selfSigned('a');
    const b = selfSigned('b');
    writeFileSync(join(dir, 'junk.pem'), 'not a certificate\n');
    expect(codeOf(() => parseConfig(yaml(`{ cert_file: a.crt, key_file: a.key }`), { baseDir: dir }))).toBeUndefined();
    expect(codeOf(() => parseConfig(yaml(`{ cert_file: nothing.crt, key_file: a.key }`), { baseDir: dir }))).toBe('not_found');
    expect(codeOf(() => parseConfig(yaml(`{ cert_file: junk.pem, key_file: a.key }`), { baseDir: dir }))).toBe('invalid_value');
    expect(codeOf(() => parseConfig(yaml(`{ cert_file: a.crt, key_file: ${b.key} }`), { baseDir: dir }))).toBe('invalid_value');
    expect(codeOf(() => parseConfig(yaml(`{ cert_file: a.crt }`), { baseDir: dir }))).toBe('missing');
    expect(codeOf(() => parseConfig(yaml(`{ cert_file: a.crt, key_file: a.key, ca: x }`), { baseDir: dir }))).toBe('unknown_key');
    expect(a.cert).not.toBe(b.cert);
  });

  it('serves /healthz and the page WebSocket over TLS, and nothing in plain HTTP', async () => {
    const { cert } = selfSigned('srv');
    const config = parseConfig(yaml(`{ cert_file: srv.crt, key_file: srv.key }`), { baseDir: dir });
    const d = await startDaemon(config, { engines: { asr: async () => new FakeAsr(), tts: async () => new FakeTts() }, log: silentLogger, localClients: undefined });
    running.push(d);
    const ca = (await import('node:fs')).readFileSync(cert);
    const health = await new Promise<string>((resolve, reject) => {
      get({ host: '127.0.0.1', port: d.httpPort, path: '/healthz', ca }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c)).on('end', () => resolve(body));
      }).on('error', reject);
    });
    expect(JSON.parse(health)).toMatchObject({ ok: true, node: 'ship' });
    // Plain HTTP to the TLS port gets no HTTP answer.
    const plain = await new Promise<string>((resolve) => {
      const req = request({ host: '127.0.0.1', port: d.httpPort, path: '/healthz', timeout: 3000 }, (res) => resolve(`status ${res.statusCode}`));
      req.on('error', () => resolve('error')).on('timeout', () => { req.destroy(); resolve('timeout'); });
      req.end();
    });
    expect(plain).not.toBe('status 200');
    // A WSS upgrade reaches the server over TLS (refused here: no local clients are served).
    const ws = new WebSocket(`wss://127.0.0.1:${d.httpPort}/ws`, { ca });
    const outcome = await new Promise<string>((resolve) => {
      ws.on('open', () => resolve('open')).on('error', (e) => resolve(e.message)).on('unexpected-response', (_r, res) => resolve(`http ${res.statusCode}`));
    });
    ws.terminate();
    expect(outcome).not.toMatch(/certificate|self.signed|EPROTO|SSL/i);
    expect(outcome).toMatch(/socket hang up|http 4/);
  });
});
