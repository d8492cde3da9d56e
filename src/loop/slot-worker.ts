/**
 * Slot workers: each takes queued experiments, holds a free slot for it (./slot-pool.ts), places
 * the change on the current best, runs it (confirmation runs at once on borrowed free slots:
 * ./run-batch.ts), and records the decision.
 *
 * Stale bases (the best moved while it ran), the re-run policy:
 *  - it is judged against its own base (the best it was placed on), with confirmations as usual;
 *  - not better than its base: discarded, judged against that base (no re-run);
 *  - better: its change is re-applied three-way onto the current best (a conflict is recorded
 *    as `conflict`, a change already there as `rejected`) and run again there, as often as the
 *    best moves under it: a change that beat its base is never dropped unjudged (the old cap of
 *    three moves discarded real improvements). The re-run goes first: on the same slot right
 *    away, ahead of queued fresh proposals (re-queueing it behind them measured worse:
 *    1.76 vs 1.47 runs per decision with 4 slots at a keep-heavy start, bench/RESULTS.md).
 *
 * A new best is re-measured on fresh seeds right after its keep, by the worker that kept it
 * (./remeasure.ts); every decision that ran a commit more than once pools its runs into the
 * noise estimate (./noise-estimate.ts).
 *
 * Contract: never throws for what a proposer or a run does; those end as recorded statuses.
 * Ctrl-C leaves the experiment `running` (re-run on resume). A slot's crash never stops others.
 */
import { maxRunsOf } from '../judge/create.js';
import { stopReason } from '../judge/curves.js';
import { sampleStd, type Decision } from '../judge/types.js';
import type { Evidence, Experiment, ExperimentResult } from '../ledger/types.js';
import type { AsyncQueue } from '../scheduler/async-queue.js';
import { reapply } from '../workspace/reapply.js';
import type { Worktree } from '../workspace/worktree.js';
import { slotFacts } from './baseline.js';
import type { LoopContext } from './context.js';
import { referenceFor } from './early-stop.js';
import type { Estimate } from './frontier.js';
import type { PipelineLimits } from './proposals.js';
import { leaseLostNotice, stillHeld } from './leases.js';
import { announceFinished, finishExperiment } from './record.js';
import { learnNoise } from './noise-estimate.js';
import { heldoutCheckAfterKeep } from './heldout-check.js';
import { remeasureBest } from './remeasure.js';
import { repair } from './repair.js';
import { runBatch } from './run-batch.js';
import { pairedNoise } from './paired-seeds.js';
import { runPaired } from './paired-runs.js';
import type { SlotLease, SlotPool } from './slot-pool.js';

/**
 * One worker per slot, sharing the queue and the pool. Each worker prefers its own slot (the
 * slot index = the worker's index) but takes any free one.
 */
export function runSlotWorkers(
  ctx: LoopContext,
  pool: SlotPool,
  queue: AsyncQueue<Experiment>,
  limits: PipelineLimits,
): Array<Promise<void>> {
  return pool.stats().map(({ slot }) => worker(ctx, pool, slot.index, queue, limits));
}

async function worker(
  ctx: LoopContext,
  pool: SlotPool,
  home: number,
  queue: AsyncQueue<Experiment>,
  limits: PipelineLimits,
): Promise<void> {
  for (;;) {
    if (limits.deadline !== null && Date.now() >= limits.deadline) {
      queue.close(); // else the pipeline waits for room forever once every worker has left
      return;
    }
    const exp = await queue.take(ctx.signal);
    if (!exp) return;
    const lease = await pool.acquire(ctx.signal, home);
    if (!lease) return; // interrupted: the experiment stays `running`, re-run on resume
    try {
      await runExperiment(ctx, pool, lease, exp, limits);
      if (ctx.between && !ctx.signal.aborted) await ctx.between(ctx, lease);
    } finally {
      lease.release();
    }
  }
}

type Placed =
  | { ok: true; parent: string; commit: string }
  | { ok: false; reason: string; status: 'conflict' | 'rejected' };

