/**
 * Proposer seam: produces one change in a worktree plus a one-line description.
 *
 * Contract:
 * - `propose` edits files only inside `ctx.worktree` and only through the filesystem; it never
 *   runs git and never commits (the harness checks the changed files, commits, runs and judges).
 * - It never throws for expected failures (an LLM that answers garbage, a search space that is
 *   exhausted): those are `ProposalResult` values. It throws only for bugs.
 * - It must be deterministic given the same context and its own options (seed), so that a
 *   resumed study behaves as if it had never stopped. State comes from `ctx.history` and
 *   `ctx.inFlight`, never from memory of earlier calls (except to stay clear of changes that
 *   concurrent calls are making, which the next context will list).
 * - It must be safe to call concurrently (`[proposer] concurrency` calls at once, proposals and
 *   crash repairs, each in its own worktree).
 * - When `signal` aborts it returns promptly (kind 'failed', reason 'aborted').
 */
import type { Direction, Experiment } from '../ledger/types.js';
import type { Secret } from '../runner/secrets.js';
import type { Journal, JournalOp } from './journal.js';
import type { Plateau } from './plateau.js';

export interface ProposalContext {
  /** Absolute path of the git worktree holding the current best commit; edit files here. */
  worktree: string;
  /** Files (relative to the worktree) the proposer may change. */
  editable: string[];
  /** Files (relative) it must not change; may be read. */
  protected: string[];
  objective: { metric: string; direction: Direction };
  /** Commit the change is made on (the current best). */
  parentCommit: string;
  best: { commit: string; value: number; number: number };
  /** Number this experiment will likely get (with concurrent proposals, the ledger decides). */
  number: number;
  /**
   * Every experiment of the study so far, ordered by number (baseline included). Those with
   * status 'running' are queued or running in other slots (also listed in `inFlight`): their
   * changes are being tried, so a proposer should not propose them again.
   */
  history: Experiment[];
  /**
   * Changes being tried now, not yet decided: experiments queued or running in slots (their
   * diff is known) and proposals other proposer calls are making at this moment (diff ''). A
   * proposer should neither repeat them nor edit the lines they touch: when one of them is kept,
   * a change made on the same line can no longer be re-applied and ends `conflict`.
   */
  inFlight: InFlight[];
  /** The human-written research strategy (program.md), when present. */
  program: string | null;
  /** Remaining budget, when bounded. */
  budget: { experimentsLeft: number | null; secondsLeft: number | null };
  /**
   * Secret values (the harness's and `[run].env`'s) that must never reach a model: prompts and
   * tool results are scrubbed of them (`[redacted:NAME]`), as a last line of defense.
   */
  secrets?: readonly Secret[];
  /**
   * The research journal (./journal.ts): notes of earlier agents and of people, shown in the
   * prompt; an LLM agent edits it with its note tool and returns the net `journal` ops in its
   * result, which the loop stores. Absent for repairs and where the loop keeps no journal.
   */
  journal?: Journal;
  /**
   * Set when the study is on a plateau (./plateau.ts: no keep in the last `[proposer]
   * plateau_after` experiments that ran): a cue to change tack (wider steps, untried knobs,
   * combining near-misses). Absent or null otherwise.
   */
  plateau?: Plateau | null;
  /**
   * A workspace joined to a hub (../hub/hub-context.ts): what other contributors tried from the
   * same best and the study's notes board. Contributor-written, hence untrusted: every text is
   * one cleaned line, bounded in count and length, scrubbed of `secrets`; shown as data only.
   * Absent without a hub or when the hub did not answer.
   */
  others?: OthersContext;
}

