/**
 * Plateau detection: a study has stalled when none of its last N experiments that ran (keep,
 * discard, crash, timeout; the baseline, rejected and queued ones not counted) was kept.
 * `[proposer] plateau_after` is N (0 = never). Proposers respond: the search widens its steps
 * and prefers constants never touched; LLM agents get a plateau section in their prompt.
 *
 * Contract: pure functions of the history; never throw for odd input.
 */
import type { Experiment } from '../ledger/types.js';

const RAN: ReadonlySet<string> = new Set(['keep', 'discard', 'crash', 'timeout']);

export interface Plateau {
  /** Experiments that ran since the last keep (>= the threshold). */
  since: number;
  /** The threshold N it crossed. */
  after: number;
  /** Number of the last keep (0 = the baseline). */
  lastKeep: number;
}

/** The plateau the study is on, or null when one of its last `after` experiments that ran was kept. */
export function plateauOf(history: readonly Experiment[], after: number): Plateau | null {
  if (after <= 0) return null;
  const ran = history.filter((e) => !e.baseline && RAN.has(e.status)).sort((a, b) => a.number - b.number);
  let since = 0;
  let lastKeep = 0;
  for (let i = ran.length - 1; i >= 0; i--) {
    if (ran[i]!.status === 'keep') {
      lastKeep = ran[i]!.number;
      break;
    }
    since++;
  }
  return since >= after ? { since, after, lastKeep } : null;
}
