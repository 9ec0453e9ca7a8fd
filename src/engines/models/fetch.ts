/**
 * `stcts models fetch`: downloads a model's files into the cache over http(s), hashing while
 * streaming into a temporary file that is renamed into place only when the sha256 matches, so an
 * interrupted or corrupt download never leaves a file that looks installed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { ModelError } from '../../core/errors.ts';
import { findModel, modelPaths, readTofuRecord, TOFU_FILE, type ModelCacheOptions } from './cache.ts';
import { sha256File } from './hash.ts';
import { loadManifest, type ModelEntry, type ModelFile } from './manifest.ts';

/** Options of {@link fetchModel}. */
export interface FetchModelOptions extends ModelCacheOptions {
  /** Called as bytes arrive, per file: bytes written so far, total when known (manifest `bytes` or Content-Length). */
  onProgress?(bytesDone: number, bytesTotal: number | undefined, fileName: string): void;
  signal?: AbortSignal;
}

/** What happened to one file. */
export interface FetchedFile {
  name: string;
  path: string;
  sha256: string;
  bytes: number;
  /** false: already present with the right hash. */
  downloaded: boolean;
  /** false: the manifest has no sha256; the hash was recorded in `<dir>/.sha256` (trust on first use). */
  pinned: boolean;
}

/** Result of {@link fetchModel}. */
export interface FetchModelResult { id: string; dir: string; files: FetchedFile[] }

const NETWORK_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'ENETUNREACH', 'EHOSTUNREACH', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'EPROTO', 'CERT_HAS_EXPIRED', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY']);
const MAX_REDIRECTS = 10;

function networkCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown; errors?: unknown[] } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return e.code;
    const inner = e.errors?.map(networkCode).find(Boolean);
    if (inner) return inner;
  }
  return undefined;
}

function byHandMessage(entry: ModelEntry, dir: string): string {
  const list = entry.files.map((f) => `  ${f.name}  ←  ${f.url}`).join('\n');
  return `Without network: download these files on a connected machine and copy them into ${dir}/\n${list}\nthen run: stcts models verify`;
}

/** Streams `url` into `tmp`; returns its sha256 and length. Follows redirects (Hugging Face, GitHub use them). */
async function download(file: ModelFile, tmp: string, o: FetchModelOptions): Promise<{ sha256: string; bytes: number }> {
  const res = await fetch(file.url, { redirect: 'follow', signal: o.signal ?? null, headers: { 'user-agent': 'stcts-models' } });
  if (!res.ok || !res.body) {
    throw new ModelError('download_failed', `GET ${file.url} answered HTTP ${res.status} ${res.statusText}`, { url: file.url, status: res.status });
  }
  const lengthHeader = Number(res.headers.get('content-length'));
  const total = file.bytes ?? (Number.isFinite(lengthHeader) && lengthHeader > 0 ? lengthHeader : undefined);
  const hash = createHash('sha256');
  const out = createWriteStream(tmp, { flags: 'wx' });
  let done = 0;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      done += chunk.length;
      // Respect backpressure: never buffer more than the stream's high-water mark.
      if (!out.write(chunk)) await once(out, 'drain');
      o.onProgress?.(done, total, file.name);
    }
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    // The server answered, so this is not "no network": the transfer broke off.
    throw new ModelError('download_failed', `download of ${file.url} broke off after ${done} bytes: ${(err as Error).message}; run the fetch again`, { url: file.url }, { cause: err });
  } finally {
    out.end();
    await once(out, 'close');
  }
  return { sha256: hash.digest('hex'), bytes: done };
}

function writeTofu(dir: string, record: Map<string, string>): void {
  const text = [...record].map(([name, sha]) => `${sha}  ${name}\n`).join('');
  const tmp = join(dir, `${TOFU_FILE}.${randomBytes(4).toString('hex')}.part`);
  writeFileSync(tmp, text);
  renameSync(tmp, join(dir, TOFU_FILE));
}

/**
 * Downloads model `id` into `<cacheDir>/<id>/` (files already present with the right hash are
 * kept). Errors: unknown id → `UsageError`; no connection → `ModelError('no_network')` explaining
 * how to copy the files by hand; HTTP error → `download_failed`; hash differs from the manifest (or
 * from the trust-on-first-use record) → `sha_mismatch`, with nothing of that file left behind.
 */
export async function fetchModel(id: string, o: FetchModelOptions = {}): Promise<FetchModelResult> {
  const manifest = o.manifest ?? loadManifest();
  const entry = findModel(id, manifest);
  const { dir, files } = modelPaths(entry, o.cacheDir);
  const createdDir = !existsSync(dir);
  mkdirSync(dir, { recursive: true });
  const tofu = readTofuRecord(dir);
  const result: FetchedFile[] = [];
  try {
    for (const file of entry.files) {
      const path = files[file.name]!;
      const expected = file.sha256 ?? tofu.get(file.name) ?? null;
      if (existsSync(path)) {
        const have = await sha256File(path);
        if (expected === null || have === expected) {
          if (file.sha256 === null && !tofu.has(file.name)) tofu.set(file.name, have);
          result.push({ name: file.name, path, sha256: have, bytes: statSync(path).size, downloaded: false, pinned: file.sha256 !== null });
          continue;
        }
      }
      const tmp = join(dir, `.${file.name}.${process.pid}.${randomBytes(4).toString('hex')}.part`);
      try {
        let got: { sha256: string; bytes: number };
        try {
          got = await download(file, tmp, o);
        } catch (err) {
          if (err instanceof ModelError) throw err;
          if ((err as Error).name === 'AbortError') throw err;
          const code = networkCode(err);
          if (code) {
            throw new ModelError('no_network', `cannot download model ${id}: ${new URL(file.url).host} is unreachable (${code}).\n${byHandMessage(entry, dir)}`, { modelId: id, url: file.url, code }, { cause: err });
          }
          throw new ModelError('download_failed', `downloading ${file.url} failed: ${(err as Error).message}`, { modelId: id, url: file.url }, { cause: err });
        }
        if (expected !== null && got.sha256 !== expected) {
          const why = file.sha256 ? 'the manifest pins' : `${TOFU_FILE} recorded on first use (delete that line to trust the new file)`;
          throw new ModelError('sha_mismatch', `${file.name} of model ${id} has sha256 ${got.sha256}, but ${why} ${expected}; the download was discarded`, { modelId: id, file: file.name, actual: got.sha256, expected });
        }
        if (file.bytes !== undefined && got.bytes !== file.bytes) {
          throw new ModelError('download_failed', `${file.name} of model ${id} is ${got.bytes} bytes, the manifest says ${file.bytes}; the download was discarded`, { modelId: id, file: file.name });
        }
        renameSync(tmp, path);
        if (file.sha256 === null) tofu.set(file.name, got.sha256);
        result.push({ name: file.name, path, sha256: got.sha256, bytes: got.bytes, downloaded: true, pinned: file.sha256 !== null });
      } finally {
        rmSync(tmp, { force: true });
      }
    }
  } finally {
    if (tofu.size > 0) writeTofu(dir, tofu);
    // A first fetch that failed before any file arrived leaves no empty folder behind.
    if (createdDir && readdirSync(dir).length === 0) rmdirSync(dir);
  }
  return { id, dir, files: result };
}
