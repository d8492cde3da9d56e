/**
 * "Pause when it stops making sense": a study whose recent experiments mostly crashed, timed
 * out or were rejected stops (stop reason 'failures') instead of spending a night on failures.
 * `[study] failure_window` (N) and `failure_rate` (r): it stops when at least ceil(r * N) of the
 * last N decided experiments (baseline and queued/running ones not counted) are failures.
 * Conflicts are not failures (an artefact of concurrent slots, not of the proposer). Only
 * experiments proposed since this invocation started count (`since`), so that `autoresearch run`
 * after a fix starts with a fresh window.
 *
 * Contract: pure functions of the ledger's experiments; never throw for odd input.
 */
import type { Config } from '../config/load.js';
import type { Experiment, FinalStatus } from '../ledger/types.js';
import { cleanNoteText } from '../proposer/journal.js';

const FAILED: ReadonlySet<string> = new Set<FinalStatus>(['crash', 'timeout', 'rejected']);

export interface FailureSettings {
  /** How many of the latest decided experiments are looked at (0 = never stop). */
  window: number;
  /** Fraction of failures among them that stops the study (0 < rate <= 1). */
  rate: number;
}

export function failureSettings(config: Config): FailureSettings {
  return { window: config.study.failure_window, rate: config.study.failure_rate };
}

export interface FailureStreak {
  /** The window's experiments, oldest first. */
  window: Experiment[];
  failures: Experiment[];
}

/** The failures that make the study stop now, or null when it goes on. */
export function tooManyFailures(all: readonly Experiment[], s: FailureSettings, since = 0): FailureStreak | null {
  if (s.window <= 0) return null;
  const decided = all
    .filter((e) => !e.baseline && e.status !== 'running' && e.startedAt >= since)
    .sort((a, b) => a.number - b.number);
  if (decided.length < s.window) return null;
  const window = decided.slice(-s.window);
  const failures = window.filter((e) => FAILED.has(e.status));
  const needed = Math.max(1, Math.ceil(s.rate * s.window - 1e-9));
  return failures.length >= needed ? { window, failures } : null;
}

/** How many of the last errors the stop message lists. */
export const LAST_ERRORS = 5;

/** The stop message: the rate, what to do, and the last errors (one line each). */
export function failuresMessage(all: readonly Experiment[], s: FailureSettings, since = 0): string {
  const streak = tooManyFailures(all, s, since);
  if (!streak) return `too many of the last ${s.window} experiments failed`;
  const { window, failures } = streak;
  const lines = failures
    .slice(-LAST_ERRORS)
    .reverse()
    .map((e) => `  #${e.number} ${e.status}: ${clip(e.reason || '(no reason recorded)')} (${clip(e.description, 80)})`);
  return [
    `${failures.length} of the last ${window.length} experiments crashed, timed out or were rejected ` +
      `([study] failure_rate ${s.rate} of failure_window ${s.window}); the study stopped rather than spend more runs on failures. ` +
      'Fix the code or the proposer (program.md, the model), then `autoresearch run` resumes; or raise [study] failure_window / failure_rate (0 = never stop).',
    `last errors, newest first:`,
    ...lines,
  ].join('\n');
}

/** One printable line (reasons and descriptions carry proposer-written text: no escapes). */
function clip(s: string, max = 160): string {
  return cleanNoteText(s, max);
}
