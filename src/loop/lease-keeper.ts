/**
 * Several hosts: a host cut off from the shared ledger stops its runs before other hosts may take
 * them over. Another host takes an experiment over once its lease has not been renewed for
 * `lease_s` (on the ledger's clock, measured from when the renewal ran there, which is after this
 * host sent it). So this host stops (kills) the runs of an experiment once its lease has not been
 * confirmed for 3/4 of `lease_s` (`stopAfterMs`), counted from when the last renewal or claim that
 * the ledger acknowledged was *sent*: the lease it extended ends later than that, so the run is
 * stopped at least `lease_s`/4 before anyone can claim it (room for the kill grace; 15 s with
 * the default lease of 60 s). A renewal whose answer lacks an experiment this host held before it
 * was sent means the lease was taken over: its runs stop at once.
 *
 * The runs of an experiment hold it (`hold`) while they run (../loop/run-once.ts): the hold's
 * signal aborts when the lease is lost, which kills the run like Ctrl-C does (the experiment stays
 * `running` in the ledger: the host that takes it over re-runs it; if no other host took it, this
 * one re-claims it when the ledger answers again: `takeStopped`, ./leases.ts). Whatever the timing,
 * the finish itself is a compare-and-set on the lease (`Ledger.finishExperiment` with a holder), so
 * nothing is ever recorded twice.
 *
 * Contract: never throws; `emit` gets one notice per stopped experiment. Times are this host's
 * monotonic-enough wall clock (durations only: the hosts' clocks need not agree).
 */
import type { EmitEvent } from './events.js';

/** The abort reason of a run stopped because its lease was lost. */
export class LeaseStop extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LeaseStop';
  }
}

export function isLeaseStop(reason: unknown): boolean {
  return reason instanceof LeaseStop;
}

export interface LeaseHold {
  /** Aborts (reason: a LeaseStop) when the lease is lost. */
  signal: AbortSignal;
  release(): void;
}

interface Held {
  number: number;
  controller: AbortController;
  timer: NodeJS.Timeout | null;
  refs: number;
}

/** A run on a host cut off from the ledger is stopped this long after its last confirmed renewal. */
export function stopAfterMs(leaseMs: number): number {
  return Math.floor((leaseMs * 3) / 4);
}

export class LeaseKeeper {
  readonly stopAfterMs: number;
  /** When the last renewal that the ledger answered was sent (host-wide). */
  private renewedAt: number;
  /** Per experiment: when the last renewal or claim that included it was sent. */
  private readonly confirmed = new Map<number, number>();
  private readonly held = new Map<number, Held>();
  private readonly stopped = new Set<number>();

  constructor(
    private readonly leaseMs: number,
    private readonly emit: EmitEvent,
    private readonly now: () => number = Date.now,
  ) {
    this.stopAfterMs = stopAfterMs(leaseMs);
    this.renewedAt = now();
  }

  /** A claim (or a creation with a lease) sent at `sentAt` succeeded for experiment `id`. */
  confirm(id: number, sentAt: number): void {
    this.confirmed.set(id, Math.max(sentAt, this.confirmed.get(id) ?? 0));
    this.stopped.delete(id);
    this.arm(id);
  }

  /**
   * A renewal sent at `sentAt` answered: this host still holds `ids`. A held experiment that was
   * confirmed before `sentAt` and is missing from `ids` was taken over: its runs stop now.
   */
  renewed(sentAt: number, ids: readonly number[]): void {
    this.renewedAt = Math.max(this.renewedAt, sentAt);
    const still = new Set(ids);
    for (const id of ids) this.confirmed.set(id, Math.max(sentAt, this.confirmed.get(id) ?? 0));
    for (const [id, h] of this.held) {
      if (still.has(id)) this.arm(id);
      else if ((this.confirmed.get(id) ?? Number.POSITIVE_INFINITY) < sentAt)
        this.stop(
          id,
          h,
          `experiment #${h.number} was taken over by another host (its lease expired while this host could not renew it): its run here is stopped`,
        );
    }
  }

  /** Holds experiment `id` while a run of it goes on; release when the run ends. */
  hold(exp: { id: number; number: number }): LeaseHold {
    let h = this.held.get(exp.id);
    if (!h || h.controller.signal.aborted) {
      if (h?.timer) clearTimeout(h.timer);
      h = { number: exp.number, controller: new AbortController(), timer: null, refs: 0 };
      this.held.set(exp.id, h);
      this.arm(exp.id);
    }
    h.refs++;
    const held = h;
    let released = false;
    return {
      signal: held.controller.signal,
      release: () => {
        if (released) return;
        released = true;
        held.refs--;
        if (held.refs === 0 && this.held.get(exp.id) === held) {
          if (held.timer) clearTimeout(held.timer);
          this.held.delete(exp.id);
        }
      },
    };
  }

  /** The experiments whose runs were stopped since the last call (to re-claim once the ledger answers). */
  takeStopped(): number[] {
    const ids = [...this.stopped].sort((a, b) => a - b);
    this.stopped.clear();
    return ids;
  }

  /** Stops every timer (the study is over). */
  close(): void {
    for (const h of this.held.values()) if (h.timer) clearTimeout(h.timer);
    this.held.clear();
  }

  /** Arms the stop timer of a held experiment at its deadline. */
  private arm(id: number): void {
    const h = this.held.get(id);
    if (!h || h.controller.signal.aborted) return;
    if (h.timer) clearTimeout(h.timer);
    const since = this.confirmed.get(id) ?? this.renewedAt;
    const left = since + this.stopAfterMs - this.now();
    const fire = () => {
      const last = this.confirmed.get(id) ?? this.renewedAt;
      if (this.now() < last + this.stopAfterMs) return this.arm(id); // renewed meanwhile
      this.stop(
        id,
        h,
        `the lease of experiment #${h.number} was last renewed ${((this.now() - last) / 1000).toFixed(1)} s ago (lease_s = ${this.leaseMs / 1000}): its run is stopped, so that another host can take it over without running it twice; it is claimed again here if no other host did once the ledger answers`,
      );
    };
    if (left <= 0) fire();
    else {
      h.timer = setTimeout(fire, left);
    }
  }

  private stop(id: number, h: Held, message: string): void {
    if (h.controller.signal.aborted) return;
    if (h.timer) clearTimeout(h.timer);
    h.timer = null;
    this.stopped.add(id);
    this.emit({ type: 'notice', t: this.now(), level: 'warn', message });
    h.controller.abort(new LeaseStop(message));
  }
}
