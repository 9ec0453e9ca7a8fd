/**
 * A thin ONNX Runtime session (issue #9): the one place that loads onnxruntime-node for the neural
 * engines, checks a model's tensors against what the engine expects, and turns the runtime's
 * failures into typed errors. One session per engine instance; no module-level caches.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { EngineError, EngineUnavailableError, InvalidStateError, ModelError } from '../../core/errors.ts';

/** Element types the engines exchange with their models. */
export type OnnxElemType = 'float32' | 'int64' | 'int32' | 'bool';

/** An expected tensor signature; a `null` or string dimension accepts any size. */
export interface TensorSig { name: string; elemType: OnnxElemType; shape: Array<number | string | null> }

/** What a tensor looks like to callers: ORT tensors and {@link tensor} results both fit. */
export interface OrtTensorLike { readonly type: string; readonly data: unknown; readonly dims: readonly number[] }

/** A loaded model. `close()` is idempotent; `run()` after it throws `InvalidStateError`. */
export interface OnnxSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the model; `outputNames` defaults to all outputs. */
  run(feeds: Record<string, OrtTensorLike>, outputNames?: string[]): Promise<Record<string, OrtTensorLike>>;
  close(): Promise<void>;
}

/** Options of {@link createOnnxSession}. */
export interface OnnxSessionOptions {
  /** Manifest id of the model, used in messages and in the remedy `stcts models fetch <modelId>`. */
  modelId?: string;
  /** Tensors the model must have (names, element types, fixed dims). */
  expect?: { inputs?: TensorSig[]; outputs?: TensorSig[] };
  /** Intra-op threads (default 1: the edge box is small and engines run side by side). */
  threads?: number;
}

interface OrtValueMetadata { name: string; isTensor: boolean; type?: string; shape?: ReadonlyArray<number | string> }
interface OrtSession {
  inputNames: readonly string[];
  outputNames: readonly string[];
  inputMetadata?: readonly OrtValueMetadata[];
  outputMetadata?: readonly OrtValueMetadata[];
  run(feeds: Record<string, unknown>, fetches?: string[]): Promise<Record<string, OrtTensorLike>>;
  release(): Promise<void>;
}
interface Ort {
  InferenceSession: { create(path: string, o?: object): Promise<OrtSession> };
  Tensor: new (type: string, data: unknown, dims?: readonly number[]) => OrtTensorLike;
}

const DATA_CTORS: Record<OnnxElemType, { name: string; ctor: Function }> = {
  float32: { name: 'Float32Array', ctor: Float32Array },
  int64: { name: 'BigInt64Array', ctor: BigInt64Array },
  int32: { name: 'Int32Array', ctor: Int32Array },
  bool: { name: 'Uint8Array', ctor: Uint8Array },
};

/**
 * A plain tensor value for {@link OnnxSession.run} (converted to an ORT tensor there, so building
 * feeds does not load the runtime). `dims` must multiply to `data.length`.
 */
export function tensor(type: OnnxElemType, data: Float32Array | BigInt64Array | Int32Array | Uint8Array, dims: number[]): OrtTensorLike {
  const want = DATA_CTORS[type];
  if (!want) throw new TypeError(`unsupported tensor type '${type}'`);
  if (!(data instanceof want.ctor)) throw new TypeError(`a ${type} tensor needs a ${want.name}`);
  const count = dims.reduce((a, b) => a * b, 1);
  if (dims.some((d) => !Number.isInteger(d) || d < 0) || count !== data.length) {
    throw new RangeError(`tensor dims [${dims.join(', ')}] do not match ${data.length} values`);
  }
  return Object.freeze({ type, data, dims: Object.freeze([...dims]) });
}

function loadOrt(engineId: string): Ort {
  try {
    return createRequire(import.meta.url)('onnxruntime-node') as Ort;
  } catch (err) {
    throw new EngineUnavailableError(engineId, `onnxruntime-node cannot be loaded: ${(err as Error).message}`, 'npm ci (installs onnxruntime-node)', { cause: err });
  }
}

function describeShape(shape: ReadonlyArray<number | string | null>): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

