/**
 * Judge seam: decides whether a finished run is kept.
 *
 * Contract: pure and synchronous; never throws; the same input gives the same decision.
 * The greedy judge compares one run with the best; a noise-aware judge (later) may ask for
 * confirmation runs through `decision: 'confirm'`.
 */
import type { Direction } from '../ledger/types.js';

export interface JudgeInput {
  direction: Direction;
  /** The current best value. */
  best: number;
  /** The candidate's value (finite). */
  candidate: number;
}

export type Decision =
  | { decision: 'keep'; reason: string }
  | { decision: 'discard'; reason: string };

export interface Judge {
  readonly name: string;
  decide(input: JudgeInput): Decision;
}
