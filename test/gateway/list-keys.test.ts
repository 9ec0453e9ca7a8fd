import { describe, expect, it } from 'vitest';
import type { KV } from 'nats';
import { TransportError } from '../../src/core/errors.ts';
import { listKeys } from '../../src/gateway/jetstream.ts';

/** A bucket whose key listing yields `keys` and then, when `hang`, never ends (nats-server 2.9 can do that while keys are deleted). */
function fakeBucket(keys: string[], hang: boolean): { kv: KV; stopped: () => boolean } {
  let stopped = false;
  const kv = {
    async keys() {
      let wake: (() => void) | undefined;
      return {
        stop() {
          stopped = true;
          wake?.();
        },
        async *[Symbol.asyncIterator]() {
          for (const k of keys) yield k;
          if (hang) await new Promise<void>((r) => (wake = r));
        },
      };
    },
  } as unknown as KV;
  return { kv, stopped: () => stopped };
}

describe('listKeys: a bounded key listing', () => {
  it('returns every key of a listing that ends, and releases the iterator', async () => {
    const b = fakeBucket(['1', '2', '3'], false);
    expect(await listKeys(b.kv, 500)).toEqual(['1', '2', '3']);
    expect(b.stopped()).toBe(true);
  });

  it('a listing that never ends is a TransportError timeout after the bound, not a scan loop stuck for good', async () => {
    const b = fakeBucket(['1'], true);
    const t0 = performance.now();
    const err = await listKeys(b.kv, 200).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).code).toBe('timeout');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(190);
    expect(b.stopped()).toBe(true);
  });
});
