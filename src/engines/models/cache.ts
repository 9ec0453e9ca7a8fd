/**
 * Where model files live: `<cacheDir>/<model id>/<file name>`, never in git. Resolution only looks
 * at the disk; downloading is {@link fetchModel}'s job.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { EngineUnavailableError, UsageError } from '../../core/errors.ts';
import { loadManifest, type ModelEntry, type ModelManifest } from './manifest.ts';

/** Options shared by the model functions. */
export interface ModelCacheOptions {
  /** Cache folder override (CLI `--model-dir` / `--cache`). */
  cacheDir?: string;
  /** An already loaded manifest (default: `models/manifest.json`). */
  manifest?: ModelManifest;
}

/** A model found on disk: its manifest entry, its folder and each file's absolute path by name. */
export interface ResolvedModel { entry: ModelEntry; dir: string; files: Record<string, string> }

/** Name of the trust-on-first-use hash record in a model folder (sha256sum format). */
export const TOFU_FILE = '.sha256';

/** The cache folder: `override` > env `STCTS_MODEL_DIR` > `$XDG_CACHE_HOME/stcts/models` > `~/.cache/stcts/models`. */
export function modelCacheDir(override?: string): string {
  if (override) return resolve(override);
  const env = process.env.STCTS_MODEL_DIR;
  if (env) return resolve(env);
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg ? resolve(xdg) : join(homedir(), '.cache'), 'stcts', 'models');
}

/** The manifest entry for `id`; unknown ids are a `UsageError` that lists the known ones. */
export function findModel(id: string, manifest: ModelManifest): ModelEntry {
  const entry = manifest.models.find((m) => m.id === id);
  if (!entry) throw new UsageError(`unknown model '${id}' (known: ${manifest.models.map((m) => m.id).join(', ') || 'none'}; see stcts models list)`);
  return entry;
}

/** Folder and per-file paths of a model, whether or not they exist. */
export function modelPaths(entry: ModelEntry, cacheDir?: string): ResolvedModel {
  const dir = join(modelCacheDir(cacheDir), entry.id);
  const files: Record<string, string> = {};
  for (const f of entry.files) files[f.name] = join(dir, f.name);
  return { entry, dir, files };
}

/** Names of the model's files that are not on disk. */
export function missingFiles(m: ResolvedModel): string[] {
  return m.entry.files.filter((f) => !isFile(m.files[f.name]!)).map((f) => f.name);
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * Finds an installed model. Unknown id → `UsageError` listing the ids; any file missing →
 * `EngineUnavailableError(id, 'model ID is not installed …', 'stcts models fetch ID')`.
 * Does not hash the files (that is `stcts models verify`).
 */
export function resolveModel(id: string, o: ModelCacheOptions = {}): ResolvedModel {
  const manifest = o.manifest ?? loadManifest();
  const m = modelPaths(findModel(id, manifest), o.cacheDir);
  const missing = missingFiles(m);
  if (missing.length > 0) {
    throw new EngineUnavailableError(id, `model ${id} is not installed (missing in ${m.dir}: ${missing.join(', ')})`, `stcts models fetch ${id}`);
  }
  return m;
}

/** The trust-on-first-use hashes recorded in `<dir>/.sha256` (file name → hex). */
export function readTofuRecord(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const p = join(dir, TOFU_FILE);
  if (!existsSync(p)) return out;
  for (const line of readFileSync(p, 'utf8').split('\n')) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line.trim());
    if (m) out.set(m[2]!, m[1]!);
  }
  return out;
}