async function runExperiment(
  ctx: LoopContext,
  pool: SlotPool,
  lease: SlotLease,
  queued: Experiment,
  limits: PipelineLimits,
): Promise<void> {
  const { ledger, frontier } = ctx;
  const { slot, worktree: wt } = lease;
  if (!(await stillHeld(ctx, queued))) return; // several hosts: taken over while it waited (./leases.ts)
  const resumed = queued.attempts > 1 || queued.slot !== null;
  let exp = await ledger.updateExperiment(queued.id, {
    slot: slot.index,
    attempts: queued.slot !== null ? queued.attempts + 1 : queued.attempts,
  });
  ctx.emit({
    type: 'experiment-started',
    t: Date.now(),
    number: exp.number,
    slot: slot.index,
    baseline: false,
    parentCommit: exp.parentCommit,
    description: exp.description,
    resumed,
  });
  const env = { ...ctx.machine, ...slotFacts(slot) };

  let rebased: Evidence['rebased'] | undefined;
  await frontier.synced();
  if (ctx.host) await frontier.materialiseExperiment(exp); // taken over from another host: its commit here too
  let placed = await place(ctx, wt, exp, frontier.current!);
  if (!placed.ok) return notPlaced(ctx, exp, placed, env, rebased);
  let runs: number[] = [];
  let runMs = 0;
  for (;;) {
    exp = (await ledger.getExperiment(exp.id))!;
    const count = runs.length === 0 ? 1 : confirmationsLeft(ctx, runs.length);
    // A first run is watched against its base's curves ([early_stop]: ./early-stop.ts).
    const watchAgainst = runs.length === 0 ? await referenceFor(ctx, exp.studyId, placed.parent) : null;
    // paired seeds only while the metric has noise (a deterministic one has no seed luck to cancel)
    const pairedNow = ctx.paired && (frontier.currentStudy.noise?.sigma ?? 0) > 0;
    const batch = pairedNow
      ? await runPaired(ctx, pool, lease, exp, placed, runs.length, count, watchAgainst)
      : await runBatch(ctx, pool, lease, { exp, commit: placed.commit, firstIndex: runs.length, count, watchAgainst });
    if (batch === 'interrupted') return;
    for (const r of batch) {
      runMs += r.result.durationMs;
      const base = { metrics: r.result.metrics, logTail: r.result.logTail, exitCode: r.result.exitCode, runMs, env };
      if (r.kind === 'tampered') {
        await finishExperiment(ctx, exp, {
          ...base,
          status: 'rejected',
          value: null,
          reason: `the run modified protected file(s) ${r.files.join(', ')}`,
        });
        return;
      }
      if (r.kind === 'ran' && r.stopped) {
        await finishExperiment(ctx, exp, { ...base, status: 'discard', value: null, reason: stopReason(r.stopped) });
        return;
      }
      if (r.result.kind !== 'ok') {
        if (runs.length === 0 && r.result.kind === 'crash') {
          const fixed = await repair(ctx, slot, wt, exp, placed, r.result, limits);
          if (fixed === 'interrupted') return;
          if (fixed) {
            placed = fixed;
            break; // run the fix
          }
          exp = (await ledger.getExperiment(exp.id))!;
        }
        const status = r.result.kind === 'timeout' ? 'timeout' : 'crash';
        const runNote =
          runs.length > 0
            ? ` (on confirmation run ${runs.length + 1})`
            : exp.repairs.length
              ? ` (after ${exp.repairs.length} repair attempt${exp.repairs.length > 1 ? 's' : ''})`
              : '';
        await finishExperiment(ctx, exp, {
          ...base,
          status,
          value: null,
          reason: `${r.result.reason ?? status}${runNote}`,
        });
        return;
      }
      runs.push(r.result.value!);
      const step = await decide(ctx, exp, placed, runs, base, rebased);
      if (step.kind === 'done') {
        if (step.kept) {
          await remeasureBest(ctx, pool, lease, step.kept, placed.commit);
          await heldoutCheckAfterKeep(ctx, lease, step.kept);
        }
        return;
      }
      if (step.kind === 'confirm') {
        ctx.emit({
          type: 'confirm',
          t: Date.now(),
          number: exp.number,
          slot: slot.index,
          runs: [...runs],
          reason: step.reason,
        });
        continue; // the next run of the batch, if any, is that confirmation
      }
      // rebase: the best moved while it ran, and it beat its own base: re-apply and run again
      const onto = frontier.current!;
      ctx.emit({
        type: 'rebase',
        t: Date.now(),
        number: exp.number,
        slot: slot.index,
        fromParent: placed.parent,
        onto: onto.commit,
        reason: step.reason,
      });
      rebased = { fromParent: placed.parent, fromCommit: placed.commit, runs: [...runs] };
      placed = await place(ctx, wt, { ...exp, parentCommit: placed.parent, commit: placed.commit }, onto);
      if (!placed.ok) return notPlaced(ctx, exp, placed, env, rebased);
      runs = [];
      break;
    }
  }
}

