/**
 * Repeat runs of one commit at once: the run on the slot the experiment holds, plus runs on
 * slots borrowed from the pool while they are free (the baseline's noise runs, a candidate's
 * confirmation runs). Without free slots it is one run, as before.
 *
 * Each run keeps what it would have had one after another: its run index (its log name
 * `NNNN.rK.log`; its seed is drawn when it starts, or seed + run index with seeds = "indexed"),
 * and a worktree reset to the commit (its slot's own). Results come back in run-index order, so
 * the caller judges them as if they had run in turn.
 *
 * Contract: never throws for what the runs do; 'interrupted' when any run was interrupted (the
 * signal aborts them all). Borrowed slots are given back before it returns.
 */
import type { CurveReference } from '../judge/curves.js';
import type { Experiment } from '../ledger/types.js';
import type { LoopContext } from './context.js';
import { runOnce, type RunOnceResult } from './run-once.js';
import type { SlotLease, SlotPool } from './slot-pool.js';

export type FinishedRun = Exclude<RunOnceResult, { kind: 'interrupted' }> & { slot: number };

export async function runBatch(
  ctx: LoopContext,
  pool: SlotPool,
  own: SlotLease,
  req: {
    exp: Experiment;
    commit: string;
    firstIndex: number;
    count: number;
    /** The first run (on the own slot) is stopped early when clearly worse than these curves. */
    watchAgainst?: CurveReference | null;
    /** Paired seeds: the seed of run index i (recorded as a 'seed' record); undefined = drawn. */
    seedOf?: (runIndex: number) => number | undefined;
  },
): Promise<FinishedRun[] | 'interrupted'> {
  const borrowed = pool.borrow(Math.max(0, req.count - 1));
  const leases = [own, ...borrowed];
  try {
    const study = ctx.frontier.currentStudy;
    const results = await Promise.all(
      leases.map((l, i) =>
        l.timed(() =>
          runOnce(ctx, {
            exp: req.exp,
            study,
            worktree: l.worktree,
            slot: l.slot,
            runIndex: req.firstIndex + i,
            commit: req.commit,
            attempt: req.exp.attempts,
            ...(i === 0 && req.watchAgainst ? { watchAgainst: req.watchAgainst } : {}),
            ...seedOption(req.seedOf?.(req.firstIndex + i)),
          }),
        ),
      ),
    );
    const out: FinishedRun[] = [];
    for (const [i, r] of results.entries()) {
      if (r.kind === 'interrupted') return 'interrupted';
      out.push({ ...r, slot: leases[i]!.slot.index });
    }
    return out;
  } finally {
    for (const l of borrowed) l.release();
  }
}

function seedOption(seed: number | undefined): { seed?: number; recordSeed?: true } {
  return seed === undefined ? {} : { seed, recordSeed: true };
}

/** One run of a plan (./paired-seeds.ts: the best on a seed it lacks, and the candidate). */
export interface PlannedRun {
  exp: Experiment;
  commit: string;
  runIndex: number;
  seed?: number;
  /** Stopped early when clearly worse than these curves (a candidate's first run). */
  watchAgainst?: CurveReference | null;
}

/**
 * Runs every run of `plan` on the slot held plus free slots borrowed for the time (several
 * rounds when there are fewer slots than runs); results in plan order. Same contract as `runBatch`.
 */
export async function runPlan(
  ctx: LoopContext,
  pool: SlotPool,
  own: SlotLease,
  plan: readonly PlannedRun[],
): Promise<FinishedRun[] | 'interrupted'> {
  const borrowed = pool.borrow(Math.max(0, plan.length - 1));
  const leases = [own, ...borrowed];
  try {
    const study = ctx.frontier.currentStudy;
    const out: FinishedRun[] = [];
    let next = 0;
    let interrupted = false;
    await Promise.all(
      leases.map(async (l) => {
        for (let i = next++; i < plan.length && !interrupted; i = next++) {
          const p = plan[i]!;
          const r = await l.timed(() =>
            runOnce(ctx, {
              exp: p.exp,
              study,
              worktree: l.worktree,
              slot: l.slot,
              runIndex: p.runIndex,
              commit: p.commit,
              attempt: p.exp.attempts,
              ...seedOption(p.seed),
              ...(p.watchAgainst ? { watchAgainst: p.watchAgainst } : {}),
            }),
          );
          if (r.kind === 'interrupted') interrupted = true;
          else out[i] = { ...r, slot: l.slot.index };
        }
      }),
    );
    return interrupted ? 'interrupted' : out;
  } finally {
    for (const l of borrowed) l.release();
  }
}
