/**
 * The proposal pipeline: the proposer prepares the next changes while slots run, so that a slot
 * never waits for the agent when a proposal is ready. Up to `[proposer] concurrency` proposals
 * are made at once, each by a worker with its own worktree on the current best, each told what
 * is in flight (queued and running experiments, and the proposals the other workers are making).
 * Each proposal is checked by the harness whatever the proposer did (commits folded back, writes
 * through links or to ignored files seen; only editable files, not empty;
 * ../workspace/proposal-guard.ts; the screen; not a duplicate of a change in flight or kept),
 * recorded in the ledger (status `running` = queued), committed, and queued for the next free
 * slot. Rejected proposals are recorded and never queued; they do not use up --max-experiments
 * (only experiments that ran count, ./in-flight.ts): the proposer is asked again, until
 * `[proposer] max_rejections` proposals in a row never ran (stop reason 'rejections').
 *
 * Contract: never throws for what the proposer does; returns why it stopped proposing, after
 * every worker has stopped (so nothing is pushed after the queue closes). The ledger row (with
 * the diff) is written before the commit, so a kill in between loses nothing: resume re-applies
 * the diff.
 */
import type { Experiment } from '../ledger/types.js';
import type { JournalOp } from '../proposer/journal.js';
import { plateauOf } from '../proposer/plateau.js';
import type { InFlight, ProposalContext, ProposalUsage } from '../proposer/types.js';
import { Mutex, type AsyncQueue, type Notifier } from '../scheduler/async-queue.js';
import { guardAfter, guardBefore, guardRejection } from '../workspace/proposal-guard.js';
import type { Worktree } from '../workspace/worktree.js';
import type { LoopContext } from './context.js';
import type { StopReason } from './events.js';
import { outageOver, waitWhileUnavailable } from './outage.js';
import { failureSettings, tooManyFailures } from './failures.js';
import { duplicateOf, extraAhead, inFlightOf, notRunInARow, tally, touchedLines } from './in-flight.js';
import { applyJournalOps, readJournal } from './journal-store.js';
import { finishExperiment, oneLine } from './record.js';
import { screenDiff } from './screen.js';
import { screenContext } from './screen-context.js';

export interface PipelineLimits {
  /** Experiments that ran (rejected ones not counted) after which no more are proposed. */
  maxExperiments: number | null;
  /** Epoch ms after which no experiment is proposed; null for none. */
  deadline: number | null;
  startedAt: number;
  /** Proposer spend caps over the whole study (usage recorded in the ledger). */
  maxCostUsd: number | null;
  maxTokens: number | null;
}

/**
 * The context a proposer gets (for a proposal, or a repair in a slot's worktree). `making`: the
 * proposals other workers are making now (added to the experiments in flight).
 */
