/**
 * Early stopping by training curves: is a running candidate's curve clearly worse than the best
 * commit's curves at the same elapsed training time, by more than curves of one commit differ?
 *
 * - Reference: the curves of the commit the candidate is built on (the best), from its repeated
 *   runs (baseline noise runs, confirmations, re-measurements). At time t its mean is m(t).
 * - Noise: at each t, the spread of the loss between runs of one commit, pooled over every commit
 *   of the study measured at least twice (the best included): s(t), with its degrees of freedom.
 * - Stop when, for `patience` progress points in a row past `minFraction` of the reference's
 *   length, the candidate's loss L(t) > m(t) + max(k * s(t) * sqrt(1 + 1/n), minRelGap * |m(t)|)
 *   (n: the reference curves at t; the sqrt counts the error of the reference mean).
 * - Never without `minReferenceRuns` reference curves covering t, nor with no measured spread,
 *   nor outside the reference's span (a script printing no progress lines is never stopped).
 * - With `checkSteps`, when the lines carry `step=`: a point clearly worse at the same time but
 *   within the band at the same step is not worse (the machine was slower, not the change).
 *
 * Contract: pure and synchronous (the `CurveMonitor` keeps only its own streak); never throws.
 * Only ever used to stop a run; a keep never depends on a curve (it is written by the edited code).
 */

/** A stored curve: [elapsed seconds, loss, step when printed] points, elapsed increasing. */
export type CurvePoints = Array<[number, number, number?]>;

export interface CurveReference {
  /** The curves of the reference commit (the best). */
  curves: CurvePoints[];
  /** Curves grouped by commit, for every commit with at least two (the reference's included). */
  groups: CurvePoints[][];
  /** The same curves over steps instead of seconds (from the points that carry a step). */
  bySteps?: CurveReference;
}

export interface EarlyStopRule {
  /** Spreads above the reference mean a loss must be to count as clearly worse. */
  k: number;
  /** Compare only past this fraction of the reference's length (0..1). */
  minFraction: number;
  /** Fewest reference curves (covering t) to compare at all (>= 2). */
  minReferenceRuns: number;
  /** Consecutive progress points that must be clearly worse. */
  patience: number;
  /** The gap must also exceed this fraction of the reference loss (a floor when curves barely differ). */
  minRelGap: number;
  /**
   * When both curves carry steps: stop only when the loss is not also within the band at the
   * same step (a run slowed by a busy machine makes fewer steps in the same time, each as good).
   */
  checkSteps: boolean;
}

/** A comparable point: the candidate's loss, the reference mean and spread there, the limit, n curves. */
interface Compared {
  elapsed: number;
  loss: number;
  mean: number;
  spread: number;
  threshold: number;
  n: number;
}
export type WorseComparison = Compared & { kind: 'worse' };
export type CurveComparison = { kind: 'not-comparable'; why: string } | (Compared & { kind: 'ok' }) | WorseComparison;

/** At most `max` points of a curve, spread evenly over its points, the first and last always kept. */
export function samplePoints(
  points: ReadonlyArray<{ elapsed: number; loss: number; step?: number }>,
  max: number,
): CurvePoints {
  const sorted = points.filter((p) => Number.isFinite(p.elapsed) && Number.isFinite(p.loss));
  const pick =
    sorted.length <= max
      ? sorted
      : Array.from({ length: max }, (_, i) => sorted[Math.round((i * (sorted.length - 1)) / (max - 1))]!);
  return pick.map((p) => (p.step !== undefined ? [p.elapsed, p.loss, p.step] : [p.elapsed, p.loss]));
}

/** A curve over steps: [step, loss] of the points that carry a step, steps increasing. */
export function overSteps(points: CurvePoints): CurvePoints {
  const out: CurvePoints = [];
  for (const [, loss, step] of points)
    if (step !== undefined && (out.length === 0 || step > out[out.length - 1]![0])) out.push([step, loss]);
  return out;
}

/** The reference with its step-axis twin (when at least its curves carry steps). */
export function withSteps(ref: CurveReference): CurveReference {
  const curves = ref.curves.map(overSteps).filter((c) => c.length >= 2);
  const groups = ref.groups.map((g) => g.map(overSteps).filter((c) => c.length >= 2)).filter((g) => g.length >= 2);
  return curves.length ? { ...ref, bySteps: { curves, groups } } : ref;
}

