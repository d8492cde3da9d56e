/**
 * Re-measuring a new best (winner's curse): a candidate kept for a low mean over a few runs is
 * optimistic, and later candidates compared with that mean would have to beat its luck. Right
 * after a keep, the worker that kept it runs the kept commit `[judge] remeasure_runs` more times
 * on fresh seeds (on its own slot plus free ones, ./run-batch.ts; the other slots go on with
 * their experiments), records them as a `measurement` study record, folds them into the best's
 * estimate (the mean over all its runs) and pools them into the noise estimate.
 *
 * Only with the sequential judge and a noise estimate above 0 (a deterministic metric has no luck
 * to correct). Contract: never throws for what the runs do; a failed re-measurement run is
 * reported as a warning and left out; an interrupted one is dropped (the best keeps the
 * estimate from its own runs).
 */
import type { Experiment, Ledger } from '../ledger/types.js';
import { maxRunsOf } from '../judge/create.js';
import { formatDelta } from '../judge/types.js';
import type { LoopContext } from './context.js';
import type { Frontier } from './frontier.js';
import { learnNoise, MEASUREMENT, type MeasurementRecord } from './noise-estimate.js';
import { runBatch, type FinishedRun } from './run-batch.js';
import type { SlotLease, SlotPool } from './slot-pool.js';

export async function remeasureBest(
  ctx: LoopContext,
  pool: SlotPool,
  lease: SlotLease,
  kept: Experiment,
  commit: string,
): Promise<void> {
  const { config, frontier, ledger } = ctx;
  const count = config.judge.remeasure_runs;
  const study = frontier.currentStudy;
  if (config.judge.kind !== 'sequential' || count === 0 || !((study.noise?.sigma ?? 0) > 0)) return;
  const before = frontier.estimateOf(commit);
  const first = maxRunsOf(config); // past any confirmation run's index: its own log names
  // Paired seeds: the new best's fresh list; these runs are its values on the first seeds.
  const seeds = ctx.paired ? await ctx.paired.seedsOf(commit, kept.number) : null;
  const batch: FinishedRun[] = [];
  while (batch.length < count) {
    const more = await runBatch(ctx, pool, lease, {
      exp: kept,
      commit,
      firstIndex: first + batch.length,
      count: count - batch.length,
      ...(seeds ? { seedOf: (k: number) => seeds[k - first] } : {}),
    });
    if (more === 'interrupted') return;
    batch.push(...more);
  }
  const runs: number[] = [];
  for (const [i, r] of batch.entries()) {
    if (r.kind === 'ran' && r.result.kind === 'ok' && r.result.value !== null) {
      runs.push(r.result.value);
      if (seeds && seeds[i] !== undefined) await ctx.paired!.record(commit, seeds[i]!, r.result.value);
    } else
      ctx.emit({
        type: 'notice',
        t: Date.now(),
        level: 'warn',
        message: `re-measuring the new best #${kept.number}: a run ended as ${r.kind === 'tampered' ? `tampered (${r.files.join(', ')})` : (r.result.reason ?? r.result.kind)}; left out`,
      });
  }
  if (runs.length === 0) return;
  const record: MeasurementRecord = { commit, number: kept.number, runs, source: 'remeasure' };
  await ledger.putRecord(study.id, MEASUREMENT, `remeasure.${kept.number}`, record);
  await frontier.lock.run(async () => {
    const after = frontier.addRuns(commit, runs);
    if (before && after)
      ctx.emit({
        type: 'notice',
        t: Date.now(),
        level: 'info',
        message: `re-measured the new best #${kept.number} on ${runs.length} fresh seed${runs.length > 1 ? 's' : ''}: ${runs.map((x) => formatDelta(x)).join(', ')}; its estimate ${formatDelta(before.mean)} (${before.runs} run${before.runs > 1 ? 's' : ''}) -> ${formatDelta(after.mean)} (${after.runs} runs)`,
      });
    await learnNoise(ctx);
  });
}

/** On resume: folds the recorded re-measurements into the frontier's estimates. */
export async function restoreRemeasured(ledger: Ledger, studyId: number, frontier: Frontier): Promise<void> {
  for (const r of await ledger.listRecords(studyId, MEASUREMENT)) {
    const m = r.value as Partial<MeasurementRecord>;
    if (m.source === 'remeasure' && typeof m.commit === 'string' && Array.isArray(m.runs))
      frontier.addRuns(m.commit, m.runs);
  }
}
