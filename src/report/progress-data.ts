/**
 * Pure data preparation for the progress chart: which experiments are plotted, where, and the
 * y range. No vega here, so this part is cheap to test and to reuse (e.g. by the dashboard).
 */
import type { Direction, Experiment } from '../ledger/types.js';

/** What a plotted marker stands for (also the legend entries, in this order). */
export type PointKind = 'kept' | 'discarded' | 'off-scale' | 'crash' | 'timeout' | 'rejected';
export const POINT_KINDS: readonly PointKind[] = ['kept', 'discarded', 'off-scale', 'crash', 'timeout', 'rejected'];

export interface PlotPoint {
  /** x: the experiment number (or, on the time axis, hours since the study started). */
  n: number;
  /** The experiment number (whatever the x axis). */
  number: number;
  /** Where the marker is drawn: the value, or the plot edge for off-scale and valueless runs. */
  y: number;
  /** The real objective value (null for crash / timeout / rejected). */
  value: number | null;
  kind: PointKind;
  baseline: boolean;
  description: string;
}

export interface StepPoint {
  n: number;
  y: number;
}

export interface ProgressData {
  /** Finished non-baseline experiments. */
  total: number;
  /** Keeps, baseline excluded. */
  kept: number;
  /** Every finished experiment, one marker each, ordered by number. */
  points: PlotPoint[];
  /** Running best through the keeps, extended to the last experiment (empty without a keep). */
  steps: StepPoint[];
  /** Labels for kept experiments (baseline labelled "baseline"). */
  labels: { n: number; y: number; text: string }[];
  /** y scale domain [lo, hi], lo < hi always. */
  domain: [number, number];
  /** Baseline value and best value (with its experiment number), when known. */
  baselineValue: number | null;
  best: { n: number; value: number } | null;
  /** Largest experiment number plotted (0 when none). */
  lastN: number;
}

/** Longest label before it is cut with an ellipsis. */
export const LABEL_MAX_CHARS = 40;

/** Cuts `s` to at most `max` characters (ellipsis included), on one line. */
export function truncateLabel(s: string, max = LABEL_MAX_CHARS): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length <= max ? one : `${one.slice(0, max - 1).trimEnd()}…`;
}

/** Linear-interpolated quantile of a sorted array (q in [0, 1]). */
function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const i = Math.floor(pos);
  const a = sorted[i]!;
  const b = sorted[Math.min(i + 1, sorted.length - 1)]!;
  return a + (b - a) * (pos - i);
}

const isOk = (e: Experiment): boolean =>
  (e.status === 'keep' || e.status === 'discard') && e.value !== null && Number.isFinite(e.value);

/**
 * y domain: zoomed on the interesting part, robust to diverged runs.
 * The core (baseline + kept values) is always inside; other ok values are inside when they lie
 * within Tukey's fences (1.5 IQR) or within half the core span of the core; the rest are clipped.
 * The range is padded by 8% (a flat range gets ±5% of |value|, or ±1 at 0).
 */
export function robustDomain(okValues: number[], coreValues: number[]): [number, number] {
  const vals = [...okValues].sort((a, b) => a - b);
  if (vals.length === 0) return [0, 1];
  const core = coreValues.length > 0 ? coreValues : [quantile(vals, 0.5)];
  const coreLo = core.reduce((a, b) => Math.min(a, b));
  const coreHi = core.reduce((a, b) => Math.max(a, b));
  const q1 = quantile(vals, 0.25);
  const q3 = quantile(vals, 0.75);
  const iqr = q3 - q1;
  const margin = 0.5 * Math.max(coreHi - coreLo, iqr);
  const allowLo = Math.min(coreLo - margin, q1 - 1.5 * iqr);
  const allowHi = Math.max(coreHi + margin, q3 + 1.5 * iqr);
  const inside = vals.filter((v) => v >= allowLo && v <= allowHi);
  let lo = Math.min(coreLo, inside[0] ?? coreLo);
  let hi = Math.max(coreHi, inside[inside.length - 1] ?? coreHi);
  if (!(hi > lo)) {
    const pad = Math.abs(lo) * 0.05 || 1;
    return [lo - pad, hi + pad];
  }
  const pad = (hi - lo) * 0.08;
  lo -= pad;
  hi += pad;
  return [lo, hi];
}

/** Builds everything the chart draws from the ledger's experiments (any order, any status). */
export function prepareProgress(experiments: Experiment[], direction: Direction): ProgressData {
  const done = experiments.filter((e) => e.status !== 'running').sort((a, b) => a.number - b.number);
  const better = (a: number, b: number): boolean => (direction === 'minimize' ? a < b : a > b);

  const ok = done.filter(isOk);
  const keeps = ok.filter((e) => e.status === 'keep');
  const domain = robustDomain(
    ok.map((e) => e.value!),
    keeps.map((e) => e.value!),
  );
  const [lo, hi] = domain;
  // Valueless runs sit on the "worse" edge: top when minimizing, bottom when maximizing.
  const worseEdge = direction === 'minimize' ? hi : lo;

  const points: PlotPoint[] = done.map((e) => {
    const base = { n: e.number, number: e.number, baseline: e.baseline, description: e.description };
    if (isOk(e)) {
      const v = e.value!;
      if (v > hi || v < lo) {
        return { ...base, y: v > hi ? hi : lo, value: v, kind: 'off-scale' as const };
      }
      const kind = e.status === 'keep' ? ('kept' as const) : ('discarded' as const);
      return { ...base, y: v, value: v, kind };
    }
    // keep/discard without a finite value cannot happen from the loop; show it as a crash.
    const kind =
      e.status === 'timeout' ? 'timeout' : e.status === 'rejected' || e.status === 'conflict' ? 'rejected' : 'crash';
    return { ...base, y: worseEdge, value: null, kind };
  });

  const steps: StepPoint[] = [];
  const labels: ProgressData['labels'] = [];
  let best: { n: number; value: number } | null = null;
  for (const e of keeps) {
    const v = e.value!;
    if (best === null || better(v, best.value)) best = { n: e.number, value: v };
    steps.push({ n: e.number, y: best.value });
    const text = e.baseline ? 'baseline' : truncateLabel(e.description || `#${e.number}`);
    labels.push({ n: e.number, y: v, text });
  }
  const lastN = done.length > 0 ? done[done.length - 1]!.number : 0;
  const lastStep = steps[steps.length - 1];
  if (lastStep && lastStep.n < lastN) steps.push({ n: lastN, y: lastStep.y });

  const baselineExp = done.find((e) => e.baseline && isOk(e));
  return {
    total: done.filter((e) => !e.baseline).length,
    kept: done.filter((e) => !e.baseline && e.status === 'keep').length,
    points,
    steps,
    labels,
    domain,
    baselineValue: baselineExp ? baselineExp.value : null,
    best,
    lastN,
  };
}
