/**
 * Neural model manifest, cache and downloads (issue #9). Engines call {@link resolveModel} to find
 * their files; `stcts models` lists, fetches and verifies them.
 */
export { DEFAULT_MANIFEST_PATH, loadManifest, validateManifest, type ModelEntry, type ModelFile, type ModelKind, type ModelManifest } from './manifest.ts';
export { findModel, missingFiles, modelCacheDir, modelPaths, readTofuRecord, resolveModel, TOFU_FILE, type ModelCacheOptions, type ResolvedModel } from './cache.ts';
export { fetchModel, type FetchedFile, type FetchModelOptions, type FetchModelResult } from './fetch.ts';
export { verifyModels, type ModelStatus, type ModelVerification, type VerifyModelsOptions } from './verify.ts';
export { sha256File } from './hash.ts';
