import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, UsageError } from '../../src/core/errors.ts';
import { parseArgs } from '../../src/cli/args.ts';
import { pskFrom } from '../../src/cli/link-args.ts';
import { keyStrengthBits, loadConfig, MIN_KEY_BITS, parseConfig } from '../../src/daemon/config.ts';

const HEX_A = '5c0e1f2a9b3d4c6e7f8091a2b3c4d5e6'; // 32 hex digits = 128 bits
const HEX_B = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const cfg = (pskA: string, pskB = HEX_B, extra = '') => `node: ship-a
http: { listen: "127.0.0.1:8080" }
peers:
  - { name: shore, url: "ws://10.0.0.2:7700", psk: "${pskA}" }
  - { name: ship-b, psk: "${pskB}" }
${extra}`;

function refusal(f: () => unknown): { code?: string; reason?: unknown } {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return { code: (err as ConfigError).code, reason: (err as ConfigError).details?.reason };
  }
  return {};
}

describe('daemon config: key strength, placeholders, shared keys, key-file permissions (#20)', () => {
  it('counts key strength in bits after decoding, not characters', () => {
    expect(keyStrengthBits(HEX_A)).toBe(128);
    expect(keyStrengthBits(HEX_A.slice(0, 16))).toBe(64); // 16 hex chars: 64 bits, refused
    expect(keyStrengthBits(Buffer.from(HEX_A + HEX_B, 'hex').toString('base64'))).toBe(256);
    expect(keyStrengthBits(Buffer.from(HEX_A, 'hex').toString('base64url'))).toBe(128);
    expect(keyStrengthBits('correct horse battery staple!!')).toBe(0); // a passphrase: not countable
    expect(keyStrengthBits('a'.repeat(64))).toBe(0);
    expect(MIN_KEY_BITS).toBe(128);
  });

  it('accepts 128-bit hex and base64 keys; refuses 64-bit ones, passphrases and the sample placeholder', () => {
    expect(parseConfig(cfg(HEX_A)).peers[0]!.psk).toBe(HEX_A);
    expect(parseConfig(cfg(Buffer.from(HEX_A, 'hex').toString('base64'))).peers).toHaveLength(2);
    expect(refusal(() => parseConfig(cfg(HEX_A.slice(0, 16))))).toEqual({ code: 'invalid_value', reason: 'weak' });
    expect(refusal(() => parseConfig(cfg('correct horse battery staple!!')))).toEqual({ code: 'invalid_value', reason: 'weak' });
    expect(refusal(() => parseConfig(cfg('change-me-to-a-long-random-secret-0001')))).toEqual({ code: 'invalid_value', reason: 'placeholder' });
    expect(refusal(() => parseConfig(cfg(HEX_A, HEX_B, `security: { key: "${HEX_A.slice(0, 20)}" }\n`)))).toEqual({ code: 'invalid_value', reason: 'weak' });
  });

  it('refuses one PSK for two peers (also written in two encodings) and an end-to-end key equal to a PSK', () => {
    expect(refusal(() => parseConfig(cfg(HEX_A, HEX_A)))).toEqual({ code: 'invalid_value', reason: 'duplicate' });
    expect(refusal(() => parseConfig(cfg(HEX_A, Buffer.from(HEX_A, 'hex').toString('base64'))))).toEqual({ code: 'invalid_value', reason: 'duplicate' });
    expect(refusal(() => parseConfig(cfg(HEX_A, HEX_B, `security: { key: "${HEX_B}" }\n`)))).toEqual({ code: 'invalid_value', reason: 'duplicate' });
    expect(parseConfig(cfg(HEX_A, HEX_B, `security: { key: "${HEX_A.split('').reverse().join('')}" }\n`)).security.key).toBeDefined();
  });

  it.skipIf(process.platform === 'win32')('refuses key files readable or writable by group or others', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stcts-keyperm-'));
    const keyFile = join(dir, 'shore.psk');
    writeFileSync(keyFile, `${HEX_A}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'stcts.yaml'), cfg(HEX_A).replace(`psk: "${HEX_A}"`, 'psk_file: shore.psk'));
    expect(loadConfig(join(dir, 'stcts.yaml')).peers[0]!.psk).toBe(HEX_A);
    for (const mode of [0o640, 0o604, 0o620]) {
      chmodSync(keyFile, mode);
      expect(refusal(() => loadConfig(join(dir, 'stcts.yaml')))).toEqual({ code: 'invalid_value', reason: 'permissions' });
    }
  });

  it.skipIf(process.platform === 'win32')('reads the node static key (PEM from openssl genpkey, or hex) and per-peer pinned public keys', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stcts-static-'));
    const { privateKey } = generateKeyPairSync('x25519');
    const raw = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32).toString('hex');
    writeFileSync(join(dir, 'node.key'), privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    writeFileSync(join(dir, 'hex.key'), `${raw}\n`, { mode: 0o600 });
    const pub = 'ab'.repeat(16) + '0123456789abcdef'.repeat(2);
    const text = (file: string) => cfg(HEX_A, HEX_B, `security: { static_key_file: ${file} }\n`).replace('psk: "' + HEX_A + '" }', `psk: "${HEX_A}", public_key: "${pub.toUpperCase()}" }`);
    writeFileSync(join(dir, 'a.yaml'), text('node.key'));
    writeFileSync(join(dir, 'b.yaml'), text('hex.key'));
    const a = loadConfig(join(dir, 'a.yaml'));
    expect(a.security.staticKey).toBe(raw);
    expect(a.peers[0]!.publicKey).toBe(pub);
    expect(loadConfig(join(dir, 'b.yaml')).security.staticKey).toBe(raw);
    chmodSync(join(dir, 'node.key'), 0o644);
    expect(refusal(() => loadConfig(join(dir, 'a.yaml')))).toEqual({ code: 'invalid_value', reason: 'permissions' });
    writeFileSync(join(dir, 'ed.key'), generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    writeFileSync(join(dir, 'c.yaml'), text('ed.key'));
    expect(refusal(() => loadConfig(join(dir, 'c.yaml'))).code).toBe('invalid_value');
    expect(refusal(() => parseConfig(text('x').replace(pub.toUpperCase(), 'abc'))).code).toBe('invalid_value');
  });
});

describe('stcts send/receive --psk-file: the same checks as the daemon (#20)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stcts-psk-'));
  const flag = (path: string) => pskFrom(parseArgs(['--psk-file', path], { values: ['psk-file'] }));
  const usage = (f: () => unknown): string => {
    try {
      f();
    } catch (err) {
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).code).toBe('usage');
      return (err as Error).message;
    }
    throw new Error('expected a UsageError');
  };

  it('takes a 128-bit key in a 0600 file and refuses weak, placeholder, group-readable or missing ones', () => {
    const good = join(dir, 'good.psk');
    writeFileSync(good, `${HEX_A}\n`, { mode: 0o600 });
    expect(flag(good)).toBe(HEX_A);
    const weak = join(dir, 'weak.psk');
    writeFileSync(weak, 'a passphrase of any length at all', { mode: 0o600 });
    expect(usage(() => flag(weak))).toMatch(/0 bits/);
    const short = join(dir, 'short.psk');
    writeFileSync(short, HEX_A.slice(0, 16), { mode: 0o600 }); // 16 hex digits = 64 bits
    expect(usage(() => flag(short))).toMatch(/64 bits/);
    const placeholder = join(dir, 'placeholder.psk');
    writeFileSync(placeholder, 'change-me-0123456789abcdef0123456789', { mode: 0o600 });
    expect(usage(() => flag(placeholder))).toMatch(/placeholder/);
    const open = join(dir, 'open.psk');
    writeFileSync(open, HEX_A);
    chmodSync(open, 0o644);
    expect(usage(() => flag(open))).toMatch(/chmod 600/);
    expect(usage(() => flag(join(dir, 'missing.psk')))).toMatch(/cannot be read/);
    expect(pskFrom(parseArgs([], { values: ['psk-file'] }))).toBeUndefined();
  });
});