/**
 * How many runs a candidate the judge wants confirmed may still need: all of them are started at
 * once when slots are free (those the judge does not need in the end are not counted).
 */
function confirmationsLeft(ctx: LoopContext, have: number): number {
  return Math.max(1, maxRunsOf(ctx.config) - have);
}

type Step =
  | { kind: 'done'; kept?: Experiment }
  | { kind: 'confirm'; reason: string }
  | { kind: 'rebase'; reason: string };

/** Judges under the frontier lock; records keep/discard, or asks for a confirmation or rebase. */
function decide(
  ctx: LoopContext,
  exp: Experiment,
  placed: { parent: string; commit: string },
  runs: number[],
  base: Omit<ExperimentResult, 'status' | 'value'>,
  rebased: Evidence['rebased'],
): Promise<Step> {
  const { frontier, judge } = ctx;
  return frontier.lock.run(async (): Promise<Step> => {
    await frontier.sync(); // another host may have moved the best: judge against the ledger's
    const study = frontier.currentStudy;
    const best = frontier.current!;
    const all = ctx.paired ? await ctx.ledger.listExperiments(study.id) : [];
    const pairing = (against: Estimate) => {
      const best = ctx.paired?.bestValues(against.commit, runs.length) ?? null;
      const noise = best ? pairedNoise(all, { runs, best }, study.noise) : null;
      return best && noise ? { best, noise } : null;
    };
    const input = (against: Estimate, paired = pairing(against)) => ({
      direction: study.direction,
      best: { mean: against.mean, runs: against.runs },
      candidate: runs,
      noise: study.noise,
      ...(paired ? { paired } : {}),
    });
    if (placed.parent !== best.commit) {
      const own = frontier.estimateOf(placed.parent) ?? best;
      const ownPaired = pairing(own);
      const d = judge.decide(input(own, ownPaired));
      // Promising but not yet clear, on a base that is no longer the best: confirming it there
      // would spend runs on a commit that can't be kept; it is measured on the best instead.
      if (d.decision === 'confirm')
        return {
          kind: 'rebase',
          reason: `${d.reason.replace(/: confirming$/, '')} vs its base #${own.number}, and #${best.number} is the best now: measured there instead`,
        };
      if (d.decision === 'keep')
        return {
          kind: 'rebase',
          reason: `${d.reason} vs its base #${own.number}, but #${best.number} is the best now`,
        };
      await finishExperiment(ctx, exp, {
        ...base,
        status: 'discard',
        value: mean(runs),
        reason: `${d.reason} (vs its base #${own.number})`,
        evidence: evidence(runs, own, d, rebased, ownPaired?.best),
      });
      if (runs.length > 1 || rebased) await learnNoise(ctx);
      return { kind: 'done' };
    }
    const bestPaired = pairing(best);
    const d = judge.decide(input(best, bestPaired));
    if (d.decision === 'confirm') return { kind: 'confirm', reason: d.reason };
    const result: ExperimentResult = {
      ...base,
      status: d.decision,
      value: mean(runs),
      reason: d.reason,
      evidence: evidence(runs, best, d, rebased, bestPaired?.best),
      endedAt: Date.now(),
    };
    let kept: Experiment | undefined;
    if (d.decision === 'keep') {
      const { status: _keep, ...keep } = result;
      const advanced = await frontier.advance(exp, keep, placed.commit, ctx.host?.id);
      if (advanced.kind === 'lease-lost') {
        // several hosts: this host lost the lease (cut off from the ledger); the taker records it
        leaseLostNotice(ctx, exp, advanced.holder);
        return { kind: 'done' };
      }
      if (advanced.kind === 'best-moved') {
        // another host kept first: like any stale base, re-apply onto the new best and run again
        return {
          kind: 'rebase',
          reason: `${d.reason}, but another host moved the best to #${advanced.best?.number ?? '?'} meanwhile`,
        };
      }
      kept = advanced.experiment;
      await announceFinished(ctx, kept);
    } else {
      await finishExperiment(ctx, exp, result);
    }
    if (runs.length > 1 || rebased) await learnNoise(ctx);
    return kept ? { kind: 'done', kept } : { kind: 'done' };
  });
}

