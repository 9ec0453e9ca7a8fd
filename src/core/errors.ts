/**
 * Typed errors. Every error the project throws on purpose is a {@link StctsError} with a stable
 * `code`; tests check class and code, never message text. Messages tell the user what to do.
 */
export class StctsError extends Error {
  readonly code: string;
  readonly details?: Record<string, unknown>;
  constructor(code: string, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    if (details !== undefined) this.details = details;
  }
}

export type DecodeErrorCode =
  | 'truncated'
  | 'malformed'
  | 'unsupported_version'
  | 'too_large'
  | 'model_mismatch'
  | 'invalid_value';

/** Bytes that cannot be decoded (frames, coded text, prosody, profiles). */
export class DecodeError extends StctsError {
  declare readonly code: DecodeErrorCode;
  constructor(code: DecodeErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
  }
}

export type EncodeErrorCode = 'too_large' | 'invalid_value';

/** Values that cannot be encoded (out of range, too large for the wire). */
export class EncodeError extends StctsError {
  declare readonly code: EncodeErrorCode;
  constructor(code: EncodeErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
  }
}

export type AudioErrorCode = 'not_wav' | 'truncated' | 'empty' | 'unsupported_format' | 'too_large';

/** Audio input that cannot be read. */
export class AudioError extends StctsError {
  declare readonly code: AudioErrorCode;
  constructor(code: AudioErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
  }
}

/** An engine whose system package, native addon or model files are missing. */
export class EngineUnavailableError extends StctsError {
  readonly engineId: string;
  /** What to install or run to make the engine available (e.g. a Debian package name). */
  readonly remedy: string;
  constructor(engineId: string, message: string, remedy: string, options?: { cause?: unknown }) {
    super('engine_unavailable', `${message} (${remedy})`, { engineId, remedy }, options);
    this.engineId = engineId;
    this.remedy = remedy;
  }
}

/** An engine that was available but failed while working. */
export class EngineError extends StctsError {
  constructor(code: string, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(code, message, details, options);
  }
}

export type TransportErrorCode = 'closed' | 'timeout' | 'refused' | 'protocol' | 'overflow' | 'auth_failed' | 'too_large';

/** Link and socket failures. */
export class TransportError extends StctsError {
  declare readonly code: TransportErrorCode;
  constructor(code: TransportErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(code, message, details, options);
  }
}

/** An object used after `close()`, or in a state that does not allow the call. */
export class InvalidStateError extends StctsError {
  constructor(message: string) {
    super('invalid_state', message);
  }
}

/** Bad command-line or option values supplied by the user. */
export class UsageError extends StctsError {
  constructor(message: string) {
    super('usage', message);
  }
}

export type ModelErrorCode = 'shape_mismatch' | 'sha_mismatch' | 'bad_manifest' | 'download_failed' | 'no_network' | 'bad_model';

/**
 * Model files (issue #9): a manifest that does not validate, a download that fails or whose sha256
 * differs, a model whose tensors do not match what the engine expects, or a file ONNX Runtime
 * cannot load. `details.modelId` / `details.tensor` name the culprit where known.
 */
export class ModelError extends StctsError {
  declare readonly code: ModelErrorCode;
  constructor(code: ModelErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(code, message, details, options);
  }
}

export type ConfigErrorCode = 'not_found' | 'too_large' | 'invalid_yaml' | 'unknown_key' | 'missing' | 'invalid_value' | 'unknown_peer';

/** A daemon configuration that cannot be used (edge/stcts.yaml), or a name it does not define. */
export class ConfigError extends StctsError {
  declare readonly code: ConfigErrorCode;
  constructor(code: ConfigErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
  }
}
