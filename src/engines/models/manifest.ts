/**
 * The model manifest (`models/manifest.json`, issue #9): which neural models exist, where to get
 * their files, their sha256 and the tensors the engines expect. Validated once on load; the parsed
 * manifest is frozen and never mutated.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ModelError } from '../../core/errors.ts';
import type { OnnxElemType, TensorSig } from '../onnx/index.ts';

/** What a model is for. */
export type ModelKind = 'asr' | 'speaker' | 'tts';

/** One file of a model; stored as `<cacheDir>/<model id>/<name>`. */
export interface ModelFile {
  /** File name in the model's cache folder (no path separators). */
  name: string;
  /** http(s) download URL. */
  url: string;
  /** Lower-case hex sha256, or null: trust on first use (recorded in `<dir>/.sha256`). */
  sha256: string | null;
  /** Size in bytes, when known (progress total and a sanity check). */
  bytes?: number;
  /** Tensors of an ONNX file as the engine expects them. */
  io?: { inputs: TensorSig[]; outputs: TensorSig[] };
}

/** One model. `engine` is the engine family that reads it ('whisper' | 'speaker-encoder' | 'piper'). */
export interface ModelEntry {
  id: string;
  kind: ModelKind;
  engine: string;
  description: string;
  licence: string;
  files: ModelFile[];
  /** Engine-specific settings (e.g. Whisper's n_mels, special token ids; Piper's sample rate). */
  config?: Record<string, unknown>;
}

/** The whole manifest. */
export interface ModelManifest { version: 1; models: ModelEntry[] }

/** `models/manifest.json` in this repository. */
export const DEFAULT_MANIFEST_PATH = fileURLToPath(new URL('../../../models/manifest.json', import.meta.url));

const KINDS: readonly ModelKind[] = ['asr', 'speaker', 'tts'];
const ELEM_TYPES: readonly OnnxElemType[] = ['float32', 'int64', 'int32', 'bool'];
const ID_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/i;
const FILE_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const SHA_RE = /^[0-9a-f]{64}$/;

function fail(where: string, msg: string): never {
  throw new ModelError('bad_manifest', `model manifest: ${where}: ${msg}`, { where });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(o: Record<string, unknown>, key: string, where: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0) fail(where, `'${key}' must be a non-empty string`);
  return v;
}

function tensorSigs(v: unknown, where: string): TensorSig[] {
  if (!Array.isArray(v)) fail(where, 'must be an array of tensor signatures');
  return v.map((t, i) => {
    const w = `${where}[${i}]`;
    if (!isObject(t)) fail(w, 'must be an object');
    const name = str(t, 'name', w);
    const elemType = t.elemType as OnnxElemType;
    if (!ELEM_TYPES.includes(elemType)) fail(w, `elemType must be one of ${ELEM_TYPES.join(', ')}`);
    if (!Array.isArray(t.shape)) fail(w, 'shape must be an array');
    const shape = t.shape.map((d) => {
      if (d === null || typeof d === 'string' || (typeof d === 'number' && Number.isInteger(d) && d >= 0)) return d;
      return fail(w, `bad dimension ${JSON.stringify(d)} (integer ≥ 0, symbolic name or null)`);
    });
    return { name, elemType, shape };
  });
}

function modelFile(v: unknown, where: string): ModelFile {
  if (!isObject(v)) fail(where, 'must be an object');
  const name = str(v, 'name', where);
  if (!FILE_RE.test(name)) fail(where, `file name '${name}' must be a plain file name`);
  const url = str(v, 'url', where);
  let proto: string;
  try {
    proto = new URL(url).protocol;
  } catch {
    fail(where, `url '${url}' is not a URL`);
  }
  if (proto !== 'http:' && proto !== 'https:') fail(where, `url '${url}' must be http(s)`);
  const sha256 = v.sha256;
  if (sha256 !== null && (typeof sha256 !== 'string' || !SHA_RE.test(sha256))) fail(where, "sha256 must be 64 lower-case hex digits or null");
  const out: ModelFile = { name, url, sha256 };
  if (v.bytes !== undefined) {
    if (typeof v.bytes !== 'number' || !Number.isSafeInteger(v.bytes) || v.bytes <= 0) fail(where, 'bytes must be a positive integer');
    out.bytes = v.bytes;
  }
  if (v.io !== undefined) {
    if (!isObject(v.io)) fail(where, 'io must be an object');
    out.io = { inputs: tensorSigs(v.io.inputs, `${where}.io.inputs`), outputs: tensorSigs(v.io.outputs, `${where}.io.outputs`) };
  }
  return out;
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

/**
 * Validates a parsed manifest and returns a frozen copy; throws `ModelError('bad_manifest')` naming
 * the first bad field. `source` is only used in messages.
 */
export function validateManifest(raw: unknown, source = 'manifest'): ModelManifest {
  if (!isObject(raw)) fail(source, 'must be a JSON object');
  if (raw.version !== 1) fail(source, `version must be 1, got ${JSON.stringify(raw.version)}`);
  if (!Array.isArray(raw.models)) fail(source, "'models' must be an array");
  const seen = new Set<string>();
  const models = raw.models.map((m, i): ModelEntry => {
    let where = `models[${i}]`;
    if (!isObject(m)) fail(where, 'must be an object');
    const id = str(m, 'id', where);
    where = `model ${id}`;
    if (!ID_RE.test(id)) fail(where, 'id must be letters, digits, . _ - (≤ 64)');
    if (seen.has(id)) fail(where, 'duplicate id');
    seen.add(id);
    const kind = m.kind as ModelKind;
    if (!KINDS.includes(kind)) fail(where, `kind must be one of ${KINDS.join(', ')}`);
    if (!Array.isArray(m.files) || m.files.length === 0) fail(where, "'files' must be a non-empty array");
    const files = m.files.map((f, j) => modelFile(f, `${where} files[${j}]`));
    const names = new Set(files.map((f) => f.name));
    if (names.size !== files.length) fail(where, 'file names must be unique');
    const entry: ModelEntry = { id, kind, engine: str(m, 'engine', where), description: str(m, 'description', where), licence: str(m, 'licence', where), files };
    if (m.config !== undefined) {
      if (!isObject(m.config)) fail(where, 'config must be an object');
      entry.config = structuredClone(m.config);
    }
    return entry;
  });
  return deepFreeze({ version: 1, models });
}

/** Reads and validates a manifest (default {@link DEFAULT_MANIFEST_PATH}). */
export function loadManifest(path: string = DEFAULT_MANIFEST_PATH): ModelManifest {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ModelError('bad_manifest', `cannot read the model manifest ${path}: ${(err as Error).message}`, { path }, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ModelError('bad_manifest', `model manifest ${path} is not valid JSON: ${(err as Error).message}`, { path }, { cause: err });
  }
  return validateManifest(raw, path);
}