export function proposalContext(
  ctx: LoopContext,
  worktree: string,
  best: { commit: string; mean: number; number: number },
  history: Experiment[],
  limits: PipelineLimits,
  making: readonly InFlight[] = [],
): ProposalContext {
  const study = ctx.frontier.currentStudy;
  const t = tally(history);
  const counted = t.ran + t.pending;
  return {
    worktree,
    editable: [...ctx.config.files.editable],
    protected: [...ctx.config.files.protected],
    objective: { metric: study.metric, direction: study.direction },
    parentCommit: best.commit,
    best: { commit: best.commit, value: best.mean, number: best.number },
    number: history.length === 0 ? 0 : Math.max(...history.map((e) => e.number)) + 1,
    history,
    inFlight: [...inFlightOf(history), ...making],
    program: ctx.program,
    secrets: ctx.secrets,
    plateau: plateauOf(history, ctx.config.proposer.plateau_after),
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

/** What the workers share: proposals being made now, and the first reason to stop. */
interface Shared {
  making: Map<number, InFlight>;
  /** The queue's capacity as configured ([slots] prefetch), and the number of slots. */
  prefetch: number;
  slots: number;
  stop: StopReason | null;
  /** An experiment finished or a proposal was recorded: waiting workers look again. */
  changed: Notifier;
  /** One worker at a time looks for a duplicate and records its proposal (so two can't both pass). */
  record: Mutex;
  /** Aborts on Ctrl-C, at the deadline, and when a worker stops: wakes workers waiting for room. */
  wake: AbortSignal;
  stopAll: () => void;
  /** The last keep of the plateau last announced (a notice once per plateau). */
  plateauAt?: number;
}

/**
 * Runs one proposal worker per worktree (`worktrees.length` proposals at once at most) until one
 * of them finds a reason to stop; returns that reason once every worker has stopped, then closes
 * the queue. `changed` must be notified whenever an experiment finishes. With a prefetch, the
 * queue's capacity grows with the time a proposal takes relative to a run (`extraAhead`), so that
 * `slots` slots fed by a slow agent still find a change ready.
 */
export async function runProposalPipeline(
  ctx: LoopContext,
  worktrees: readonly Worktree[],
  queue: AsyncQueue<Experiment>,
  limits: PipelineLimits,
  changed: Notifier,
  slots = 1,
): Promise<StopReason> {
  const stopping = new AbortController();
  const deadline =
    limits.deadline !== null ? setTimeout(() => stopping.abort(), Math.max(0, limits.deadline - Date.now())) : null;
  const shared: Shared = {
    making: new Map(),
    stop: null,
    changed,
    prefetch: queue.capacity,
    slots,
    record: new Mutex(),
    wake: AbortSignal.any([ctx.signal, stopping.signal]),
    stopAll: () => stopping.abort(),
  };
  try {
    const settled = await Promise.allSettled(
      worktrees.map((wt, i) => proposalWorker(ctx, i, wt, queue, limits, shared)),
    );
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    return shared.stop ?? 'interrupted';
  } finally {
    if (deadline) clearTimeout(deadline);
    queue.close();
  }
}

/**
 * Why the pipeline must stop now, 'wait' when it must wait for in-flight work first, or the
 * experiments (and the worker counted as making a proposal).
 */
async function checkLimits(
  ctx: LoopContext,
  queue: AsyncQueue<Experiment>,
  limits: PipelineLimits,
  shared: Shared,
  me: number,
): Promise<StopReason | 'wait' | { all: Experiment[] }> {
  if (ctx.signal.aborted) return 'interrupted';
  if (shared.stop) return shared.stop;
  if (limits.deadline !== null && Date.now() >= limits.deadline) return 'max-hours';
  await ctx.frontier.synced(); // propose on the ledger's best (another host may have moved it)
  const all = await ctx.ledger.listExperiments(ctx.frontier.currentStudy.id);
  if (shared.prefetch > 0) queue.setCapacity(shared.prefetch + extraAhead(all, shared.slots));
  const t = tally(all);
  const others = [...shared.making.keys()].filter((k) => k !== me).length;
  if (limits.maxExperiments !== null && t.ran + t.pending + others >= limits.maxExperiments) {
    // what is queued, running or being proposed may still end without running: then propose again
    return t.pending + others > 0 ? 'wait' : 'max-experiments';
  }
  const used = spent(all);
  if (limits.maxCostUsd !== null && used.costUsd >= limits.maxCostUsd) return 'max-cost';
  if (limits.maxTokens !== null && used.tokens >= limits.maxTokens) return 'max-tokens';
  const cap = ctx.config.proposer.max_rejections;
  if (cap > 0 && notRunInARow(all).length >= cap) return 'rejections';
  if (tooManyFailures(all, failureSettings(ctx.config), limits.startedAt)) return 'failures';
  // counted by the others from now on (set before any await, so two can't both pass the limit)
  const parentCommit = ctx.frontier.current!.commit;
  shared.making.set(me, {
    number: null,
    description: '(being proposed)',
    parentCommit,
    diff: '',
    lines: {},
    change: null,
  });
  return { all };
}

async function proposalWorker(
  ctx: LoopContext,
  me: number,
  worktree: Worktree,
  queue: AsyncQueue<Experiment>,
  limits: PipelineLimits,
  shared: Shared,
): Promise<void> {
  const { config, ledger, proposer, frontier, emit, signal } = ctx;
  let outages = 0; // unavailable answers in a row (./outage.ts)
  const stopWith = (why: StopReason) => {
    shared.stop ??= why;
    shared.stopAll(); // the other workers see it at once, even those waiting for room
    shared.changed.notify();
  };
  for (;;) {
    if (shared.stop) return;
    if (!(await queue.reserve(shared.wake))) {
      if (shared.stop) return;
      const deadline = limits.deadline !== null && Date.now() >= limits.deadline;
      return stopWith(signal.aborted || !deadline ? 'interrupted' : 'max-hours');
    }
    const checked = await checkLimits(ctx, queue, limits, shared, me);
    if (checked === 'wait') {
      queue.unreserve();
      const untilDeadline = limits.deadline !== null ? limits.deadline - Date.now() : undefined;
      // several hosts: what another host finishes notifies nobody here; look again every second
      const poll = ctx.host ? Math.min(untilDeadline ?? 1000, 1000) : untilDeadline;
      await shared.changed.wait(shared.wake, poll);
      continue;
    }
    if (typeof checked === 'string') {
      queue.unreserve();
      return stopWith(checked);
    }
    const best = frontier.current!;
    const study = frontier.currentStudy;
    let queued = false;
    try {
      await worktree.resetHard(best.commit);
      const before = await guardBefore(worktree);
      const screen = screenContext(config, worktree.path, study.metric); // imports as on the best
      const others = [...shared.making].filter(([k]) => k !== me).map(([, v]) => v);
      const pctx = {
        ...proposalContext(ctx, worktree.path, best, checked.all, limits, others),
        journal: { notes: await readJournal(ledger, study.id), maxChars: config.proposer.notes_max_chars },
      };
      if (pctx.plateau && shared.plateauAt !== pctx.plateau.lastKeep) {
        shared.plateauAt = pctx.plateau.lastKeep;
        emit({
          type: 'notice',
          t: Date.now(),
          level: 'info',
          message: `plateau: no keep in the last ${pctx.plateau.since} experiments that ran (since #${pctx.plateau.lastKeep}); the proposer is told to change tack`,
        });
      }
      const t0 = Date.now();
      const proposal = await ctx.proposerLock.run(() => proposer.propose(pctx, signal));
      const proposeMs = Date.now() - t0;
      if (signal.aborted) return stopWith('interrupted');
      if (proposal.kind === 'exhausted') {
        emit({
          type: 'notice',
          t: Date.now(),
          level: 'info',
          message: `the proposer has nothing left to try: ${proposal.reason}`,
        });
        return stopWith('exhausted');
      }
      // An outage: nothing recorded or counted; pause (growing), then ask again on a reset tree.
      if (proposal.kind === 'unavailable') {
        if (!(await waitWhileUnavailable(ctx, ++outages, proposal.reason))) return stopWith('interrupted');
        continue;
      }
      if (outages) outageOver(ctx, outages);
      outages = 0;

      // Whatever route the change took (commits, links, ignored files), checked here.
      const check = await guardAfter(worktree, before, config.files.editable);
      const diff = await worktree.diff(check.changed, check.untracked);
      const description =
        proposal.kind === 'ok' ? oneLine(proposal.description) : `proposal failed: ${oneLine(proposal.reason)}`;
      const change = proposal.change ?? null;
      shared.making.set(me, {
        number: null,
        description,
        parentCommit: best.commit,
        diff,
        lines: touchedLines(diff),
        change,
      });
      const { now, exp } = await shared.record.run(async () => {
        const now = await ledger.listExperiments(study.id);
        const exp = await ledger.createExperiment(study.id, {
          baseline: false,
          parentCommit: best.commit,
          proposer: proposal.proposer ?? proposer.name,
          description,
          diff,
          proposeMs,
          change,
          usage: proposal.usage ?? null,
          ...(ctx.host ? { lease: { host: ctx.host.id, ms: ctx.host.leaseMs } } : {}),
        });
        shared.making.delete(me); // in the ledger now: in flight as an experiment
        if (proposal.journal?.length) await storeJournal(ctx, exp.number, proposal.journal);
        return { now, exp };
      });
      emit({ type: 'proposal', t: Date.now(), number: exp.number, description, proposeMs, parentCommit: best.commit });

      if (check.hidden.length) {
        emit({
          type: 'notice',
          t: Date.now(),
          level: 'warn',
          message: `proposal #${exp.number} ${guardRejection(check)!.replace(/^the proposal /, '')}`,
        });
      }
      const dup = duplicateOf(now, best.commit, diff);
      const rejection = check.hidden.length
        ? guardRejection(check)
        : proposal.kind === 'failed'
          ? `the proposer failed: ${oneLine(proposal.reason)}`
          : check.changed.length === 0
            ? 'the proposal changed no file'
            : (guardRejection(check) ??
              screened(diff, screen) ??
              (dup
                ? `it repeats #${dup.number} (${dup.status === 'keep' ? 'kept' : 'in flight'}), not run again`
                : null));
      if (rejection) {
        // what it left (ignored files included) goes with the next resetHard; not counted: ask again
        await finishExperiment(ctx, exp, { status: 'rejected', value: null, metrics: {}, reason: rejection });
        continue;
      }
      const commit = await worktree.commit(check.changed, description, check.untracked);
      queue.fill(await ledger.updateExperiment(exp.id, { commit }));
      queued = true;
    } finally {
      shared.making.delete(me);
      if (!queued) queue.unreserve();
      shared.changed.notify();
    }
  }
}

/** Stores a proposal's journal operations (under the record lock); refusals become a notice. */
async function storeJournal(ctx: LoopContext, experiment: number, ops: JournalOp[]): Promise<void> {
  const r = await applyJournalOps(ctx.ledger, ctx.frontier.currentStudy.id, ops, {
    maxChars: ctx.config.proposer.notes_max_chars,
    experiment,
  });
  if (r.refused.length)
    ctx.emit({
      type: 'notice',
      t: Date.now(),
      level: 'warn',
      message: `journal: ${r.refused.length} note operation(s) of proposal #${experiment} refused: ${r.refused.join('; ')}`,
    });
}
