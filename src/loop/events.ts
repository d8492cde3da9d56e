/**
 * The one event stream of a study. The terminal view, `--json` (one event per line) and, later,
 * the dashboard all read these. Events are plain JSON-serialisable data; `t` is epoch ms.
 */
import type { FinalStatus } from '../ledger/types.js';

export type StopReason =
  | 'max-experiments' // --max-experiments reached
  | 'max-hours' // --max-hours reached
  | 'interrupted' // Ctrl-C / SIGTERM
  | 'exhausted' // the proposer has nothing left to try
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
      worktree: string;
      resumed: boolean;
      proposer: string;
      judge: string;
      metric: string;
      direction: 'minimize' | 'maximize';
      /** Finished experiments so far (baseline not counted). */
      finished: number;
      maxExperiments: number | null;
      maxHours: number | null;
      timeoutS: number;
      best: BestSoFar | null;
    }
  | { type: 'notice'; t: number; level: 'info' | 'warn'; message: string }
  | { type: 'experiment-started'; t: number; number: number; baseline: boolean; parentCommit: string; resumed: boolean }
  | { type: 'proposal'; t: number; number: number; description: string; proposeMs: number }
  | { type: 'run-started'; t: number; number: number; commit: string; timeoutS: number; logPath: string }
  | {
      type: 'experiment-finished';
      t: number;
      number: number;
      baseline: boolean;
      status: FinalStatus;
      value: number | null;
      description: string;
      reason: string;
      commit: string | null;
      runMs: number | null;
      best: BestSoFar | null;
      finished: number;
    }
  | {
      type: 'study-stopped';
      t: number;
      reason: StopReason;
      message: string;
      finished: number;
      kept: number;
      best: BestSoFar | null;
    };

export type EmitEvent = (event: StudyEvent) => void;
