/**
 * A candidate's runs with paired seeds (./paired-seeds.ts): run i of the candidate uses seed i of
 * its base's list; the base (the best it was placed on) is run on each of those seeds it has no
 * value for yet, at the same time on free slots (one run per seed per best, then reused by every
 * later candidate). The base's values are recorded as `paired-value` records and as `measurement`
 * records (they are repeated runs of one commit: pooled into the noise estimate).
 *
 * Contract: as ./run-batch.ts: never throws for what the runs do; 'interrupted' when any run was.
 * A base run that fails is a warning (the candidate is then judged unpaired); the candidate's
 * results come back in run-index order.
 */
import type { CurveReference } from '../judge/curves.js';
import type { Experiment } from '../ledger/types.js';
import { maxRunsOf } from '../judge/create.js';
import type { LoopContext } from './context.js';
import { MEASUREMENT, type MeasurementRecord } from './noise-estimate.js';
import { runPlan, type FinishedRun, type PlannedRun } from './run-batch.js';
import type { SlotLease, SlotPool } from './slot-pool.js';

export async function runPaired(
  ctx: LoopContext,
  pool: SlotPool,
  lease: SlotLease,
  exp: Experiment,
  placed: { parent: string; commit: string },
  have: number,
  want: number,
  watchAgainst: CurveReference | null = null,
): Promise<FinishedRun[] | 'interrupted'> {
  const paired = ctx.paired!;
  const { frontier, ledger } = ctx;
  const base = frontier.estimateOf(placed.parent) ?? frontier.current!;
  const seeds = await paired.seedsOf(placed.parent, base.number);
  // like runBatch: confirmations only as many as there are free slots now (one at least)
  const count = Math.max(1, Math.min(want, 1 + pool.free, seeds.length - have));
  const study = frontier.currentStudy;
  const first = maxRunsOf(ctx.config); // the base's runs get log names past any candidate run's
  const plan: PlannedRun[] = [];
  let baseExp: Experiment | undefined;
  for (let i = have; i < have + count; i++) {
    if (paired.valueOf(placed.parent, seeds[i]!) !== undefined) continue;
    baseExp ??= (await ledger.listExperiments(study.id)).find((e) => e.number === base.number);
    if (baseExp) plan.push({ exp: baseExp, commit: placed.parent, runIndex: first + i, seed: seeds[i]! });
  }
  const baseRuns = plan.length;
  for (let i = have; i < have + count; i++)
    plan.push({
      exp,
      commit: placed.commit,
      runIndex: i,
      seed: seeds[i]!,
      // the candidate's first run is watched against its base's curves ([early_stop])
      ...(i === 0 && watchAgainst ? { watchAgainst } : {}),
    });
  const done = await runPlan(ctx, pool, lease, plan);
  if (done === 'interrupted') return done;
  for (let k = 0; k < baseRuns; k++) {
    const r = done[k]!;
    const seed = plan[k]!.seed!;
    if (r.kind === 'ran' && r.result.kind === 'ok' && r.result.value !== null) {
      await paired.record(placed.parent, seed, r.result.value);
      const m: MeasurementRecord = {
        commit: placed.parent,
        number: base.number,
        runs: [r.result.value],
        source: 'paired',
      };
      await ledger.putRecord(study.id, MEASUREMENT, `paired.${base.number}.${seed}`, m);
    } else
      ctx.emit({
        type: 'notice',
        t: Date.now(),
        level: 'warn',
        message: `measuring the best #${base.number} on a paired seed for #${exp.number}: the run ended as ${r.kind === 'tampered' ? `tampered (${r.files.join(', ')})` : (r.result.reason ?? r.result.kind)}; #${exp.number} is judged unpaired`,
      });
  }
  return done.slice(baseRuns);
}
