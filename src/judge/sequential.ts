/**
 * The sequential judge (the default): a bounded sequential test of "the candidate is better than
 * the best", with the noise estimate that learns (./pooled-noise.ts).
 *
 * A candidate with n runs (mean m, each on a seed the harness drew at measurement time) is
 * compared with the best's mean over n_b runs; with sigma the pooled standard deviation and df its
 * degrees of freedom, the standard error of the gain is sigma * sqrt(1/n + 1/n_b) and the gain
 * over it is a t statistic. At each look n = 1 .. maxRuns:
 *  - keep when the gain clears max(min_delta, t_df(1 - alpha/maxRuns) x standard error) and the
 *    candidate has at least two runs (the first look never keeps while sigma > 0: a second seed
 *    also shows whether the change ignores AUTORESEARCH_SEED);
 *  - discard when the gain is not above `futility` standard errors (0: not better at all);
 *  - else run again (confirm), up to maxRuns runs; then discard as within noise.
 * Spending alpha/maxRuns at each look (Bonferroni) bounds the chance that a change with no real
 * effect is ever kept by alpha, whatever the looks; the t-quantile accounts for a sigma known
 * only from few runs. Runs of one candidate on different seeds that all gave the very same
 * value while sigma > 0 mean the code ignores the harness's seed: discarded, never kept.
 * The candidate's own runs measure the noise too: when pooling them with the study's estimate
 * raises the bar (t-quantile x sigma), the judge uses that pooled estimate. An estimate from 2-3
 * early runs can be far too small (measured on tiny: baseline sd 0.0017, later 0.018), and a
 * candidate whose two runs disagree by more than that must not be kept on it. Never the other way:
 * a change that narrows its own spread does not lower its bar.
 * Without a noise floor (or sigma 0) it is the greedy rule with min_delta. Pure; never throws.
 *
 * Paired seeds (`input.paired`, `[judge] paired = true`): the candidate's run i used the same
 * harness-drawn seed as the best's value best[i], so the seed's luck (initialisation, data order)
 * cancels in d_i = best[i] - cand[i] (direction-adjusted); the gain is mean(d) and its standard
 * error sigma_d / sqrt(n), sigma_d the paired differences' standard deviation pooled over the
 * study with its df; the same looks, bound, futility and first-look rule apply. The pinned-seed
 * rule reads the candidate's own values in both modes: a change that ignores the seed prints one
 * value on every seed, and against the best's varying values that would look like a steady gain.
 */
import type { NoiseFloor } from '../ledger/types.js';
import { dfOf } from './pooled-noise.js';
import { tQuantile } from './stats.js';
import { formatDelta, gainOf, sampleStd, type Decision, type Judge, type JudgeInput } from './types.js';

export interface SequentialJudgeOptions {
  /** Chance that a change with no real effect is kept (spent over the looks). Default 0.01. */
  alpha?: number;
  /** Most runs of one candidate (the bound on a decision's cost). Default 4. */
  maxRuns?: number;
  /** Discard at a look when the gain is not above this many standard errors. Default 0. */
  futility?: number;
  /** Absolute floor for the threshold. Default 0. */
  minDelta?: number;
  /** Repeat runs get different seeds (false: [judge].vary_seed = false, identical runs are expected). Default true. */
  seedsVary?: boolean;
}

/** Below this chance of equal values by noise alone, equal values on different seeds mean a pinned seed. */
const MAX_TIE_CHANCE = 1e-3;

/**
 * The chance that two runs on different seeds print the very same value by noise alone: a metric
 * printed with few decimals (an accuracy on 1,000 examples: 0.953) ties often, one printed with
 * six (val_bpb 0.997900) almost never. The resolution r is the finest last decimal among `values`
 * (the baseline's runs, printed by code the proposer cannot change, come first: a change that
 * prints a round number does not make the metric look coarse). With noise sigma, two normal draws
 * land in one bin of width r with probability about r / (2 sqrt(pi) sigma).
 */
export function tieChance(values: readonly number[], sigma: number): number {
  if (!(sigma > 0)) return 0;
  let decimals = 0;
  for (const v of values) {
    const text = String(Math.abs(v));
    if (/e/i.test(text)) return 0; // printed in exponent form: a fine resolution
    decimals = Math.max(decimals, text.split('.')[1]?.length ?? 0);
  }
  return Math.min(1, 10 ** -decimals / (2 * Math.sqrt(Math.PI) * sigma));
}

/** Mean paired gain: the mean of best(seed_i) - cand(seed_i), direction-adjusted (positive = better). */
export function pairedGain(input: JudgeInput, best: readonly number[]): { gain: number; diffs: number[] } {
  const diffs = input.candidate.map((x, i) => (input.direction === 'minimize' ? best[i]! - x : x - best[i]!));
  return { gain: diffs.reduce((s, x) => s + x, 0) / diffs.length, diffs };
}

export class SequentialJudge implements Judge {
  readonly name = 'sequential';
  readonly alpha: number;
  readonly maxRuns: number;
  private readonly futility: number;
  private readonly minDelta: number;
  private readonly seedsVary: boolean;
  private readonly quantiles = new Map<number, number>();

  constructor(opts: SequentialJudgeOptions = {}) {
    this.alpha = opts.alpha ?? 0.01;
    this.maxRuns = Math.max(1, opts.maxRuns ?? 4);
    this.futility = opts.futility ?? 0;
    this.minDelta = opts.minDelta ?? 0;
    this.seedsVary = opts.seedsVary ?? true;
  }

