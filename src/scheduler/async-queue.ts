/**
 * A FIFO queue of work shared by async producers and consumers (one process).
 *
 * Contract: `take` resolves with the next item, or null once the queue is closed and empty or
 * the signal aborts; it never throws. `waitForRoom` resolves when fewer than `capacity` items
 * wait (or on close/abort). Items pushed after `close` are dropped.
 */
export class AsyncQueue<T> {
  private readonly items: T[] = [];
  private readonly takers: Array<(item: T | null) => void> = [];
  private readonly roomWaiters: Array<() => void> = [];
  private closed = false;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.items.length;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  push(item: T): void {
    if (this.closed) return;
    const taker = this.takers.shift();
    if (taker) taker(item);
    else this.items.push(item);
  }

  take(signal?: AbortSignal): Promise<T | null> {
    if (signal?.aborted) return Promise.resolve(null);
    const item = this.items.shift();
    if (item !== undefined) {
      this.wakeRoom();
      return Promise.resolve(item);
    }
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      const onAbort = () => {
        const i = this.takers.indexOf(done);
        if (i >= 0) this.takers.splice(i, 1);
        resolve(null);
      };
      const done = (v: T | null) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(v);
      };
      this.takers.push(done);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.wakeRoom();
    });
  }

  private hasRoom(): boolean {
    return this.items.length < this.capacity || (this.items.length === 0 && this.takers.length > 0);
  }

  /**
   * Resolves when another item is wanted: fewer than `capacity` wait, or none waits and a
   * consumer is idle (so capacity 0 means "only on demand"); or on close/abort.
   */
  waitForRoom(signal?: AbortSignal): Promise<void> {
    if (this.hasRoom() || this.closed || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.roomWaiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Number of consumers currently waiting for an item. */
  get waiting(): number {
    return this.takers.length;
  }

  close(): void {
    this.closed = true;
    for (const t of this.takers.splice(0)) t(null);
    this.wakeRoom(true);
  }

  private wakeRoom(all = false): void {
    if (!all && !this.hasRoom()) return;
    const n = all ? this.roomWaiters.length : 1;
    for (const w of this.roomWaiters.splice(0, n)) w();
  }
}

/** Runs async sections one at a time, in call order. Never throws by itself. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
