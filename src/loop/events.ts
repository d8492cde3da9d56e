/**
 * The one event stream of a study. The terminal view, `--json` (one event per line) and, later,
 * the dashboard all read these. Events are plain JSON-serialisable data; `t` is epoch ms.
 */
import type { Evidence, FinalStatus } from '../ledger/types.js';

export type StopReason =
  | 'max-experiments' // --max-experiments reached
  | 'max-hours' // --max-hours reached
  | 'interrupted' // Ctrl-C / SIGTERM
  | 'exhausted' // the proposer has nothing left to try
  | 'max-cost' // --max-cost-usd reached (proposer spend)
  | 'max-tokens' // --max-tokens reached (proposer tokens)
  | 'rejections' // [proposer] max_rejections proposals in a row never ran (a broken proposer)
  | 'failures' // [study] failure_rate of the last failure_window experiments crashed/timed out/were rejected
  | 'baseline-failed' // the unchanged code did not produce the metric
  | 'error'; // a problem the user must fix (message says what)

export interface BestSoFar {
  number: number;
  commit: string;
  value: number;
}

export type StudyEvent =
  | {
      type: 'study-started';
      t: number;
      tag: string;
      branch: string;
      resumed: boolean;
      proposer: string;
      judge: string;
      metric: string;
      direction: 'minimize' | 'maximize';
      slots: Array<{ index: number; label: string; gpu: string | null }>;
      /** Finished experiments so far that ran (baseline and never-run rejections not counted). */
      finished: number;
      maxExperiments: number | null;
      maxHours: number | null;
      timeoutS: number;
      best: BestSoFar | null;
    }
  | { type: 'notice'; t: number; level: 'info' | 'warn'; message: string }
  | {
      /** The noise estimate: first from the baseline's runs, then pooled again as the study measures commits more than once. */
      type: 'noise-floor';
      t: number;
      sigma: number;
      /** The baseline's runs. */
      runs: number[];
      /** Degrees of freedom, 95% interval on sigma, commits and runs pooled (absent: the baseline alone). */
      df?: number;
      low?: number;
      high?: number;
      commits?: number;
      samples?: number;
    }
  | { type: 'proposal'; t: number; number: number; description: string; proposeMs: number; parentCommit: string }
  | {
      type: 'experiment-started';
      t: number;
      number: number;
      slot: number;
      baseline: boolean;
      parentCommit: string;
      description: string;
      resumed: boolean;
    }
  | {
      type: 'run-started';
      t: number;
      number: number;
      slot: number;
      run: number;
      commit: string;
      timeoutS: number;
      logPath: string;
    }
  | { type: 'confirm'; t: number; number: number; slot: number; runs: number[]; reason: string }
  | {
      /**
       * A run's training curve (its progress lines) was clearly worse than the best commit's
       * curves at the same elapsed time ([early_stop]): the run was stopped, or with dry_run it
       * only would have been (it runs on and is judged as usual).
       */
      type: 'early-stop';
      t: number;
      number: number;
      slot: number;
      run: number;
      dryRun: boolean;
      /** The candidate's point: seconds of training and loss, as its progress line said. */
      elapsed: number;
      loss: number;
      /** The best's mean loss at that time, the between-run spread, the limit it passed. */
      mean: number;
      spread: number;
      threshold: number;
      reason: string;
    }
  | { type: 'rebase'; t: number; number: number; slot: number; fromParent: string; onto: string; reason: string }
  | { type: 'repair'; t: number; number: number; slot: number; attempt: number; description: string }
  | {
      type: 'experiment-finished';
      t: number;
      number: number;
      slot: number | null;
      baseline: boolean;
      status: FinalStatus;
      value: number | null;
      description: string;
      reason: string;
      commit: string | null;
      runMs: number | null;
      evidence: Evidence | null;
      best: BestSoFar | null;
      finished: number;
    }
  | {
      /** One finished run of an analysis (ablate, transfer, heldout): progress, never a decision. */
      type: 'analysis-run';
      t: number;
      analysis: AnalysisKind;
      variant: string;
      run: number;
      /** 'reused': recorded by an earlier (killed or finished) invocation, not run again. */
      status: 'ok' | 'crash' | 'timeout' | 'tampered' | 'reused';
      value: number | null;
      heldout: number | null;
      reason: string;
      done: number;
      total: number;
    }
  | {
      /**
       * The periodic held-out check ([heldout] every, ./heldout-check.ts): the best (or the
       * baseline, the reference) scored once on validation and on the held-out split. Never a decision.
       */
      type: 'heldout-check';
      t: number;
      number: number;
      /** Keeps so far (0: the baseline). */
      keeps: number;
      validation: number | null;
      heldout: number | null;
      /** held-out - validation (null when either is missing). */
      gap: number | null;
      reason?: string;
    }
  | {
      type: 'study-stopped';
      t: number;
      reason: StopReason;
      message: string;
      /** Finished experiments that ran: what --max-experiments counts (baseline not counted). */
      finished: number;
      /** Finished without running (rejected, failed proposer, duplicate, conflict before a run). */
      notRun: number;
      kept: number;
      best: BestSoFar | null;
      /** Per slot: time spent running over the span from its first run's start to its last run's end. */
      busy: Array<{ slot: number; fraction: number }>;
    };

/** The analyses (src/analysis/): what a run of one of them was for. */
export type AnalysisKind = 'ablation' | 'transfer' | 'heldout';

export type EmitEvent = (event: StudyEvent) => void;
