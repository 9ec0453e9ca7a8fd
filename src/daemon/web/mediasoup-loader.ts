/**
 * Finds a mediasoup worker binary and imports mediasoup (an optional dependency). mediasoup reads
 * `MEDIASOUP_WORKER_BIN` once, when its module is first imported, so it is set here before the
 * import. Order: an explicit `MEDIASOUP_WORKER_BIN`; the worker mediasoup's own postinstall put in
 * node_modules (a normal online install); the one scripts/build-mediasoup.sh built from Debian
 * libraries into .cache/mediasoup-worker/<version>/. Anything else → `EngineUnavailableError`, and
 * the caller falls back to WebSocket PCM. Issue #8; ../shared/notes/mediasoup-offline.md.
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineUnavailableError } from '../../core/errors.ts';

export type MediasoupModule = typeof import('mediasoup');

/** Where the worker binary came from. */
export type WorkerSource = 'env' | 'package' | 'built';

export interface MediasoupWorkerLocation {
  path: string;
  source: WorkerSource;
  /** mediasoup's npm version. */
  version: string;
}

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const REMEDY = 'run bash scripts/build-mediasoup.sh (Debian packages in scripts/setup.sh), or set MEDIASOUP_WORKER_BIN';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The cache path scripts/build-mediasoup.sh installs the worker for `version` into. */
export function builtWorkerPath(version: string, repoRoot = REPO_ROOT): string {
  return join(repoRoot, '.cache', 'mediasoup-worker', version, 'mediasoup-worker');
}

/**
 * Locates the worker without importing mediasoup. Throws `EngineUnavailableError` (engine id
 * `mediasoup`) when the package or a runnable worker is missing. `env` defaults to process.env.
 */
export function locateMediasoupWorker(env: NodeJS.ProcessEnv = process.env, repoRoot = REPO_ROOT): MediasoupWorkerLocation {
  let pkgDir: string;
  let version: string;
  try {
    // mediasoup's "exports" hide package.json: walk up from its main file.
    pkgDir = dirname(createRequire(join(repoRoot, 'package.json')).resolve('mediasoup'));
    for (;;) {
      const pkgJson = join(pkgDir, 'package.json');
      if (existsSync(pkgJson)) {
        const pkg = JSON.parse(readFileSync(pkgJson, 'utf8')) as { name?: string; version: string };
        if (pkg.name === 'mediasoup') {
          version = pkg.version;
          break;
        }
      }
      if (dirname(pkgDir) === pkgDir) throw new Error('mediasoup package.json not found');
      pkgDir = dirname(pkgDir);
    }
  } catch (err) {
    throw new EngineUnavailableError('mediasoup', 'the mediasoup package is not installed', 'run npm ci (mediasoup is an optional dependency)', { cause: err });
  }
  const fromEnv = env['MEDIASOUP_WORKER_BIN'];
  if (fromEnv) {
    if (!executable(fromEnv)) throw new EngineUnavailableError('mediasoup', `MEDIASOUP_WORKER_BIN=${fromEnv} is not an executable file`, REMEDY);
    return { path: fromEnv, source: 'env', version };
  }
  const buildType = env['MEDIASOUP_BUILDTYPE'] === 'Debug' ? 'Debug' : 'Release';
  const shipped = join(pkgDir, 'worker', 'out', buildType, 'mediasoup-worker');
  if (executable(shipped)) return { path: shipped, source: 'package', version };
  const built = builtWorkerPath(version, repoRoot);
  if (executable(built)) return { path: built, source: 'built', version };
  throw new EngineUnavailableError('mediasoup', `no mediasoup ${version} worker binary (looked in ${shipped} and ${built})`, REMEDY);
}

/**
 * Imports mediasoup with a worker binary that exists. Must run before anything else imports
 * mediasoup in this process (the binary path is fixed at first import).
 */
export async function loadMediasoup(env: NodeJS.ProcessEnv = process.env): Promise<{ mediasoup: MediasoupModule; worker: MediasoupWorkerLocation }> {
  const worker = locateMediasoupWorker(env);
  if (worker.source === 'built') process.env['MEDIASOUP_WORKER_BIN'] = worker.path;
  try {
    const mediasoup = (await import('mediasoup')) as MediasoupModule;
    return { mediasoup, worker };
  } catch (err) {
    throw new EngineUnavailableError('mediasoup', `cannot import mediasoup: ${(err as Error).message}`, REMEDY, { cause: err });
  }
}
