/** Severity of a log line; lines below the logger's level are not written. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Structured logger: one JSON object per line (`{"t":…,"level":…,"msg":…,…fields}`). */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line. */
  child(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  level: LogLevel;
  /** Where lines go (each ends with a newline). Default: process.stderr. */
  write: (line: string) => void;
}

export const DEFAULT_LOGGER_OPTIONS: Readonly<LoggerOptions> = Object.freeze({
  level: 'info' as LogLevel,
  write: (line: string) => void process.stderr.write(line),
});

/** Creates a JSON-lines logger. Errors in fields are reduced to their name, code and message. */
export function createLogger(options: Partial<LoggerOptions> = {}, base: Record<string, unknown> = {}): Logger {
  const o = { ...DEFAULT_LOGGER_OPTIONS, ...options };
  const min = LEVELS[o.level];
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS[level] < min) return;
    const line: Record<string, unknown> = { t: new Date().toISOString(), level, msg, ...base };
    for (const [k, v] of Object.entries(fields ?? {})) line[k] = v instanceof Error ? errorFields(v) : v;
    o.write(JSON.stringify(line, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) + '\n');
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(o, { ...base, ...fields }),
  };
}

/** A logger that writes nothing (tests, library defaults). */
export const silentLogger: Logger = createLogger({ write: () => {} });

function errorFields(e: Error): Record<string, unknown> {
  return { name: e.name, code: (e as { code?: unknown }).code, message: e.message };
}