/** What other contributors of a hub study did and wrote (see ProposalContext.others). */
export interface OthersContext {
  /**
   * Results others posted from the current best, and work queued or running from it. `commit`:
   * the hub commit of a posted result (absent for queued work).
   */
  tried: Array<{ contributor: string; description: string; status: string; value: number | null; commit?: string }>;
  /** The notes board, newest first. */
  notes: Array<{ contributor: string; text: string }>;
  /**
   * The change (unified diff against its parent) of one of the `tried` results, by its commit,
   * from the hub: set by the hub proposer, it lets an LLM agent build on another contributor's
   * result (`build_on`, ./llm/build-on.ts). Answers `{ error }` for a commit not listed in `tried`
   * and when the hub does not hold it or does not answer; never throws.
   */
  fetchChange?: (commit: string) => Promise<{ diff: string } | { error: string }>;
}

/** One change in flight (see ProposalContext.inFlight). */
export interface InFlight {
  /** Its experiment number; null for a proposal still being made by another proposer call. */
  number: number | null;
  description: string;
  /** The commit it was made on. */
  parentCommit: string;
  /** Unified diff against parentCommit ('' while it is being made). */
  diff: string;
  /** Lines it changes, per file: 1-based line numbers in parentCommit's version of the file. */
  lines: Record<string, number[]>;
  /** The proposer's structured record of the change, when it gave one. */
  change: unknown;
}

export interface ProposalUsage {
  inputTokens?: number;
  outputTokens?: number;
  costUsd?: number;
}

export type ProposalResult =
  | {
      kind: 'ok';
      /** One line, e.g. "MATRIX_LR 0.04 -> 0.05". */
      description: string;
      /** Structured record of the change, stored in the ledger (proposer-specific JSON). */
      change?: unknown;
      usage?: ProposalUsage;
      /** Net changes to the research journal (ctx.journal), stored by the loop after a re-check. */
      journal?: JournalOp[];
      /** Recorded as the experiment's proposer instead of `Proposer.name` (e.g. "hub-queued"). */
      proposer?: string;
    }
  | {
      kind: 'failed';
      reason: string;
      usage?: ProposalUsage;
      journal?: JournalOp[];
      /** As for 'ok': stored with the rejected experiment, and its proposer's name. */
      change?: unknown;
      proposer?: string;
    }
  /** Nothing left to try (e.g. the search proposer tried every move from this parent). */
  | { kind: 'exhausted'; reason: string }
  /**
   * The proposer's service is down for now (an LLM API: connection refused, 5xx, 429 or
   * timeouts after its own bounded retries). Nothing was proposed and nothing is to be
   * recorded: the loop pauses with a growing back-off and asks again (loop/outage.ts); what the
   * proposer left in the worktree is reset before it does.
   */
  | { kind: 'unavailable'; reason: string; usage?: ProposalUsage };

/** What the loop tells a proposer about a crashed run of its own change (crash repair). */
export interface CrashReport {
  /** The description of the change that crashed. */
  description: string;
  /** Why the harness calls it a crash, e.g. "exit code 1: NameError: name 'x' is not defined". */
  reason: string;
  /** Last lines of the run's output. */
  logTail: string;
  /** 1 for the first repair attempt of this experiment, 2 for the second, ... */
  attempt: number;
}

export interface Proposer {
  /** Name recorded in the ledger, e.g. "search" or "anthropic:claude-sonnet-4-5". */
  readonly name: string;
  propose(ctx: ProposalContext, signal?: AbortSignal): Promise<ProposalResult>;
  /**
   * Optional crash repair (as the original asks: fix shallow crashes of a sound idea). Called
   * with the worktree holding the crashed change (uncommitted edits on top of the crashed
   * commit are the fix); same contract as `propose`. A proposer without it never gets crash
   * repair. Return kind 'failed' to give up on the idea.
   */
  repair?(ctx: ProposalContext, crash: CrashReport, signal?: AbortSignal): Promise<ProposalResult>;
  /**
   * Optional check run once before the baseline: is the key set, the server reachable, the CLI
   * installed? Returns one line saying what to set or install, or null when ready. Never throws.
   */
  preflight?(signal?: AbortSignal): Promise<string | null>;
}