/** The loss at `t` by linear interpolation; undefined outside the curve's span. */
export function lossAt(points: CurvePoints, t: number): number | undefined {
  if (points.length === 0) return undefined;
  const first = points[0]!;
  const last = points[points.length - 1]!;
  if (t < first[0] || t > last[0]) return undefined;
  for (let i = 1; i < points.length; i++) {
    const [t1, l1] = points[i]!;
    if (t1 < t) continue;
    const [t0, l0] = points[i - 1]!;
    return t1 === t0 ? l1 : l0 + ((l1 - l0) * (t - t0)) / (t1 - t0);
  }
  return last[1];
}

/** Where the reference ends: the shortest reference curve's last elapsed time (0 without curves). */
export function referenceEnd(ref: CurveReference): number {
  if (ref.curves.length === 0) return 0;
  return Math.min(...ref.curves.map((c) => (c.length ? c[c.length - 1]![0] : 0)));
}

/** The between-run spread at `t`, pooled over commits measured at least twice; df 0 when none. */
export function pooledSpread(groups: CurvePoints[][], t: number): { spread: number; df: number } {
  let ss = 0;
  let df = 0;
  for (const group of groups) {
    const values = group.map((c) => lossAt(c, t)).filter((v): v is number => v !== undefined);
    if (values.length < 2) continue;
    const m = values.reduce((s, v) => s + v, 0) / values.length;
    ss += values.reduce((s, v) => s + (v - m) ** 2, 0);
    df += values.length - 1;
  }
  return { spread: df > 0 ? Math.sqrt(ss / df) : 0, df };
}

/** Compares one candidate point with the reference (see the rule at the top of this file). */
export function compareAt(
  ref: CurveReference,
  rule: EarlyStopRule,
  point: { elapsed: number; loss: number },
): CurveComparison {
  const end = referenceEnd(ref);
  const t = point.elapsed;
  if (ref.curves.length < Math.max(2, rule.minReferenceRuns))
    return { kind: 'not-comparable', why: `${ref.curves.length} reference curve(s)` };
  if (!(t >= rule.minFraction * end) || t > end)
    return { kind: 'not-comparable', why: `t=${t}s outside ${rule.minFraction * end}..${end}s` };
  const values = ref.curves.map((c) => lossAt(c, t)).filter((v): v is number => v !== undefined);
  if (values.length < Math.max(2, rule.minReferenceRuns))
    return { kind: 'not-comparable', why: `${values.length} reference curve(s) at t=${t}s` };
  const { spread } = pooledSpread(ref.groups, t);
  if (!(spread > 0)) return { kind: 'not-comparable', why: 'no measured spread' };
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const threshold = mean + Math.max(rule.k * spread * Math.sqrt(1 + 1 / n), rule.minRelGap * Math.abs(mean));
  const compared: Compared = { elapsed: t, loss: point.loss, mean, spread, threshold, n };
  return point.loss > threshold ? { kind: 'worse', ...compared } : { kind: 'ok', ...compared };
}

/**
 * Follows one candidate run point by point; `observe` returns the comparison that decides a stop
 * once `patience` comparable points in a row were clearly worse (points that are not comparable
 * neither count nor break the streak; a point that is not worse resets it).
 */
export class CurveMonitor {
  private streak = 0;

  constructor(
    private readonly ref: CurveReference,
    private readonly rule: EarlyStopRule,
  ) {}

  observe(point: { elapsed: number; loss: number; step?: number }): WorseComparison | null {
    const c = compareAt(this.ref, this.rule, point);
    if (c.kind === 'not-comparable') return null;
    const steps = this.ref.bySteps;
    const atStep =
      c.kind === 'worse' && this.rule.checkSteps && steps && point.step !== undefined
        ? // past minFraction of the time already: any step the reference reached compares
          compareAt(steps, { ...this.rule, minFraction: 0 }, { elapsed: point.step, loss: point.loss })
        : null;
    if (c.kind === 'ok' || atStep?.kind === 'ok') {
      this.streak = 0;
      return null;
    }
    this.streak += 1;
    return this.streak >= Math.max(1, this.rule.patience) ? c : null;
  }
}

/** "stopped early (loss 3.91 at t=8.0s vs best 3.80 ± 0.02)": the reason recorded for a stop. */
export function stopReason(c: WorseComparison): string {
  return `stopped early (loss ${fmt(c.loss)} at t=${c.elapsed.toFixed(1)}s vs best ${fmt(c.mean)} ± ${fmt(c.spread)}, limit ${fmt(c.threshold)})`;
}

function fmt(x: number): string {
  return Math.abs(x) >= 1e-3 || x === 0 ? x.toFixed(4) : x.toExponential(2);
}