/** Throws `ModelError('shape_mismatch')` naming the first tensor that does not match. */
function checkSignature(kind: 'input' | 'output', want: readonly TensorSig[], names: readonly string[], meta: readonly OrtValueMetadata[] | undefined, modelId: string, path: string): void {
  for (const sig of want) {
    const details = { modelId, path, tensor: sig.name, kind };
    if (!names.includes(sig.name)) {
      throw new ModelError('shape_mismatch', `model ${modelId} has no ${kind} tensor '${sig.name}' (it has: ${names.join(', ') || 'none'}); is ${path} the right export?`, details);
    }
    const m = meta?.find((x) => x.name === sig.name);
    if (!m || !m.isTensor || m.type === undefined) continue; // this ORT version gives names only
    if (m.type !== sig.elemType) {
      throw new ModelError('shape_mismatch', `model ${modelId}: ${kind} '${sig.name}' is ${m.type}, expected ${sig.elemType}`, { ...details, actual: m.type, expected: sig.elemType });
    }
    const shape = m.shape ?? [];
    if (shape.length === 0) continue; // shape not declared in the model
    const bad = shape.length !== sig.shape.length || sig.shape.some((d, i) => typeof d === 'number' && typeof shape[i] === 'number' && shape[i] !== d);
    if (bad) {
      throw new ModelError('shape_mismatch', `model ${modelId}: ${kind} '${sig.name}' has shape ${describeShape(shape)}, expected ${describeShape(sig.shape)}`, { ...details, actual: [...shape], expected: sig.shape });
    }
  }
}

/**
 * Loads an ONNX model with onnxruntime-node (CPU).
 * Throws `EngineUnavailableError` when the runtime or the file is missing (remedy
 * `stcts models fetch <modelId>` when `modelId` is given), `ModelError('bad_model')` when the file
 * does not load, `ModelError('shape_mismatch')` when `expect` is not met.
 */
export async function createOnnxSession(modelPath: string, options: OnnxSessionOptions = {}): Promise<OnnxSession> {
  const modelId = options.modelId ?? modelPath;
  const engineId = options.modelId ?? 'onnx';
  if (!existsSync(modelPath)) {
    throw new EngineUnavailableError(engineId, `model file ${modelPath} is missing`, options.modelId ? `stcts models fetch ${options.modelId}` : 'check the model path');
  }
  const ort = loadOrt(engineId);
  const threads = options.threads ?? 1;
  let session: OrtSession;
  try {
    session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  } catch (err) {
    throw new ModelError('bad_model', `ONNX Runtime cannot load ${modelPath}${options.modelId ? ` (model ${options.modelId}; re-fetch it with stcts models fetch ${options.modelId})` : ''}: ${(err as Error).message}`, { modelId, path: modelPath }, { cause: err });
  }
  try {
    checkSignature('input', options.expect?.inputs ?? [], session.inputNames, session.inputMetadata, modelId, modelPath);
    checkSignature('output', options.expect?.outputs ?? [], session.outputNames, session.outputMetadata, modelId, modelPath);
  } catch (err) {
    await session.release();
    throw err;
  }
  return new OrtOnnxSession(ort, session, modelId);
}

class OrtOnnxSession implements OnnxSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  private closed = false;
  private releasing: Promise<void> | undefined;

  constructor(private readonly ort: Ort, private readonly session: OrtSession, private readonly modelId: string) {
    this.inputNames = Object.freeze([...session.inputNames]);
    this.outputNames = Object.freeze([...session.outputNames]);
  }

  async run(feeds: Record<string, OrtTensorLike>, outputNames?: string[]): Promise<Record<string, OrtTensorLike>> {
    if (this.closed) throw new InvalidStateError(`ONNX session of ${this.modelId} is closed`);
    const missing = this.inputNames.filter((n) => !(n in feeds));
    if (missing.length > 0) throw new EngineError('missing_input', `model ${this.modelId} needs input(s) ${missing.join(', ')}`, { modelId: this.modelId, tensor: missing[0] });
    const ortFeeds: Record<string, unknown> = {};
    for (const [name, t] of Object.entries(feeds)) {
      const isOrt = (t as object) instanceof (this.ort.Tensor as unknown as Function);
      ortFeeds[name] = isOrt ? t : new this.ort.Tensor(t.type, t.data, t.dims);
    }
    try {
      return outputNames ? await this.session.run(ortFeeds, outputNames) : await this.session.run(ortFeeds);
    } catch (err) {
      throw new EngineError('inference_failed', `model ${this.modelId} failed to run: ${(err as Error).message}`, { modelId: this.modelId }, { cause: err });
    }
  }

  close(): Promise<void> {
    this.closed = true;
    this.releasing ??= this.session.release();
    return this.releasing;
  }
}
