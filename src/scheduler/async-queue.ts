/**
 * A FIFO queue of work shared by async producers and consumers (one process).
 *
 * Contract: `take` resolves with the next item, or null once the queue is closed and empty or
 * the signal aborts; it never throws. `waitForRoom` resolves when fewer than `capacity` items
 * wait (or on close/abort). Items pushed after `close` are dropped.
 *
 * Several producers: `reserve` waits for room and holds it for an item being made (it counts as
 * waiting until `fill` pushes the item or `unreserve` gives the room back), so that k producers
 * never make more than the room there is: items + reserved <= capacity + idle consumers.
 */
export class AsyncQueue<T> {
  private readonly items: T[] = [];
  private readonly takers: Array<(item: T | null) => void> = [];
  /** Called when there is room (a `reserve` waiter reserves its place in the call). */
  private readonly roomWaiters: Array<() => void> = [];
  private closed = false;
  private reserved = 0;

  constructor(private cap: number) {}

  /** Items wanted ahead of the consumers (see waitForRoom). */
  get capacity(): number {
    return this.cap;
  }

  /** Changes the capacity (e.g. as the time to make an item changes); wakes producers when it grew. */
  setCapacity(n: number): void {
    this.cap = Math.max(0, n);
    this.wakeRoom();
  }

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
    return this.items.length + this.reserved < this.cap + (this.items.length === 0 ? this.takers.length : 0);
  }

  /**
   * Waits for room (as `waitForRoom`) and holds it: resolves true with one place reserved, or
   * false on close/abort (nothing reserved). Each true must be followed by `fill` or `unreserve`.
   */
  reserve(signal?: AbortSignal): Promise<boolean> {
    if (this.closed || signal?.aborted) return Promise.resolve(false);
    if (this.hasRoom()) {
      this.reserved++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const done = () => {
        signal?.removeEventListener('abort', onAbort);
        if (this.closed) return resolve(false);
        this.reserved++;
        resolve(true);
      };
      const onAbort = () => {
        const i = this.roomWaiters.indexOf(done);
        if (i >= 0) this.roomWaiters.splice(i, 1);
        resolve(false);
      };
      this.roomWaiters.push(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Pushes the item a `reserve` made room for. */
  fill(item: T): void {
    this.reserved = Math.max(0, this.reserved - 1);
    this.push(item);
  }

  /** Gives back a reservation that will not be filled (the proposal was rejected). */
  unreserve(): void {
    this.reserved = Math.max(0, this.reserved - 1);
    this.wakeRoom();
  }

  /** Places reserved and not yet filled. */
  get reservations(): number {
    return this.reserved;
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
        const i = this.roomWaiters.indexOf(done);
        if (i >= 0) this.roomWaiters.splice(i, 1);
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
    if (all) {
      for (const w of this.roomWaiters.splice(0)) w();
      return;
    }
    // a reserving waiter takes its place at once, so keep waking while room is left
    while (this.roomWaiters.length > 0 && this.hasRoom()) {
      const before = this.reserved;
      this.roomWaiters.shift()!();
      if (this.reserved === before) break; // a plain waitForRoom waiter: one at a time, as before
    }
  }
}

/** Something that runs async sections under a limit (a Mutex, a Semaphore). */
export interface Gate {
  run<T>(fn: () => Promise<T>): Promise<T>;
}

/** Runs async sections one at a time, in call order. Never throws by itself. */
export class Mutex implements Gate {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** Runs at most `limit` async sections at once, the others in call order. Never throws by itself. */
export class Semaphore implements Gate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next)
        next(); // the place passes on: active stays the same
      else this.active--;
    }
  }
}

/**
 * Wakes everyone waiting when something changed (an experiment finished, a proposal was made).
 * `wait` resolves on the next `notify`, on abort, or after `ms` (when given); never throws.
 */
export class Notifier {
  private waiters: Array<() => void> = [];

  notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  wait(signal?: AbortSignal, ms?: number): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = ms !== undefined ? setTimeout(() => done(), Math.max(0, ms)) : null;
      const done = () => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        const i = this.waiters.indexOf(done);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve();
      };
      this.waiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
