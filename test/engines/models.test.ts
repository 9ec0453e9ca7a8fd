import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EngineUnavailableError, ModelError, UsageError } from '../../src/core/errors.ts';
import {
  fetchModel, loadManifest, modelCacheDir, resolveModel, TOFU_FILE, validateManifest, verifyModels,
  type ModelManifest,
} from '../../src/engines/models/index.ts';
import { errorCodeOf } from '../fixtures/errors.ts';

/** Deterministic pseudo-random bytes (seeded LCG). */
function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) out[i] = (x = (Math.imul(x, 1664525) + 1013904223) >>> 0) >>> 24;
  return out;
}
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const A = bytes(300_000, 1);
const B = bytes(1234, 2);
const routes: Record<string, Uint8Array> = { '/a.bin': A, '/b.json': B };
let server: Server;
let base: string;
let deadUrl: string;
const tmp = mkdtempSync(join(tmpdir(), 'stcts-models-'));
let n = 0;
const freshDir = () => join(tmp, `cache${n++}`);

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/truncated') {
      res.writeHead(200, { 'content-length': A.length });
      res.write(A.subarray(0, 1000), () => res.destroy());
      return;
    }
    if (req.url === '/redirect') {
      res.writeHead(302, { location: '/a.bin' }).end();
      return;
    }
    const body = routes[req.url ?? ''];
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-length': body.length, 'content-type': 'application/octet-stream' });
    // Several chunks so progress is reported more than once.
    for (let i = 0; i < body.length; i += 65536) res.write(body.subarray(i, i + 65536));
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // A port that was just free and is now closed: connection refused, no DNS needed.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  deadUrl = `http://127.0.0.1:${(probe.address() as AddressInfo).port}/a.bin`;
  await new Promise<void>((r) => probe.close(() => r()));
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(tmp, { recursive: true, force: true });
});

function manifest(files: Array<{ name: string; url: string; sha256: string | null; bytes?: number }>, id = 'tiny-asr'): ModelManifest {
  return validateManifest({ version: 1, models: [{ id, kind: 'asr', engine: 'whisper', description: 'test', licence: 'MIT', files }] });
}

describe('manifest', () => {
  it('the committed manifest validates and has all three kinds with io signatures', () => {
    const m = loadManifest();
    expect(new Set(m.models.map((e) => e.kind))).toEqual(new Set(['asr', 'speaker', 'tts']));
    for (const e of m.models) {
      expect(e.files.some((f) => f.io !== undefined)).toBe(true);
      for (const f of e.files) expect(f.url).toMatch(/^https:\/\//);
    }
    expect(Object.isFrozen(m.models[0])).toBe(true);
  });

  const good = { version: 1, models: [{ id: 'x', kind: 'tts', engine: 'piper', description: 'd', licence: 'MIT', files: [{ name: 'x.onnx', url: 'https://e.org/x.onnx', sha256: null }] }] };
  const bad: Array<[string, (m: any) => void]> = [
    ['wrong version', (m) => (m.version = 2)],
    ['unknown kind', (m) => (m.models[0].kind = 'vad')],
    ['bad sha', (m) => (m.models[0].files[0].sha256 = 'ABC')],
    ['path in file name', (m) => (m.models[0].files[0].name = '../x.onnx')],
    ['non-http url', (m) => (m.models[0].files[0].url = 'file:///etc/passwd')],
    ['duplicate id', (m) => m.models.push(structuredClone(m.models[0]))],
    ['no files', (m) => (m.models[0].files = [])],
    ['bad io dim', (m) => (m.models[0].files[0].io = { inputs: [{ name: 'a', elemType: 'float32', shape: [-1] }], outputs: [] })],
    ['bad elemType', (m) => (m.models[0].files[0].io = { inputs: [{ name: 'a', elemType: 'float16', shape: [1] }], outputs: [] })],
    ['missing licence', (m) => delete m.models[0].licence],
  ];
  it('accepts a minimal manifest without mutating it', () => {
    const raw = structuredClone(good);
    validateManifest(raw);
    expect(raw).toEqual(good);
  });
  for (const [what, mutate] of bad) {
    it(`rejects: ${what}`, () => {
      const m = structuredClone(good);
      mutate(m);
      expect(errorCodeOf(() => validateManifest(m), ModelError)).toBe('bad_manifest');
    });
  }
  it('unreadable or non-JSON manifest files are bad_manifest', () => {
    const p = join(tmp, 'bad.json');
    writeFileSync(p, '{ nope');
    expect(() => loadManifest(p)).toThrow(expect.objectContaining({ code: 'bad_manifest' }));
    expect(() => loadManifest(join(tmp, 'none.json'))).toThrow(expect.objectContaining({ code: 'bad_manifest' }));
  });
});

describe('cache folder and resolveModel', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env.STCTS_MODEL_DIR = saved.STCTS_MODEL_DIR;
    if (saved.STCTS_MODEL_DIR === undefined) delete process.env.STCTS_MODEL_DIR;
    process.env.XDG_CACHE_HOME = saved.XDG_CACHE_HOME;
    if (saved.XDG_CACHE_HOME === undefined) delete process.env.XDG_CACHE_HOME;
  });
  it('override > STCTS_MODEL_DIR > ~/.cache/stcts/models', () => {
    delete process.env.XDG_CACHE_HOME;
    delete process.env.STCTS_MODEL_DIR;
    expect(modelCacheDir()).toBe(join(homedir(), '.cache', 'stcts', 'models'));
    process.env.STCTS_MODEL_DIR = join(tmp, 'env');
    expect(modelCacheDir()).toBe(join(tmp, 'env'));
    expect(modelCacheDir(join(tmp, 'flag'))).toBe(join(tmp, 'flag'));
  });
  it('unknown id is a UsageError listing ids; missing files name stcts models fetch ID', () => {
    const m = manifest([{ name: 'a.bin', url: `${base}/a.bin`, sha256: sha(A) }]);
    expect(() => resolveModel('nope', { manifest: m })).toThrow(UsageError);
    expect(() => resolveModel('nope', { manifest: m })).toThrow(/tiny-asr/);
    let err: unknown;
    try {
      resolveModel('tiny-asr', { manifest: m, cacheDir: freshDir() });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EngineUnavailableError);
    expect((err as EngineUnavailableError).remedy).toBe('stcts models fetch tiny-asr');
  });
});

