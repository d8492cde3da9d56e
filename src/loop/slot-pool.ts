/**
 * The slots of one `run` and who holds them: an experiment holds one slot (its own), and may
 * borrow slots nobody is using for extra runs of the same commit (the baseline's noise runs,
 * a candidate's confirmation runs), so that those run at once instead of one after another.
 *
 * Each slot comes with its own worktree (every run resets it to the run's commit) and its own
 * output directory (run-once.ts), so a borrowed slot needs nothing from its usual holder.
 *
 * Contract: one holder per slot at any time (one experiment per GPU: never two runs on one
 * card). `acquire` waits (first come, first served) and resolves null when the signal aborts;
 * `borrow` never waits and lends only slots no `acquire` is waiting for (a queued experiment
 * comes before extra runs). Never throws. Busy time is counted per slot, for the busy fraction.
 */
import type { Slot } from '../scheduler/slots.js';
import type { Worktree } from '../workspace/worktree.js';

/** When a slot was running something: for its busy fraction. */
export interface SlotStats {
  busyMs: number;
  firstStart: number | null;
  lastEnd: number | null;
}

/** Busy time over the span from the slot's first run start to its last run end (0..1). */
export function busyFraction(s: SlotStats): number {
  if (s.firstStart === null || s.lastEnd === null || s.lastEnd <= s.firstStart) return 0;
  return Math.min(1, s.busyMs / (s.lastEnd - s.firstStart));
}

/** A slot held by one experiment until `release` (idempotent). */
export interface SlotLease {
  readonly slot: Slot;
  readonly worktree: Worktree;
  /** Runs `fn` (one run in this slot), counting its time as the slot's busy time. */
  timed<T>(fn: () => Promise<T>): Promise<T>;
  release(): void;
}

interface Entry {
  slot: Slot;
  worktree: Worktree;
  stats: SlotStats;
  held: boolean;
}

export class SlotPool {
  private readonly entries: Entry[];
  private readonly waiters: Array<{ prefer: number | null; grant: (e: Entry) => void }> = [];

  constructor(slots: ReadonlyArray<{ slot: Slot; worktree: Worktree }>) {
    this.entries = slots.map((s) => ({ ...s, stats: { busyMs: 0, firstStart: null, lastEnd: null }, held: false }));
  }

  get size(): number {
    return this.entries.length;
  }

  /** Slots held by nobody now. */
  get free(): number {
    return this.entries.filter((e) => !e.held).length;
  }

  /** Per slot, in slot order. */
  stats(): Array<{ slot: Slot; stats: SlotStats }> {
    return this.entries.map((e) => ({ slot: e.slot, stats: e.stats }));
  }

  /** Waits for a free slot (`prefer`'s index when free, e.g. the worker's usual one); null on abort. */
  acquire(signal: AbortSignal, prefer: number | null = null): Promise<SlotLease | null> {
    if (signal.aborted) return Promise.resolve(null);
    const now = this.waiters.length === 0 ? this.pick(prefer) : null;
    if (now) return Promise.resolve(this.lease(now));
    return new Promise((resolve) => {
      const waiter = {
        prefer,
        grant: (e: Entry) => {
          signal.removeEventListener('abort', onAbort);
          resolve(this.lease(e));
        },
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(null);
      };
      this.waiters.push(waiter);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Up to `k` slots free now and wanted by no waiting `acquire`; possibly none. */
  borrow(k: number): SlotLease[] {
    const out: SlotLease[] = [];
    while (out.length < k && this.waiters.length === 0) {
      const e = this.pick(null);
      if (!e) break;
      out.push(this.lease(e));
    }
    return out;
  }

  private pick(prefer: number | null): Entry | null {
    const preferred = prefer !== null ? this.entries.find((e) => e.slot.index === prefer && !e.held) : undefined;
    const e = preferred ?? this.entries.find((x) => !x.held) ?? null;
    if (e) e.held = true;
    return e;
  }

  private lease(e: Entry): SlotLease {
    let released = false;
    return {
      slot: e.slot,
      worktree: e.worktree,
      timed: async (fn) => {
        const t0 = Date.now();
        try {
          return await fn();
        } finally {
          const t1 = Date.now();
          e.stats.busyMs += t1 - t0;
          e.stats.firstStart ??= t0;
          e.stats.lastEnd = t1;
        }
      },
      release: () => {
        if (released) return;
        released = true;
        const w = this.waiters.findIndex((x) => x.prefer === e.slot.index);
        const next = this.waiters.splice(Math.max(w, 0), 1)[0];
        if (next)
          next.grant(e); // handed over: stays held
        else e.held = false;
      },
    };
  }
}