  /** The t-quantile a gain must clear at every look, for a noise estimate with `df` degrees of freedom. */
  bound(df: number): number {
    const key = Math.max(1, df);
    let q = this.quantiles.get(key);
    if (q === undefined) {
      q = tQuantile(1 - this.alpha / this.maxRuns, key);
      this.quantiles.set(key, q);
    }
    return q;
  }

  decide(input: JudgeInput): Decision {
    const paired = input.paired && input.paired.best.length === input.candidate.length ? input.paired : null;
    const { gain } = paired ? pairedGain(input, paired.best) : gainOf(input);
    const n = input.candidate.length;
    const runs = n > 1 ? ` over ${n} ${paired ? 'paired seeds' : 'runs'}` : paired ? ' on a paired seed' : '';
    const sigma = (paired ? paired.noise.sigma : input.noise?.sigma) ?? 0;
    if (!(sigma > 0)) return this.greedy(gain, runs);
    // paired: sigma_d already pools the candidate's own differences (../loop/paired-seeds.ts);
    // unpaired: the study's estimate, or that estimate with the candidate's runs when that raises the bar
    const {
      sigma: s,
      df,
      q,
    } = paired
      ? { sigma, df: dfOf(paired.noise), q: this.bound(dfOf(paired.noise)) }
      : this.withCandidate(sigma, dfOf(input.noise as NoiseFloor), input.candidate);
    // paired: the best's seed luck cancels in each difference; its standard error is sigma_d / sqrt(n)
    const se = paired ? s / Math.sqrt(n) : s * Math.sqrt(1 / n + 1 / Math.max(1, input.best.runs));
    const threshold = Math.max(this.minDelta, q * se);
    const rule =
      q * se >= this.minDelta
        ? ` = ${q.toFixed(2)} x standard error, ${paired ? 'paired-difference sigma' : 'sigma'} ${formatDelta(s)}, ${df} df${s !== sigma ? ' with its own runs' : ''}`
        : ' = min_delta';
    // The pinned-seed rule, paired or not: the candidate's own values on different seeds (a
    // constant against the best's varying values would otherwise look like a steady gain).
    const runSigma = input.noise?.sigma ?? sigma;
    if (
      this.seedsVary &&
      n > 1 &&
      input.candidate.every((x) => x === input.candidate[0]) &&
      runSigma > 0 &&
      tieChance([...(input.noise?.runs ?? []), ...input.candidate], runSigma) ** (n - 1) < MAX_TIE_CHANCE
    )
      return {
        decision: 'discard',
        threshold,
        reason: `its ${n} runs on different seeds gave the very same value while the noise is sigma ${formatDelta(runSigma)}: the code ignores AUTORESEARCH_SEED (a pinned seed?)`,
      };
    if (gain <= this.futility * se)
      return {
        decision: 'discard',
        threshold,
        reason:
          gain > 0
            ? `improved by only ${formatDelta(gain)}${runs}, within noise (<= ${this.futility} x standard error ${formatDelta(se)})`
            : gain === 0
              ? `no change${runs}`
              : `worse by ${formatDelta(-gain)}${runs}`,
      };
    if (gain > threshold && n >= 2)
      return {
        decision: 'keep',
        threshold,
        reason: `improved by ${formatDelta(gain)}${runs} (> ${formatDelta(threshold)}${rule})`,
      };
    if (n < this.maxRuns)
      return {
        decision: 'confirm',
        threshold,
        reason:
          gain > threshold
            ? `improved by ${formatDelta(gain)} (> ${formatDelta(threshold)}): confirming on another seed`
            : `improved by ${formatDelta(gain)}${runs}, within noise (<= ${formatDelta(threshold)}): confirming`,
      };
    return {
      decision: 'discard',
      threshold,
      reason: `improved by only ${formatDelta(gain)}${runs}, within noise (<= ${formatDelta(threshold)}${rule})`,
    };
  }

  /** The study's estimate, or that estimate pooled with the candidate's runs when that raises the bar. */
  private withCandidate(
    sigma: number,
    df: number,
    candidate: readonly number[],
  ): { sigma: number; df: number; q: number } {
    const q = this.bound(df);
    const n = candidate.length;
    if (n < 2) return { sigma, df, q };
    const own = sampleStd(candidate);
    const df2 = df + n - 1;
    const sigma2 = Math.sqrt((df * sigma ** 2 + (n - 1) * own ** 2) / df2);
    const q2 = this.bound(df2);
    return q2 * sigma2 > q * sigma ? { sigma: sigma2, df: df2, q: q2 } : { sigma, df, q };
  }

  private greedy(gain: number, runs: string): Decision {
    const threshold = this.minDelta;
    if (gain > threshold)
      return {
        decision: 'keep',
        threshold,
        reason: `improved by ${formatDelta(gain)}${runs}${threshold > 0 ? ` (> min_delta ${threshold})` : ''}`,
      };
    if (gain > 0)
      return {
        decision: 'discard',
        threshold,
        reason: `improved by only ${formatDelta(gain)}${runs} (<= min_delta ${threshold})`,
      };
    return {
      decision: 'discard',
      threshold,
      reason: gain === 0 ? `no change${runs}` : `worse by ${formatDelta(-gain)}${runs}`,
    };
  }
}
