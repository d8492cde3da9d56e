/**
 * Alternative axes for the progress chart: time on x (hours since the study's first experiment
 * started, each experiment placed where it finished) and a log-scale y domain.
 */
import type { Direction, Experiment } from '../ledger/types.js';
import type { ProgressData, StepPoint } from './progress-data.js';

/** Hours from the first experiment's start to each finished experiment's end, by number. */
export function hoursByNumber(experiments: readonly Experiment[]): Map<number, number> {
  const t0 = Math.min(...experiments.map((e) => e.startedAt));
  const out = new Map<number, number>();
  for (const e of experiments) if (e.endedAt !== null) out.set(e.number, Math.max(0, (e.endedAt - t0) / 3_600_000));
  return out;
}

/**
 * The same chart data placed on a time axis. The running best is recomputed in finishing order
 * (with several slots, a later number can finish first).
 */
export function onTimeAxis(
  d: ProgressData,
  experiments: readonly Experiment[],
  direction: Direction,
  unit: TimeUnit = 'hours',
): ProgressData {
  const hours = hoursByNumber(experiments);
  const k = unit === 'minutes' ? 60 : 1;
  const at = (n: number): number => (hours.get(n) ?? 0) * k;
  const points = d.points.map((p) => ({ ...p, n: at(p.number) }));
  const kept = points.filter((p) => p.kind === 'kept' && p.value !== null).sort((a, b) => a.n - b.n);
  const better = (a: number, b: number): boolean => (direction === 'minimize' ? a < b : a > b);
  const steps: StepPoint[] = [];
  let best: number | null = null;
  for (const p of kept) {
    if (best === null || better(p.value!, best)) best = p.value!;
    steps.push({ n: p.n, y: best });
  }
  const lastX = points.reduce((m, p) => Math.max(m, p.n), 0);
  const last = steps[steps.length - 1];
  if (last && last.n < lastX) steps.push({ n: lastX, y: last.y });
  return {
    ...d,
    points,
    steps,
    labels: d.labels.map((l) => ({ ...l, n: at(l.n) })),
    lastN: lastX,
  };
}

export type TimeUnit = 'hours' | 'minutes';

/** Minutes for a study shorter than 2 hours, else hours. */
export function timeUnit(experiments: readonly Experiment[]): TimeUnit {
  const h = Math.max(0, ...hoursByNumber(experiments).values());
  return h < 2 ? 'minutes' : 'hours';
}

/** Why a log-scale y can't show these experiments (a value <= 0), or null when it can. */
export function logScaleProblem(experiments: readonly Experiment[]): string | null {
  const bad = experiments.find((e) => e.value !== null && Number.isFinite(e.value) && e.value <= 0);
  return bad ? `a log scale needs values > 0, but experiment #${bad.number} has ${bad.value}` : null;
}

/** The y domain for a log scale: the same range, its lower end kept above 0. */
export function logDomain(d: ProgressData): [number, number] {
  const values = d.points.map((p) => p.value).filter((v): v is number => v !== null && v > 0);
  const [lo, hi] = d.domain;
  if (values.length === 0) return lo > 0 ? [lo, hi] : [1, 10];
  const min = Math.min(...values);
  const top = Math.max(hi, min * 1.01);
  return [lo > 0 ? Math.min(lo, min) : min / 1.05, top];
}
