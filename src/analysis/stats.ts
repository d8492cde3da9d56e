/**
 * The maths of ablation and transfer: means and spreads of repeated runs, gains with their
 * uncertainty (Student's t while runs are few), and the additivity test of a chain of changes.
 *
 * Gains are signed so that positive is better whatever the objective's direction: for a metric
 * to minimise, the gain of B over A is mean(A) - mean(B).
 *
 * Uncertainty model: every variant's runs are independent draws around the variant's true value
 * with one common run-to-run sigma, estimated by pooling the within-variant spreads
 * (`pooledSigma`, with its degrees of freedom). A mean over n runs has standard error sigma/sqrt(n);
 * a sum of means has the root of the summed variances, so shared terms (the baseline appears in
 * every "gain alone") are counted with their multiplicity, not as if independent.
 *
 * Contract: pure functions, never throw; a quantity that cannot be computed (no runs, no degrees
 * of freedom) is null, never NaN.
 */
import type { Direction } from '../ledger/types.js';

export function mean(xs: readonly number[]): number | null {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

/** Sample standard deviation (n - 1); null below two values. */
export function sd(xs: readonly number[]): number | null {
  const m = mean(xs);
  if (m === null || xs.length < 2) return null;
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** The common run-to-run sigma of several groups of runs, with its degrees of freedom (null: none). */
export function pooledSigma(groups: ReadonlyArray<readonly number[]>): { sigma: number; df: number } | null {
  let ss = 0;
  let df = 0;
  for (const g of groups) {
    const m = mean(g);
    if (m === null || g.length < 2) continue;
    ss += g.reduce((a, x) => a + (x - m) ** 2, 0);
    df += g.length - 1;
  }
  return df > 0 ? { sigma: Math.sqrt(ss / df), df } : null;
}

// Two-sided 95% quantiles of Student's t (0.975), df = 1..30.
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** The 97.5% quantile of Student's t with `df` degrees of freedom (1.96 for large df). */
export function t975(df: number): number {
  if (!(df >= 1)) return Number.POSITIVE_INFINITY;
  if (df <= 30) return T975[Math.floor(df) - 1]!;
  if (df <= 60) return 2.042 - ((df - 30) / 30) * (2.042 - 2.0);
  if (df <= 120) return 2.0 - ((df - 60) / 60) * (2.0 - 1.98);
  return 1.96;
}

/** `after` better than `before` by this much (positive = improvement in the study's direction). */
export function gain(before: number, after: number, direction: Direction): number {
  return direction === 'minimize' ? before - after : after - before;
}

/** A quantity with its standard error and 95% half-width (null when the noise is unknown). */
export interface Estimate {
  value: number;
  se: number | null;
  /** 95% half-width: t(df) * se. */
  half: number | null;
}

export function estimate(value: number, se: number | null, df: number | null): Estimate {
  return { value, se, half: se !== null && df !== null ? t975(df) * se : null };
}

/** True when the estimate is above zero beyond its 95% half-width. */
export function clearlyPositive(e: Estimate): boolean {
  return e.half !== null ? e.value > e.half : e.value > 0;
}

/**
 * A linear combination of variant means, sum(coef * mean), with its standard error under the
 * common sigma: sigma * sqrt(sum(coef^2 / runs)). Terms naming the same variant must be merged
 * by the caller (their coefficients added), so that shared terms count with their multiplicity.
 */
export function combination(
  terms: ReadonlyArray<{ coef: number; mean: number; runs: number }>,
  noise: { sigma: number; df: number } | null,
): Estimate {
  const value = terms.reduce((a, t) => a + t.coef * t.mean, 0);
  const se = noise ? noise.sigma * Math.sqrt(terms.reduce((a, t) => a + t.coef ** 2 / t.runs, 0)) : null;
  return estimate(value, se, noise?.df ?? null);
}

/**
 * Is the chain additive? The sum of the changes' individual gains (each measured alone on the
 * baseline) against the whole (best vs baseline). `n` changes each measured over `k` runs, the
 * baseline over `kb` runs and the best over `kf`: the difference D = sum(gain_i) - whole =
 * (n - 1) * base - sum(only_i) + best has variance sigma^2 ((n-1)^2/kb + n/k + 1/kf).
 * Additive when |D| is within its 95% half-width (or, without a noise estimate, when it is zero).
 */
export function additivity(
  parts: readonly number[],
  whole: number,
  runs: { base: number; part: number; best: number },
  noise: { sigma: number; df: number } | null,
): { sum: number; whole: number; difference: Estimate; additive: boolean | null } {
  const n = parts.length;
  const sum = parts.reduce((a, b) => a + b, 0);
  const d = sum - whole;
  const se = noise ? noise.sigma * Math.sqrt((n - 1) ** 2 / runs.base + n / runs.part + 1 / runs.best) : null;
  const difference = estimate(d, se, noise?.df ?? null);
  return { sum, whole, difference, additive: difference.half !== null ? Math.abs(d) <= difference.half : null };
}

/** What became of a gain at another scale (transfer). */
export type Transferred = 'grew' | 'held' | 'shrank' | 'vanished' | 'reversed';

/**
 * Compares a gain measured at the study's scale (`small`) with the same change's gain at the
 * larger scale (`large`): reversed when clearly negative, vanished when not clearly positive,
 * grew / shrank when it differs from the small-scale gain beyond both uncertainties, held otherwise.
 */
export function transferred(small: Estimate, large: Estimate): Transferred {
  if (large.half !== null ? large.value < -large.half : large.value < 0) return 'reversed';
  if (!clearlyPositive(large)) return 'vanished';
  const seDiff = large.se !== null ? Math.sqrt(large.se ** 2 + (small.se ?? 0) ** 2) : null;
  const tf = large.se && large.half ? large.half / large.se : 1.96; // the large scale's t: fewer runs
  const half = seDiff !== null ? tf * seDiff : 0;
  if (large.value - small.value > half) return 'grew';
  if (small.value - large.value > half) return 'shrank';
  return 'held';
}
