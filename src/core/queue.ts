import { InvalidStateError } from './errors.ts';

/** What a full {@link BoundedQueue} does with a new item. */
export type OverflowPolicy = 'drop-oldest' | 'drop-newest' | 'block';

export interface BoundedQueueOptions {
  /** Maximum number of buffered items. */
  capacity: number;
  /** Behaviour when full. `block` makes `push()` resolve only when there is room. Default `block`. */
  overflow: OverflowPolicy;
}

/**
 * The one entry point for push sources (sockets, timers, microphones) into pull-based pipelines.
 * Bounded, with a declared overflow policy and a dropped-items counter. Iterate it with `for await`.
 */
export class BoundedQueue<T> implements AsyncIterable<T> {
  readonly capacity: number;
  readonly overflow: OverflowPolicy;
  /** Items discarded by the overflow policy. */
  dropped = 0;
  private readonly items: T[] = [];
  private readonly waitingReaders: Array<(r: IteratorResult<T>) => void> = [];
  private readonly waitingWriters: Array<() => void> = [];
  private ended = false;
  private failure: unknown = undefined;

  constructor(options: Partial<BoundedQueueOptions> & { capacity: number }) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1) {
      throw new RangeError(`BoundedQueue capacity must be a positive integer, got ${options.capacity}`);
    }
    this.capacity = options.capacity;
    this.overflow = options.overflow ?? 'block';
  }

  get size(): number {
    return this.items.length;
  }

  /** Adds an item. With policy `block` the returned promise waits for room; otherwise resolves at once. */
  async push(item: T): Promise<void> {
    if (this.ended) throw new InvalidStateError('push() after end() on a BoundedQueue');
    const reader = this.waitingReaders.shift();
    if (reader) {
      reader({ value: item, done: false });
      return;
    }
    while (this.items.length >= this.capacity) {
      if (this.overflow === 'drop-newest') {
        this.dropped++;
        return;
      }
      if (this.overflow === 'drop-oldest') {
        this.items.shift();
        this.dropped++;
        break;
      }
      await new Promise<void>((resolve) => this.waitingWriters.push(resolve));
      if (this.ended) throw new InvalidStateError('queue ended while push() was waiting');
    }
    this.items.push(item);
  }

  /** No more items: readers finish after draining what is buffered. Idempotent. */
  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    for (const w of this.waitingWriters.splice(0)) w();
    if (this.items.length === 0) {
      for (const r of this.waitingReaders.splice(0)) {
        if (error !== undefined) r(Promise.reject(error) as never);
        else r({ value: undefined as never, done: true });
      }
    }
  }

  async next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) {
      const value = this.items.shift() as T;
      this.waitingWriters.shift()?.();
      return { value, done: false };
    }
    if (this.ended) {
      if (this.failure !== undefined) throw this.failure;
      return { value: undefined as never, done: true };
    }
    return new Promise<IteratorResult<T>>((resolve) => this.waitingReaders.push(resolve));
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return { next: () => this.next() };
  }
}
