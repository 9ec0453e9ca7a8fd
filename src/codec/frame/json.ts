import type { Frame } from './types.ts';

/** JSON replacer for frames: bytes as lower-case hex, bigint as a decimal string. */
export function frameJsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Array.from(value, (b) => b.toString(16).padStart(2, '0')).join('');
  return value;
}

/** Stable JSON text of a list of frames (used by golden vectors and `stcts inspect --json`). */
export function framesToJson(frames: readonly Frame[]): string {
  return JSON.stringify(frames, frameJsonReplacer, 2) + '\n';
}
