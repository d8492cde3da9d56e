/**
 * Early stopping in the loop ([early_stop]): every study run's training curve (its progress
 * lines, ../runner/progress.ts) is kept in the ledger (a few sampled points, record kind
 * 'curve'); a candidate's first run is watched against the curves of the commit it is built on
 * (the best) and stopped when it is clearly worse (../judge/curves.ts). The experiment is then a
 * `discard`, reason "stopped early (...)"; an `early-stop` event says so.
 *
 * Contract:
 * - Progress lines only ever stop a run; the keep decision reads the objective alone. A run that
 *   prints none is never stopped. A run that lies about its curve can only lose itself the saving
 *   (fake low losses) or get itself stopped (fake high ones).
 * - Only runs that finished ok store a curve, so a stopped run never becomes a reference. Analysis
 *   and verification runs (those with their own `record`) store nothing.
 * - `RunWatch` never throws from `onOutput` (it is called by the runner with output chunks).
 */
import {
  type CurvePoints,
  type CurveReference,
  CurveMonitor,
  type EarlyStopRule,
  samplePoints,
  stopReason,
  withSteps,
  type WorseComparison,
} from '../judge/curves.js';
import type { Ledger, StudyRecord } from '../ledger/types.js';
import { ProgressParser, type ProgressPoint } from '../runner/progress.js';
import type { Config } from '../config/load.js';
import type { EmitEvent } from './events.js';

/** Ledger record kind of a run's curve; key `<number>.r<run>.a<attempt>`. */
export const CURVE_KIND = 'curve';
/** Points stored per curve. */
export const CURVE_POINTS = 48;
/** Points held in memory while a run goes (thinned by half past it). */
const MAX_LIVE_POINTS = 4096;

export interface StoredCurveRecord {
  commit: string;
  points: CurvePoints;
}

/** The rule of the config's [early_stop]. */
export function earlyStopRule(config: Pick<Config, 'early_stop'>): EarlyStopRule {
  const e = config.early_stop;
  return {
    k: e.k,
    minFraction: e.min_fraction,
    minReferenceRuns: e.min_reference_runs,
    patience: e.patience,
    minRelGap: e.min_rel_gap,
    checkSteps: e.check_steps,
  };
}

/**
 * The curves to watch a candidate built on `commit` against: that commit's stored curves, and
 * every commit's that has two or more (for the spread). Null when early stopping is off or the
 * commit has fewer curves than [early_stop] min_reference_runs (nothing would be stopped).
 */
export async function referenceFor(
  ctx: { config: Pick<Config, 'early_stop'>; ledger: Pick<Ledger, 'listRecords'> },
  studyId: number,
  commit: string,
): Promise<CurveReference | null> {
  if (!ctx.config.early_stop.enabled) return null;
  const byCommit = new Map<string, CurvePoints[]>();
  for (const r of await ctx.ledger.listRecords(studyId, CURVE_KIND)) {
    const c = asCurve(r);
    if (!c) continue;
    const list = byCommit.get(c.commit) ?? [];
    list.push(c.points);
    byCommit.set(c.commit, list);
  }
  const curves = byCommit.get(commit) ?? [];
  if (curves.length < ctx.config.early_stop.min_reference_runs) return null;
  return withSteps({ curves, groups: [...byCommit.values()].filter((g) => g.length >= 2) });
}

/** A stored record read back defensively (records are JSON; a bad one is skipped, not fatal). */
function asCurve(r: StudyRecord): StoredCurveRecord | null {
  const v = r.value as Partial<StoredCurveRecord> | null;
  if (!v || typeof v.commit !== 'string' || !Array.isArray(v.points)) return null;
  const points = v.points.filter(
    (p): p is [number, number, number?] =>
      Array.isArray(p) &&
      (p.length === 2 || p.length === 3) &&
      p.every((x: unknown) => typeof x === 'number' && Number.isFinite(x)),
  );
  return points.length >= 2 ? { commit: v.commit, points } : null;
}

/** Where one run's early-stop decision goes (the event's identity fields). */
export interface WatchTarget {
  number: number;
  slot: number;
  run: number;
}

/**
 * Follows one training step's output: collects its curve and, with a reference, decides a stop.
 * `signal` aborts when the run is to be stopped (never with dry_run).
 */
export class RunWatch {
  private readonly parser = new ProgressParser();
  private readonly controller = new AbortController();
  private readonly monitor: CurveMonitor | null;
  private live: ProgressPoint[] = [];
  private decided = false;
  /** The comparison that stopped the run (null: not stopped, or dry_run). */
  stopped: WorseComparison | null = null;

  constructor(
    reference: CurveReference | null,
    private readonly config: Pick<Config, 'early_stop'>,
    private readonly emit: EmitEvent,
    private readonly target: WatchTarget,
  ) {
    this.monitor = reference ? new CurveMonitor(reference, earlyStopRule(config)) : null;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  onOutput(chunk: string): void {
    try {
      for (const p of this.parser.push(chunk)) this.observe(p);
    } catch {
      // the runner's onOutput must not throw; a bad line is one point fewer
    }
  }

  /** The curve so far, sampled for storage. */
  curve(): CurvePoints {
    for (const p of this.parser.end()) this.observe(p);
    return samplePoints(this.live, CURVE_POINTS);
  }

  private observe(p: ProgressPoint): void {
    this.live.push(p);
    if (this.live.length > MAX_LIVE_POINTS) this.live = this.live.filter((_, i) => i % 2 === 0);
    if (!this.monitor || this.decided) return;
    const worse = this.monitor.observe(p);
    if (!worse) return;
    this.decided = true;
    const dryRun = this.config.early_stop.dry_run;
    const reason = stopReason(worse);
    this.emit({
      type: 'early-stop',
      t: Date.now(),
      ...this.target,
      dryRun,
      elapsed: worse.elapsed,
      loss: worse.loss,
      mean: worse.mean,
      spread: worse.spread,
      threshold: worse.threshold,
      reason: dryRun ? `${reason}; dry run: not stopped` : reason,
    });
    if (dryRun) return;
    this.stopped = worse;
    this.controller.abort();
  }
}

/** Stores a finished run's curve (only when it printed at least two progress points). */
export async function storeCurve(
  ledger: Pick<Ledger, 'putRecord'>,
  studyId: number,
  key: string,
  commit: string,
  points: CurvePoints,
): Promise<void> {
  if (points.length < 2) return;
  const value: StoredCurveRecord = { commit, points };
  await ledger.putRecord(studyId, CURVE_KIND, key, value);
}
