/**
 * The noise estimate that learns: the run-to-run standard deviation pooled over every commit
 * measured more than once during a study (the baseline's repeats, candidates' confirmation runs,
 * runs of a change before it was re-applied, re-measurements of a new best, ablation runs). Each
 * commit keeps its own mean; the pooled variance is the sum of squared deviations from those
 * means over the sum of (runs - 1), its degrees of freedom. With it: a 95% confidence interval on
 * sigma (chi-square), and the degrees of freedom the judge's t-quantiles use while runs are few.
 *
 * Defence: a commit whose runs on different seeds all gave the very same value ignores
 * AUTORESEARCH_SEED (a pinned seed); pooling it would shrink sigma for everyone, so it is left out
 * whenever the other commits do vary. Pure; never throws.
 */
import type { NoiseFloor } from '../ledger/types.js';
import { chiSquareQuantile } from './stats.js';

/** The runs of one commit (several groups of one commit are merged). */
export interface Measured {
  commit: string;
  runs: readonly number[];
}

export function poolNoise(baselineRuns: readonly number[], groups: readonly Measured[]): NoiseFloor | null {
  const byCommit = new Map<string, number[]>();
  for (const g of groups) byCommit.set(g.commit, [...(byCommit.get(g.commit) ?? []), ...g.runs]);
  const repeated = [...byCommit.values()].filter((r) => r.length > 1);
  if (repeated.length === 0) return null;
  const varies = repeated.filter((r) => r.some((x) => x !== r[0]));
  // every commit gave identical runs: a deterministic metric (sigma 0), not a pinned seed
  const used = varies.length > 0 ? varies : repeated;
  let ss = 0;
  let df = 0;
  let samples = 0;
  for (const r of used) {
    const m = r.reduce((s, x) => s + x, 0) / r.length;
    // identical runs add exactly 0 (their float mean may be off by an ulp)
    if (r.some((x) => x !== r[0])) ss += r.reduce((s, x) => s + (x - m) ** 2, 0);
    df += r.length - 1;
    samples += r.length;
  }
  const sigma = Math.sqrt(ss / df);
  const floor: NoiseFloor = { sigma, runs: [...baselineRuns], df, commits: used.length, samples };
  if (sigma > 0) {
    floor.low = sigma * Math.sqrt(df / chiSquareQuantile(0.975, df));
    floor.high = sigma * Math.sqrt(df / chiSquareQuantile(0.025, df));
  }
  return floor;
}

/** Degrees of freedom of a noise floor (old ledgers: the baseline's runs - 1). */
export function dfOf(noise: NoiseFloor): number {
  return noise.df ?? Math.max(0, noise.runs.length - 1);
}

/** "sigma 0.0031 (95% 0.0019-0.0062, 12 df from 5 commits)" */
export function describeNoise(noise: NoiseFloor, fmt: (x: number) => string): string {
  const df = dfOf(noise);
  const ci = noise.low !== undefined && noise.high !== undefined ? ` (95% ${fmt(noise.low)}-${fmt(noise.high)}` : ' (';
  const from =
    noise.commits !== undefined && noise.commits > 1
      ? `${df} df from ${noise.commits} commits, ${noise.samples} runs)`
      : `${df} df from ${noise.runs.length} baseline runs)`;
  return `sigma ${fmt(noise.sigma)}${ci}${ci === ' (' ? '' : ', '}${from}`;
}

/** Degrees of freedom the paired differences' own estimate needs before it replaces the fallback. */
export const PAIRED_MIN_DF = 3;

/**
 * Paired seeds: the standard deviation of paired differences cand(seed_i) - best(seed_i), pooled
 * over `diffs` (one group per comparison with two or more seeds, each around its own mean); while
 * that has fewer than PAIRED_MIN_DF degrees of freedom (and fewer than `runNoise`), sqrt(2) x the
 * runs' sigma with its df (the
 * difference of two independent runs: no credit for pairing before pairing has shown its worth).
 * Null without either.
 */
export function pairedDiffNoise(diffs: readonly (readonly number[])[], runNoise: NoiseFloor | null): NoiseFloor | null {
  const pooled = poolNoise(
    [],
    diffs.filter((d) => d.length >= 2).map((runs, i) => ({ commit: String(i), runs })),
  );
  const fallback: NoiseFloor | null =
    runNoise && runNoise.sigma > 0 ? { sigma: Math.SQRT2 * runNoise.sigma, runs: [], df: dfOf(runNoise) } : null;
  if (!pooled) return fallback;
  if (fallback && dfOf(pooled) < Math.min(dfOf(fallback), PAIRED_MIN_DF)) return fallback;
  return pooled;
}
