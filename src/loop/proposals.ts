/**
 * The proposal pipeline: the proposer prepares the next change while slots run, so that a slot
 * never waits for the agent when a proposal is ready. Each proposal is made in the proposer's
 * own worktree on the current best, checked (only editable files, not empty), recorded in the
 * ledger (status `running` = queued), committed, and queued for the next free slot. Rejected
 * proposals are recorded and never queued.
 *
 * Contract: never throws for what the proposer does; returns why it stopped proposing. The
 * ledger row (with the diff) is written before the commit, so a kill in between loses nothing:
 * resume re-applies the diff.
 */
import type { Experiment } from '../ledger/types.js';
import type { AsyncQueue } from '../scheduler/async-queue.js';
import type { Worktree } from '../workspace/worktree.js';
import type { LoopContext } from './context.js';
import type { StopReason } from './events.js';
import { finishExperiment, oneLine } from './record.js';

export interface PipelineLimits {
  maxExperiments: number | null;
  /** Epoch ms after which no experiment is proposed; null for none. */
  deadline: number | null;
  startedAt: number;
}

export async function runProposalPipeline(
  ctx: LoopContext,
  worktree: Worktree,
  queue: AsyncQueue<Experiment>,
  limits: PipelineLimits,
): Promise<StopReason> {
  const { config, ledger, proposer, frontier, emit, signal } = ctx;
  try {
    for (;;) {
      await queue.waitForRoom(signal);
      if (signal.aborted) return 'interrupted';
      if (limits.deadline !== null && Date.now() >= limits.deadline) return 'max-hours';
      const study = frontier.currentStudy;
      const all = await ledger.listExperiments(study.id);
      const counted = all.filter((e) => !e.baseline).length; // finished + queued + running
      if (limits.maxExperiments !== null && counted >= limits.maxExperiments) return 'max-experiments';
      const best = frontier.current!;

      await worktree.resetHard(best.commit);
      const ignoredBefore = await worktree.ignoredFiles();
      const t0 = Date.now();
      const number = all.length === 0 ? 0 : Math.max(...all.map((e) => e.number)) + 1;
      const proposal = await ctx.proposerLock.run(() =>
        proposer.propose(
          {
            worktree: worktree.path,
            editable: [...config.files.editable],
            protected: [...config.files.protected],
            objective: { metric: study.metric, direction: study.direction },
            parentCommit: best.commit,
            best: { commit: best.commit, value: best.mean, number: best.number },
            number,
            history: all,
            program: ctx.program,
            budget: {
              experimentsLeft: limits.maxExperiments !== null ? limits.maxExperiments - counted : null,
              secondsLeft: limits.deadline !== null ? Math.max(0, (limits.deadline - Date.now()) / 1000) : null,
            },
          },
          signal,
        ),
      );
      const proposeMs = Date.now() - t0;
      if (signal.aborted) return 'interrupted';
      if (proposal.kind === 'exhausted') {
        emit({ type: 'notice', t: Date.now(), level: 'info', message: `the proposer has nothing left to try: ${proposal.reason}` });
        return 'exhausted';
      }

      const check = await worktree.checkChanges(config.files.editable, ignoredBefore);
      const diff = await worktree.diff(check.changed);
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

      const rejection =
        proposal.kind === 'failed'
          ? `the proposer failed: ${oneLine(proposal.reason)}`
          : check.changed.length === 0
            ? 'the proposal changed no file'
            : check.forbidden.length
              ? `the proposal touched file(s) outside [files].editable: ${check.forbidden.join(', ')}`
              : null;
      if (rejection) {
        await finishExperiment(ctx, exp, { status: 'rejected', value: null, metrics: {}, reason: rejection });
        await worktree.removeNewIgnored(ignoredBefore);
        continue;
      }
      const commit = await worktree.commit(check.changed, description);
      queue.push(await ledger.updateExperiment(exp.id, { commit }));
    }
  } finally {
    queue.close();
  }
}
