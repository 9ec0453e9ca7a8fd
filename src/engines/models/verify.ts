/** `stcts models verify`: hashes every installed file against the manifest (or the first-use record). */
import { existsSync } from 'node:fs';
import { modelPaths, readTofuRecord, type ModelCacheOptions } from './cache.ts';
import { sha256File } from './hash.ts';
import { loadManifest } from './manifest.ts';

/** Status of a model or file: `unpinned` = present, manifest has no sha256 (only first-use record, if any). */
export type ModelStatus = 'ok' | 'missing' | 'sha_mismatch' | 'unpinned';

/** One model's verification. */
export interface ModelVerification {
  id: string;
  status: ModelStatus;
  dir: string;
  files: Array<{ name: string; status: ModelStatus; sha256?: string }>;
}

/** Options of {@link verifyModels}; `ids` restricts the check (default: every model in the manifest). */
export interface VerifyModelsOptions extends ModelCacheOptions { ids?: string[] }

const RANK: Record<ModelStatus, number> = { ok: 0, unpinned: 1, missing: 2, sha_mismatch: 3 };

/**
 * Verifies installed models. A model's status is its worst file's: sha_mismatch > missing >
 * unpinned > ok. An unpinned file whose first-use record differs is `sha_mismatch`.
 */
export async function verifyModels(o: VerifyModelsOptions = {}): Promise<ModelVerification[]> {
  const manifest = o.manifest ?? loadManifest();
  const out: ModelVerification[] = [];
  for (const entry of manifest.models) {
    if (o.ids && !o.ids.includes(entry.id)) continue;
    const { dir, files } = modelPaths(entry, o.cacheDir);
    const tofu = readTofuRecord(dir);
    const fileResults: ModelVerification['files'] = [];
    for (const f of entry.files) {
      const path = files[f.name]!;
      if (!existsSync(path)) {
        fileResults.push({ name: f.name, status: 'missing' });
        continue;
      }
      const sha256 = await sha256File(path);
      const expected = f.sha256 ?? tofu.get(f.name);
      const status: ModelStatus = expected !== undefined && expected !== sha256 ? 'sha_mismatch' : f.sha256 === null ? 'unpinned' : 'ok';
      fileResults.push({ name: f.name, status, sha256 });
    }
    const status = fileResults.reduce<ModelStatus>((w, f) => (RANK[f.status] > RANK[w] ? f.status : w), 'ok');
    out.push({ id: entry.id, status, dir, files: fileResults });
  }
  return out;
}
