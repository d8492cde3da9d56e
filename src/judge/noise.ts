/**
 * The noise-aware judge: a gain must clear a threshold set from the measured noise floor.
 *
 * With sigma the run-to-run standard deviation of the metric (from the repeated baseline), a
 * candidate with n runs (mean m) compared with a best whose mean has n_b runs has a standard
 * error of sigma * sqrt(1/n + 1/n_b). It is kept when its gain clears
 * max(min_delta, z * that standard error); discarded when it is not better at all; and, when it
 * is better but not clearly (near the line), run again up to `confirmRuns` times, each run
 * shrinking the standard error. Without a noise floor (sigma unknown) it acts like the greedy
 * judge with min_delta. Pure; never throws.
 */
import { formatDelta, gainOf, type Decision, type Judge, type JudgeInput } from './types.js';

export interface NoiseJudgeOptions {
  /** How many standard errors a gain must clear. Default 2. */
  z?: number;
  /** Extra runs allowed for a candidate near the line. Default 2. */
  confirmRuns?: number;
  /** Absolute floor for the threshold. Default 0. */
  minDelta?: number;
}

export class NoiseJudge implements Judge {
  readonly name = 'noise';
  private readonly z: number;
  private readonly confirmRuns: number;
  private readonly minDelta: number;

  constructor(opts: NoiseJudgeOptions = {}) {
    this.z = opts.z ?? 2;
    this.confirmRuns = opts.confirmRuns ?? 2;
    this.minDelta = opts.minDelta ?? 0;
  }

  decide(input: JudgeInput): Decision {
    const { gain } = gainOf(input);
    const n = input.candidate.length;
    const sigma = input.noise?.sigma ?? 0;
    const se = sigma * Math.sqrt(1 / n + 1 / Math.max(1, input.best.runs));
    const threshold = Math.max(this.minDelta, this.z * se);
    const runs = n > 1 ? ` over ${n} runs` : '';
    const rule =
      sigma > 0 && this.z * se >= this.minDelta
        ? ` = ${this.z} x standard error, sigma ${formatDelta(sigma)}`
        : this.minDelta > 0
          ? ' = min_delta'
          : '';
    if (gain > threshold) {
      const bar = threshold > 0 ? ` (> ${formatDelta(threshold)}${rule})` : '';
      return { decision: 'keep', threshold, reason: `improved by ${formatDelta(gain)}${runs}${bar}` };
    }
    if (gain <= 0) {
      return {
        decision: 'discard',
        threshold,
        reason: gain === 0 ? `no change${runs}` : `worse by ${formatDelta(-gain)}${runs}`,
      };
    }
    if (n <= this.confirmRuns && sigma > 0) {
      return {
        decision: 'confirm',
        threshold,
        reason: `improved by ${formatDelta(gain)}${runs}, within noise (<= ${formatDelta(threshold)}): confirming`,
      };
    }
    return {
      decision: 'discard',
      threshold,
      reason: `improved by only ${formatDelta(gain)}${runs}, within noise (<= ${formatDelta(threshold)}${rule})`,
    };
  }
}
