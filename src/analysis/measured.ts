/**
 * Shared pieces of the analyses: the seeds of a plan (drawn by the harness, kept in the plan
 * record so a resumed analysis uses the same ones), the runs of each variant gathered into
 * values, and gains between variants with their uncertainty on either split.
 */
import { randomInt } from 'node:crypto';
import type { Direction, Ledger } from '../ledger/types.js';
import type { AnalysisKind } from '../loop/events.js';
import type { RunRecord } from './session.js';
import { combination, type Estimate, mean, pooledSigma, sd } from './stats.js';

/**
 * The plan's seeds, `k` of them: those already recorded under `<prefix>plan`, more drawn when
 * `k` grew. Fresh random seeds: never the ones the study ran with (seed + run index), never
 * shown to a proposer.
 */
export async function planSeeds(
  ledger: Ledger,
  studyId: number,
  kind: AnalysisKind,
  prefix: string,
  k: number,
  extra: Record<string, unknown> = {},
): Promise<number[]> {
  const key = `${prefix}plan`;
  const prev = (await ledger.getRecord(studyId, kind, key))?.value as { seeds?: number[] } | undefined;
  const seeds = [...(prev?.seeds ?? [])];
  while (seeds.length < k) seeds.push(randomInt(1_000_000, 2 ** 31 - 1));
  await ledger.putRecord(studyId, kind, key, { ...extra, seeds, updatedAt: Date.now() });
  return seeds.slice(0, k);
}

/** The runs of one variant on both splits. */
export interface VariantRuns {
  variant: string;
  values: number[];
  heldout: number[];
  /** Runs without a value (crash, timeout, tampered), with their reasons. */
  failed: string[];
}

export function gather(variants: readonly string[], records: readonly RunRecord[]): Map<string, VariantRuns> {
  const out = new Map<string, VariantRuns>();
  for (const v of variants) out.set(v, { variant: v, values: [], heldout: [], failed: [] });
  for (const r of records) {
    const g = out.get(r.variant);
    if (!g) continue;
    if (typeof r.value === 'number') g.values.push(r.value);
    else g.failed.push(`${r.outcome ?? 'not run'}: ${r.reason ?? ''}`.trim());
    if (typeof r.heldout === 'number') g.heldout.push(r.heldout);
  }
  return out;
}

export type Split = 'values' | 'heldout';

/** The pooled run-to-run sigma over every variant's runs on one split. */
export function noiseOf(runs: Map<string, VariantRuns>, split: Split): { sigma: number; df: number } | null {
  return pooledSigma([...runs.values()].map((g) => g[split]));
}

/**
 * The gain of `after` over `before` (positive = better in `direction`), with its uncertainty;
 * null when either has no value on that split.
 */
export function gainBetween(
  runs: Map<string, VariantRuns>,
  before: string,
  after: string,
  direction: Direction,
  split: Split,
  noise: { sigma: number; df: number } | null,
): Estimate | null {
  return linearGain(runs, [[before, 1]], [[after, 1]], direction, split, noise);
}

/**
 * sum(w * before) - sum(w * after), signed so that positive = better: the general form behind
 * every gain and the in-context additivity. Terms naming one variant twice are merged.
 */
export function linearGain(
  runs: Map<string, VariantRuns>,
  befores: ReadonlyArray<[string, number]>,
  afters: ReadonlyArray<[string, number]>,
  direction: Direction,
  split: Split,
  noise: { sigma: number; df: number } | null,
): Estimate | null {
  const s = direction === 'minimize' ? 1 : -1;
  const coefs = new Map<string, number>();
  for (const [v, w] of befores) coefs.set(v, (coefs.get(v) ?? 0) + s * w);
  for (const [v, w] of afters) coefs.set(v, (coefs.get(v) ?? 0) - s * w);
  const terms: Array<{ coef: number; mean: number; runs: number }> = [];
  for (const [v, coef] of coefs) {
    if (coef === 0) continue;
    const xs = runs.get(v)?.[split] ?? [];
    const m = mean(xs);
    if (m === null) return null;
    terms.push({ coef, mean: m, runs: xs.length });
  }
  return combination(terms, noise);
}

/** Mean, spread and count of a variant on one split (for the tables). */
export function describe(
  g: VariantRuns | undefined,
  split: Split,
): { mean: number | null; sd: number | null; n: number } {
  const xs = g?.[split] ?? [];
  return { mean: mean(xs), sd: sd(xs), n: xs.length };
}

/** `+0.012300 ± 0.002100` (± the 95% half-width when known). */
export function fmtGain(e: Estimate | null, digits = 6): string {
  if (!e) return '-';
  const v = `${e.value >= 0 ? '+' : ''}${e.value.toFixed(digits)}`;
  return e.half !== null ? `${v} ± ${e.half.toFixed(digits)}` : v;
}
