/**
 * Judge seam: decides whether a finished run is kept, discarded, or needs another run.
 *
 * Contract: pure and synchronous; never throws; the same input gives the same decision.
 * 'confirm' asks the loop for one more run of the same commit (with the next seed); the loop
 * calls `decide` again with all runs so far. A judge must eventually answer keep or discard
 * (bounded confirmations).
 */
import type { Direction, NoiseFloor } from '../ledger/types.js';

export interface JudgeInput {
  direction: Direction;
  /** The current best: mean of its runs and how many runs that mean has. */
  best: { mean: number; runs: number };
  /** Objective values of the candidate's runs so far (at least one, all finite). */
  candidate: number[];
  /** The study's noise floor, when measured. */
  noise: NoiseFloor | null;
  /**
   * Paired seeds (`[judge] paired = true`, sequential judge only): `best[i]` is the best's value
   * on the seed of the candidate's run i (same length as `candidate`), and `noise` the standard
   * deviation of the paired differences cand(seed_i) - best(seed_i), pooled over the study
   * (../loop/paired-seeds.ts). Absent: the unpaired test on the means.
   */
  paired?: { best: number[]; noise: NoiseFloor };
}

export interface Decision {
  decision: 'keep' | 'discard' | 'confirm';
  /** One line for people, e.g. "improved by 0.0031 (> 0.0012 = 2.0 sigma)". */
  reason: string;
  /** The gain the candidate had to clear (in the metric's units, direction-adjusted). */
  threshold: number;
}

export interface Judge {
  readonly name: string;
  decide(input: JudgeInput): Decision;
}

/** Gain of the candidate's mean over the best, positive when better in the study's direction. */
export function gainOf(input: JudgeInput): { mean: number; gain: number } {
  const mean = input.candidate.reduce((s, x) => s + x, 0) / input.candidate.length;
  const gain = input.direction === 'minimize' ? input.best.mean - mean : mean - input.best.mean;
  return { mean, gain };
}

export function formatDelta(x: number): string {
  if (x === 0) return '0';
  const abs = Math.abs(x);
  return abs >= 0.001 && abs < 1e6 ? x.toFixed(6).replace(/0+$/, '').replace(/\.$/, '') : x.toExponential(3);
}

/** Sample standard deviation (0 for fewer than two values). */
export function sampleStd(xs: readonly number[]): number {
  if (xs.length < 2 || xs.every((x) => x === xs[0])) return 0;
  const m = xs.reduce((s, x) => s + x, 0) / xs.length;
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
}
