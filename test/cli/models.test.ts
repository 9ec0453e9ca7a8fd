import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/stcts.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'stcts-cli-models-'));

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const payload = new Uint8Array(50_000).map((_, i) => (i * 31 + 7) & 0xff);
const sha = createHash('sha256').update(payload).digest('hex');
let server: Server;
let manifestPath: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url !== '/m.onnx') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': payload.length }).end(payload);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/m.onnx`;
  manifestPath = join(tmp, 'manifest.json');
  writeFileSync(manifestPath, JSON.stringify({
    version: 1,
    models: [
      { id: 'good', kind: 'speaker', engine: 'speaker-encoder', description: 'd', licence: 'MIT', files: [{ name: 'm.onnx', url, sha256: sha }] },
      { id: 'bad', kind: 'tts', engine: 'piper', description: 'd', licence: 'MIT', files: [{ name: 'm.onnx', url, sha256: '0'.repeat(64) }] },
    ],
  }));
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(tmp, { recursive: true, force: true });
});

describe('stcts models', () => {
  it('list --json shows the three kinds of the committed manifest, none installed in an empty cache', async () => {
    const cache = join(tmp, 'empty');
    const r = await run(['models', 'list', '--json'], { STCTS_MODEL_DIR: cache });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { cacheDir: string; models: Array<{ id: string; kind: string; installed: string; licence: string }> };
    expect(out.cacheDir).toBe(cache);
    expect(new Set(out.models.map((m) => m.kind))).toEqual(new Set(['asr', 'speaker', 'tts']));
    expect(out.models.every((m) => m.installed === 'no' && m.licence.length > 0)).toBe(true);
    expect(out.models.map((m) => m.id)).toContain('whisper-tiny.en');
  });

  it('fetch downloads from a local server with progress on stderr; list and verify then say ok', async () => {
    const cache = join(tmp, 'c1');
    const f = await run(['models', 'fetch', 'good', '--manifest', manifestPath, '--model-dir', cache]);
    expect(f.stderr).toMatch(/progress|\[#/);
    expect(f.code).toBe(0);
    expect(f.stderr).toContain('sha256 ok');
    expect(existsSync(join(cache, 'good', 'm.onnx'))).toBe(true);
    const l = await run(['models', 'list', '--json', '--manifest', manifestPath], { STCTS_MODEL_DIR: cache });
    expect(JSON.parse(l.stdout).models.map((m: { id: string; installed: string }) => [m.id, m.installed])).toEqual([['good', 'yes'], ['bad', 'no']]);
    const v = await run(['models', 'verify', '--json', '--manifest', manifestPath, '--cache', cache]);
    expect(v.code).toBe(0);
    expect(JSON.parse(v.stdout).map((x: { status: string }) => x.status)).toEqual(['ok', 'missing']);
  });

  it('a sha mismatch exits 1 with the error code and leaves nothing behind', async () => {
    const cache = join(tmp, 'c2');
    const r = await run(['models', 'fetch', 'bad', '--manifest', manifestPath, '--model-dir', cache]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('[sha_mismatch]');
    expect(existsSync(join(cache, 'bad'))).toBe(false);
  });

  it('usage errors exit 2: unknown id, unknown subcommand', async () => {
    const a = await run(['models', 'fetch', 'nope', '--manifest', manifestPath, '--model-dir', join(tmp, 'c3')]);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('good');
    expect((await run(['models', 'frobnicate'])).code).toBe(2);
  });

  it('engine flags take any registry id; a neural engine without weights names stcts models fetch ID', async () => {
    const bad = await run(['encode', join(tmp, 'x.wav'), '-o', join(tmp, 'x.stc'), '--asr', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('pocketsphinx');
    // 0.5 s of silence, 16-bit mono 16 kHz.
    const pcmBytes = 16000;
    const wav = Buffer.alloc(44 + pcmBytes);
    wav.write('RIFF', 0); wav.writeUInt32LE(36 + pcmBytes, 4); wav.write('WAVE', 8); wav.write('fmt ', 12);
    wav.writeUInt32LE(16, 16); wav.writeUInt16LE(1, 20); wav.writeUInt16LE(1, 22); wav.writeUInt32LE(16000, 24);
    wav.writeUInt32LE(32000, 28); wav.writeUInt16LE(2, 32); wav.writeUInt16LE(16, 34); wav.write('data', 36); wav.writeUInt32LE(pcmBytes, 40);
    writeFileSync(join(tmp, 'sil.wav'), wav);
    const r = await run(['encode', join(tmp, 'sil.wav'), '-o', join(tmp, 'sil.stc'), '--asr', 'whisper-tiny.en', '--model-dir', join(tmp, 'no-models')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('[engine_unavailable]');
    expect(r.stderr).toContain('stcts models fetch whisper-tiny.en');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
