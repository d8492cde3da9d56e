/**
 * The proposal pipeline: the proposer prepares the next change while slots run, so that a slot
 * never waits for the agent when a proposal is ready. Each proposal is made in the proposer's
 * own worktree on the current best, checked by the harness whatever the proposer did (commits
 * folded back, writes through links or to ignored files seen; only editable files, not empty;
 * ../workspace/proposal-guard.ts), recorded in the
 * ledger (status `running` = queued), committed, and queued for the next free slot. Rejected
 * proposals are recorded and never queued.
 *
 * Contract: never throws for what the proposer does; returns why it stopped proposing. The
 * ledger row (with the diff) is written before the commit, so a kill in between loses nothing:
 * resume re-applies the diff.
 */
import type { Experiment } from '../ledger/types.js';
import type { ProposalContext, ProposalUsage } from '../proposer/types.js';
import type { AsyncQueue } from '../scheduler/async-queue.js';
import { guardAfter, guardBefore, guardRejection } from '../workspace/proposal-guard.js';
import type { Worktree } from '../workspace/worktree.js';
import type { LoopContext } from './context.js';
import type { StopReason } from './events.js';
import { outageOver, waitWhileUnavailable } from './outage.js';
import { finishExperiment, oneLine } from './record.js';
import { screenDiff } from './screen.js';
import { screenContext } from './screen-context.js';

export interface PipelineLimits {
  maxExperiments: number | null;
  /** Epoch ms after which no experiment is proposed; null for none. */
  deadline: number | null;
  startedAt: number;
  /** Proposer spend caps over the whole study (usage recorded in the ledger). */
  maxCostUsd: number | null;
  maxTokens: number | null;
}

/** The context a proposer gets (for a proposal, or a repair in a slot's worktree). */
export function proposalContext(
  ctx: LoopContext,
  worktree: string,
  best: { commit: string; mean: number; number: number },
  history: Experiment[],
  limits: PipelineLimits,
): ProposalContext {
  const study = ctx.frontier.currentStudy;
  const counted = history.filter((e) => !e.baseline).length;
  return {
    worktree,
    editable: [...ctx.config.files.editable],
    protected: [...ctx.config.files.protected],
    objective: { metric: study.metric, direction: study.direction },
    parentCommit: best.commit,
    best: { commit: best.commit, value: best.mean, number: best.number },
    number: history.length === 0 ? 0 : Math.max(...history.map((e) => e.number)) + 1,
    history,
    program: ctx.program,
    secrets: ctx.secrets,
    budget: {
      experimentsLeft: limits.maxExperiments !== null ? Math.max(0, limits.maxExperiments - counted) : null,
      secondsLeft: limits.deadline !== null ? Math.max(0, (limits.deadline - Date.now()) / 1000) : null,
    },
  };
}

/** Tokens and dollars the proposer spent over a study (proposals and repairs). */
export function spent(all: Experiment[]): { costUsd: number; tokens: number } {
  let costUsd = 0;
  let tokens = 0;
  for (const e of all) {
    costUsd += e.usage?.costUsd ?? 0;
    tokens += (e.usage?.inputTokens ?? 0) + (e.usage?.outputTokens ?? 0);
  }
  return { costUsd, tokens };
}

/** Adds two usage records (undefined fields count as 0). */
export function addUsage(a: Experiment['usage'], b: ProposalUsage | undefined): Experiment['usage'] {
  if (!b) return a;
  return {
    inputTokens: (a?.inputTokens ?? 0) + (b.inputTokens ?? 0),
    outputTokens: (a?.outputTokens ?? 0) + (b.outputTokens ?? 0),
    costUsd: (a?.costUsd ?? 0) + (b.costUsd ?? 0),
  };
}

/** The screen's reason when it rejects `diff` (see screen.ts), else null. */
export function screened(diff: string, ctx: Parameters<typeof screenDiff>[1]): string | null {
  const r = screenDiff(diff, ctx);
  return r.ok ? null : `screened out: ${r.reason}`;
}