/**
 * Puts an experiment's change on `onto`: its own commit when that is still the base, else its
 * change moved with git's three-way merge (../workspace/reapply.ts) and committed on `onto`.
 * Records the new parent, commit and that commit's real diff.
 */
async function place(ctx: LoopContext, wt: Worktree, exp: Experiment, onto: Estimate): Promise<Placed> {
  // The run itself resets the worktree to the commit (./run-once.ts): no reset here.
  if (exp.commit && exp.parentCommit === onto.commit && (await wt.hasCommit(exp.commit))) {
    return { ok: true, parent: onto.commit, commit: exp.commit };
  }
  const moved = await reapply(
    wt,
    { parent: exp.parentCommit, commit: exp.commit, diff: exp.diff },
    onto.commit,
    exp.description,
  );
  if (!moved.ok)
    return {
      ok: false,
      status: 'conflict',
      reason: `could not re-apply it onto the best #${onto.number}: ${moved.reason}`,
    };
  if (moved.changed.length === 0) {
    // another experiment made the same change and was kept meanwhile
    await wt.resetHard(onto.commit);
    return {
      ok: false,
      status: 'rejected',
      reason: `its change is already part of the best #${onto.number} (nothing left to apply)`,
    };
  }
  const editable = new Set(ctx.config.files.editable.map((f) => f.replace(/^\.\//, '')));
  const forbidden = moved.changed.filter((f) => !editable.has(f));
  if (forbidden.length) {
    // only reachable from a stored diff that was tampered with: the proposal was checked
    await wt.resetHard(onto.commit);
    return {
      ok: false,
      status: 'rejected',
      reason: `re-applied, it touches file(s) outside [files].editable: ${forbidden.join(', ')}`,
    };
  }
  const diff = await wt.diffCommits(onto.commit, moved.commit);
  await ctx.ledger.updateExperiment(exp.id, { parentCommit: onto.commit, commit: moved.commit, diff });
  return { ok: true, parent: onto.commit, commit: moved.commit };
}

async function notPlaced(
  ctx: LoopContext,
  exp: Experiment,
  placed: Extract<Placed, { ok: false }>,
  env: Record<string, unknown>,
  rebased?: Evidence['rebased'],
): Promise<void> {
  const evidence = rebased ? { evidence: { runs: [], mean: 0, spread: 0, rebased } } : {};
  await finishExperiment(ctx, exp, {
    status: placed.status,
    value: null,
    metrics: {},
    reason: placed.reason,
    env,
    ...evidence,
  });
}

function mean(xs: number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

function evidence(
  runs: number[],
  against: Estimate | null,
  d: Decision | undefined,
  rebased: Evidence['rebased'],
  pairedBest?: number[],
): Evidence {
  return {
    runs: [...runs],
    mean: mean(runs),
    spread: sampleStd(runs),
    ...(against ? { bestMean: against.mean, bestRuns: against.runs } : {}),
    ...(pairedBest ? { pairedBest: [...pairedBest] } : {}),
    ...(d ? { threshold: d.threshold } : {}),
    ...(rebased ? { rebased } : {}),
  };
}