describe('fetchModel and verifyModels against a local HTTP server', () => {
  it('downloads, verifies sha256, reports progress, resolves and verifies ok', async () => {
    const cacheDir = freshDir();
    const m = manifest([
      { name: 'a.bin', url: `${base}/redirect`, sha256: sha(A), bytes: A.length },
      { name: 'b.json', url: `${base}/b.json`, sha256: sha(B) },
    ]);
    const calls: Array<[number, number | undefined, string]> = [];
    const r = await fetchModel('tiny-asr', { manifest: m, cacheDir, onProgress: (d, t, f) => calls.push([d, t, f]) });
    expect(r.files.map((f) => [f.name, f.downloaded, f.pinned])).toEqual([['a.bin', true, true], ['b.json', true, true]]);
    expect(calls.filter((c) => c[2] === 'a.bin').length).toBeGreaterThan(1);
    expect(calls.filter((c) => c[2] === 'a.bin').at(-1)).toEqual([A.length, A.length, 'a.bin']);
    const resolved = resolveModel('tiny-asr', { manifest: m, cacheDir });
    expect(sha(readFileSync(resolved.files['a.bin']!))).toBe(sha(A)); // (toEqual on 300 kB is slow)
    expect(readdirSync(resolved.dir).sort()).toEqual(['a.bin', 'b.json']); // no temp files left
    expect(await verifyModels({ manifest: m, cacheDir })).toMatchObject([{ id: 'tiny-asr', status: 'ok' }]);
    // Second fetch: nothing downloaded again.
    const again = await fetchModel('tiny-asr', { manifest: m, cacheDir });
    expect(again.files.every((f) => !f.downloaded)).toBe(true);
    // Corrupt a file on disk: verify says sha_mismatch, fetch repairs it.
    writeFileSync(resolved.files['b.json']!, 'tampered');
    expect((await verifyModels({ manifest: m, cacheDir }))[0]!.status).toBe('sha_mismatch');
    await fetchModel('tiny-asr', { manifest: m, cacheDir });
    expect((await verifyModels({ manifest: m, cacheDir }))[0]!.status).toBe('ok');
  });

  it('sha mismatch → ModelError sha_mismatch and nothing left behind', async () => {
    const cacheDir = freshDir();
    const m = manifest([{ name: 'a.bin', url: `${base}/a.bin`, sha256: sha(B) }]);
    const err = await fetchModel('tiny-asr', { manifest: m, cacheDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as ModelError).code).toBe('sha_mismatch');
    expect(existsSync(join(cacheDir, 'tiny-asr'))).toBe(false);
    expect((await verifyModels({ manifest: m, cacheDir }))[0]!.status).toBe('missing');
  });

  it('size differing from the manifest is download_failed, nothing kept', async () => {
    const cacheDir = freshDir();
    const m = manifest([{ name: 'a.bin', url: `${base}/a.bin`, sha256: null, bytes: A.length + 1 }]);
    await expect(fetchModel('tiny-asr', { manifest: m, cacheDir })).rejects.toMatchObject({ code: 'download_failed' });
    expect(existsSync(join(cacheDir, 'tiny-asr', 'a.bin'))).toBe(false);
  });

  it('unreachable host → no_network naming the folder to copy files into', async () => {
    const cacheDir = freshDir();
    const m = manifest([{ name: 'a.bin', url: deadUrl, sha256: sha(A) }]);
    const err = await fetchModel('tiny-asr', { manifest: m, cacheDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as ModelError).code).toBe('no_network');
    expect((err as ModelError).message).toContain(join(cacheDir, 'tiny-asr'));
    expect((err as ModelError).message).toContain(deadUrl);
    expect(existsSync(join(cacheDir, 'tiny-asr'))).toBe(false);
  });

  it('a transfer that breaks off → download_failed, no partial file', async () => {
    const cacheDir = freshDir();
    const m = manifest([{ name: 'a.bin', url: `${base}/truncated`, sha256: sha(A) }]);
    await expect(fetchModel('tiny-asr', { manifest: m, cacheDir })).rejects.toMatchObject({ name: 'ModelError', code: 'download_failed' });
    expect(existsSync(join(cacheDir, 'tiny-asr'))).toBe(false);
  });

  it('HTTP 404 → download_failed', async () => {
    const m = manifest([{ name: 'a.bin', url: `${base}/missing`, sha256: null }]);
    await expect(fetchModel('tiny-asr', { manifest: m, cacheDir: freshDir() })).rejects.toMatchObject({ name: 'ModelError', code: 'download_failed' });
  });

  it('unpinned sha256: trust on first use, recorded, later changes detected', async () => {
    const cacheDir = freshDir();
    const m = manifest([{ name: 'a.bin', url: `${base}/a.bin`, sha256: null }]);
    const r = await fetchModel('tiny-asr', { manifest: m, cacheDir });
    expect(r.files[0]).toMatchObject({ pinned: false, downloaded: true, sha256: sha(A) });
    expect(readFileSync(join(cacheDir, 'tiny-asr', TOFU_FILE), 'utf8')).toBe(`${sha(A)}  a.bin\n`);
    expect((await verifyModels({ manifest: m, cacheDir }))[0]!.status).toBe('unpinned');
    writeFileSync(join(cacheDir, 'tiny-asr', 'a.bin'), B);
    expect((await verifyModels({ manifest: m, cacheDir }))[0]!.status).toBe('sha_mismatch');
    // The server now serves other bytes under that URL: the first-use record refuses them.
    const m2 = manifest([{ name: 'a.bin', url: `${base}/b.json`, sha256: null }]);
    rmSync(join(cacheDir, 'tiny-asr', 'a.bin'));
    await expect(fetchModel('tiny-asr', { manifest: m2, cacheDir })).rejects.toMatchObject({ code: 'sha_mismatch' });
  });

  it('abort signal stops a download and leaves no temp file', async () => {
    const cacheDir = freshDir();
    const m = manifest([{ name: 'a.bin', url: `${base}/a.bin`, sha256: sha(A) }]);
    const ac = new AbortController();
    ac.abort();
    await expect(fetchModel('tiny-asr', { manifest: m, cacheDir, signal: ac.signal })).rejects.toThrow();
    expect(existsSync(join(cacheDir, 'tiny-asr'))).toBe(false);
  });

  it('a partly installed folder verifies as missing', async () => {
    const cacheDir = freshDir();
    const m = manifest([{ name: 'a.bin', url: `${base}/a.bin`, sha256: sha(A) }, { name: 'b.json', url: `${base}/b.json`, sha256: sha(B) }]);
    mkdirSync(join(cacheDir, 'tiny-asr'), { recursive: true });
    writeFileSync(join(cacheDir, 'tiny-asr', 'a.bin'), A);
    const v = await verifyModels({ manifest: m, cacheDir });
    expect(v[0]).toMatchObject({ status: 'missing', files: [{ name: 'a.bin', status: 'ok' }, { name: 'b.json', status: 'missing' }] });
    expect(() => resolveModel('tiny-asr', { manifest: m, cacheDir })).toThrow(/b\.json/);
  });
});