export async function runProposalPipeline(
  ctx: LoopContext,
  worktree: Worktree,
  queue: AsyncQueue<Experiment>,
  limits: PipelineLimits,
): Promise<StopReason> {
  const { config, ledger, proposer, frontier, emit, signal } = ctx;
  let outages = 0; // unavailable answers in a row (./outage.ts)
  try {
    for (;;) {
      await queue.waitForRoom(signal);
      if (signal.aborted) return 'interrupted';
      if (limits.deadline !== null && Date.now() >= limits.deadline) return 'max-hours';
      const study = frontier.currentStudy;
      const all = await ledger.listExperiments(study.id);
      const counted = all.filter((e) => !e.baseline).length; // finished + queued + running
      if (limits.maxExperiments !== null && counted >= limits.maxExperiments) return 'max-experiments';
      const used = spent(all);
      if (limits.maxCostUsd !== null && used.costUsd >= limits.maxCostUsd) return 'max-cost';
      if (limits.maxTokens !== null && used.tokens >= limits.maxTokens) return 'max-tokens';
      const best = frontier.current!;

      await worktree.resetHard(best.commit);
      const before = await guardBefore(worktree);
      const screen = screenContext(config, worktree.path, study.metric); // imports as on the best
      const t0 = Date.now();
      const proposal = await ctx.proposerLock.run(() => proposer.propose(proposalContext(ctx, worktree.path, best, all, limits), signal));
      const proposeMs = Date.now() - t0;
      if (signal.aborted) return 'interrupted';
      if (proposal.kind === 'exhausted') {
        emit({ type: 'notice', t: Date.now(), level: 'info', message: `the proposer has nothing left to try: ${proposal.reason}` });
        return 'exhausted';
      }
      // An outage: nothing recorded or counted; pause (growing), then ask again on a reset tree.
      if (proposal.kind === 'unavailable') {
        if (!(await waitWhileUnavailable(ctx, ++outages, proposal.reason))) return 'interrupted';
        continue;
      }
      if (outages) outageOver(ctx, outages);
      outages = 0;

      // Whatever route the change took (commits, links, ignored files), checked here.
      const check = await guardAfter(worktree, before, config.files.editable);
      const diff = await worktree.diff(check.changed, check.untracked);
      const description = proposal.kind === 'ok' ? oneLine(proposal.description) : `proposal failed: ${oneLine(proposal.reason)}`;
      const exp = await ledger.createExperiment(study.id, {
        baseline: false,
        parentCommit: best.commit,
        proposer: proposer.name,
        description,
        diff,
        proposeMs,
        change: proposal.kind === 'ok' ? (proposal.change ?? null) : null,
        usage: proposal.usage ?? null,
      });
      emit({ type: 'proposal', t: Date.now(), number: exp.number, description, proposeMs, parentCommit: best.commit });

      if (check.hidden.length) {
        emit({ type: 'notice', t: Date.now(), level: 'warn', message: `proposal #${exp.number} ${guardRejection(check)!.replace(/^the proposal /, '')}` });
      }
      const rejection =
        check.hidden.length
          ? guardRejection(check)
          : proposal.kind === 'failed'
            ? `the proposer failed: ${oneLine(proposal.reason)}`
            : check.changed.length === 0
              ? 'the proposal changed no file'
              : (guardRejection(check) ?? screened(diff, screen));
      if (rejection) {
        // what it left (ignored files included) goes with the next resetHard
        await finishExperiment(ctx, exp, { status: 'rejected', value: null, metrics: {}, reason: rejection });
        continue;
      }
      const commit = await worktree.commit(check.changed, description, check.untracked);
      queue.push(await ledger.updateExperiment(exp.id, { commit }));
    }
  } finally {
    queue.close();
  }
}
