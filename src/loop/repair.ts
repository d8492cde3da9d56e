/**
 * Crash repair of one experiment in its slot's worktree (split from slot-worker.ts): the
 * proposer's fix is checked like any proposal (guard, editable files, screen) before it runs.
 */
import type { Experiment } from '../ledger/types.js';
import type { RunResult } from '../runner/types.js';
import type { Slot } from '../scheduler/slots.js';
import { guardAfter, guardBefore, guardRejection } from '../workspace/proposal-guard.js';
import type { Worktree } from '../workspace/worktree.js';
import type { LoopContext } from './context.js';
import { outageOver, waitWhileUnavailable } from './outage.js';
import { addUsage, proposalContext, screened, type PipelineLimits } from './proposals.js';
import { screenContext } from './screen-context.js';

/**
 * Crash repair, as the original asks: the proposer gets the crash and a bounded number of
 * attempts to fix the same idea in the slot's worktree. A fix replaces the experiment's commit
 * (same parent, change + fix) and is re-run; each attempt is recorded in the ledger.
 * Returns the new placement, null when there is no (more) repair, or 'interrupted'.
 */
export async function repair(
  ctx: LoopContext,
  slot: Slot,
  wt: Worktree,
  exp: Experiment,
  placed: { parent: string; commit: string },
  crash: RunResult,
  limits: PipelineLimits,
  outages = 0,
): Promise<{ ok: true; parent: string; commit: string } | null | 'interrupted'> {
  const { proposer, ledger, config } = ctx;
  const attempt = exp.repairs.length + 1;
  if (!proposer.repair || attempt > config.proposer.repair_attempts || crash.failure === 'aborted') return null;
  await wt.resetHard(placed.commit);
  const before = await guardBefore(wt);
  const screen = screenContext(config, wt.path, ctx.frontier.currentStudy.metric);
  const history = await ledger.listExperiments(exp.studyId);
  const base = ctx.frontier.estimateOf(placed.parent) ?? ctx.frontier.current!;
  const report = { description: exp.description, reason: crash.reason ?? 'crash', logTail: crash.logTail, attempt };
  const res = await ctx.proposerLock.run(() =>
    proposer.repair!(
      { ...proposalContext(ctx, wt.path, base, history, limits), number: exp.number },
      report,
      ctx.signal,
    ),
  );
  if (ctx.signal.aborted) return 'interrupted';
  if (res.kind === 'unavailable') {
    // An outage uses no attempt: pause (growing), then the same attempt again from the crash.
    if (!(await waitWhileUnavailable(ctx, outages + 1, res.reason, `the repair of #${exp.number}`)))
      return 'interrupted';
    return repair(ctx, slot, wt, exp, placed, crash, limits, outages + 1);
  }
  if (outages) outageOver(ctx, outages);
  const check = await guardAfter(wt, before, config.files.editable);
  const usage = addUsage(exp.usage, res.kind === 'exhausted' ? undefined : res.usage);
  const outside = guardRejection(check)?.replace(/^the proposal /, '') ?? null;
  if (check.hidden.length)
    ctx.emit({ type: 'notice', t: Date.now(), level: 'warn', message: `repair of #${exp.number} ${outside}` });
  const refused = check.hidden.length
    ? outside
    : res.kind !== 'ok'
      ? `gave up: ${res.reason}`
      : check.changed.length === 0
        ? 'no change'
        : outside;
  const fixDiff = refused === null ? await wt.diff(check.changed, check.untracked) : '';
  const outcome = refused ?? screened(fixDiff, screen);
  const record = {
    attempt,
    crashReason: report.reason,
    description: res.kind === 'ok' ? res.description : '',
    diff: fixDiff,
    ...(outcome ? { outcome } : {}),
  };
  if (outcome !== null) {
    await ledger.updateExperiment(exp.id, { repairs: [...exp.repairs, record], usage });
    await wt.resetHard(placed.commit); // ignored files it left included
    return null;
  }
  const commit = await wt.amend(check.changed, exp.description);
  const diff = await wt.diffCommits(placed.parent, commit);
  await ledger.updateExperiment(exp.id, { repairs: [...exp.repairs, record], usage, commit, diff });
  ctx.emit({
    type: 'repair',
    t: Date.now(),
    number: exp.number,
    slot: slot.index,
    attempt,
    description: record.description,
  });
  return { ok: true, parent: placed.parent, commit };
}
