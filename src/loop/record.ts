/**
 * Finishing an experiment: the ledger write, results.tsv, and the event — in that order.
 */
import { LeaseLostError, type Experiment, type ExperimentResult } from '../ledger/types.js';
import type { LoopContext } from './context.js';
import { leaseLostNotice } from './leases.js';

/**
 * Records a final status that does not move the best (keeps go through Frontier.advance).
 * Several hosts: only while this host holds the experiment's lease (a compare-and-set in the
 * ledger); null, with a notice, when another host took it over (it records it then).
 */
export async function finishExperiment(
  ctx: LoopContext,
  exp: Experiment,
  result: ExperimentResult,
): Promise<Experiment | null> {
  let done: Experiment;
  try {
    done = await ctx.ledger.finishExperiment(exp.id, { endedAt: Date.now(), ...result }, ctx.host?.id);
  } catch (err) {
    if (!(err instanceof LeaseLostError)) throw err;
    leaseLostNotice(ctx, exp, err.holder);
    return null;
  }
  await announceFinished(ctx, done);
  return done;
}

/** Refreshes results.tsv and emits `experiment-finished` for a finished experiment. */
export async function announceFinished(ctx: LoopContext, done: Experiment): Promise<void> {
  const all = await ctx.ledger.listExperiments(done.studyId);
  ctx.results.write(all);
  ctx.emit({
    type: 'experiment-finished',
    t: Date.now(),
    number: done.number,
    slot: done.slot,
    baseline: done.baseline,
    status: done.status as Exclude<Experiment['status'], 'running'>,
    value: done.value,
    description: done.description,
    reason: done.reason,
    commit: done.commit ?? (done.baseline ? done.parentCommit : null),
    runMs: done.runMs,
    evidence: done.evidence,
    best: ctx.frontier.bestSoFar(),
    finished: all.filter((e) => !e.baseline && e.status !== 'running').length,
  });
}

export function oneLine(s: string): string {
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}
