import { UsageError } from '../core/errors.ts';

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string | true>;
}

/**
 * Minimal GNU-style parser: `--name value`, `--name=value`, `-o value`, boolean `--flag`.
 * `booleans` lists flags that never take a value. Unknown flags are a {@link UsageError}.
 */
export function parseArgs(args: string[], spec: { values?: string[]; booleans?: string[]; aliases?: Record<string, string> }): ParsedArgs {
  const values = new Set(spec.values ?? []);
  const booleans = new Set(spec.booleans ?? []);
  const aliases = spec.aliases ?? {};
  const out: ParsedArgs = { positionals: [], flags: new Map() };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') {
      out.positionals.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      out.positionals.push(a);
      continue;
    }
    let name = a.replace(/^--?/, '');
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    name = aliases[name] ?? name;
    if (booleans.has(name)) {
      if (value !== undefined) throw new UsageError(`--${name} takes no value`);
      out.flags.set(name, true);
    } else if (values.has(name)) {
      if (value === undefined) {
        value = args[++i];
        if (value === undefined) throw new UsageError(`--${name} needs a value`);
      }
      out.flags.set(name, value);
    } else {
      throw new UsageError(`unknown option ${a}`);
    }
  }
  return out;
}

export function stringFlag(p: ParsedArgs, name: string): string | undefined {
  const v = p.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function numberFlag(p: ParsedArgs, name: string, opts: { min?: number; max?: number } = {}): number | undefined {
  const v = stringFlag(p, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got '${v}'`);
  if (opts.min !== undefined && n < opts.min) throw new UsageError(`--${name} must be ≥ ${opts.min}, got ${n}`);
  if (opts.max !== undefined && n > opts.max) throw new UsageError(`--${name} must be ≤ ${opts.max}, got ${n}`);
  return n;
}

export function choiceFlag<T extends string>(p: ParsedArgs, name: string, choices: readonly T[]): T | undefined {
  const v = stringFlag(p, name);
  if (v === undefined) return undefined;
  if (!(choices as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${choices.join('|')}, got '${v}'`);
  return v as T;
}
