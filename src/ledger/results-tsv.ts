/**
 * Export to the original autoresearch `results.tsv` (byte-compatible with its notebooks).
 */
import type { Experiment } from './types.js';

export interface ResultsTsvOptions {
  /** Objective metric name: the second column's header (e.g. "val_bpb"). */
  metric: string;
  /** Metric holding peak memory. Default "peak_vram_mb". */
  memoryMetric?: string;
  /** Factor from the memory metric to GB. Default 1/1024 (MB -> GB, as the original). */
  memoryScale?: number;
}

/**
 * Commit shown for an experiment that has no commit of its own and is not a baseline — in
 * practice a `rejected` change, which is recorded but never committed or run. Showing the parent's
 * hash would claim that code produced this row; an empty or dashed cell would break readers that
 * expect 7 hex digits. Git's own convention for "no object" is the all-zero id (reflogs, hook
 * arguments), so the row keeps a valid-looking hash that can never name a real commit.
 */
export const NO_COMMIT = '0000000';

/** Statuses whose rows carry a value and memory; the others print 0.000000 and 0.0, as the original's crashes. */
const MEASURED = new Set(['keep', 'discard']);

/**
 * Formats finished experiments as results.tsv: header `commit\t<metric>\tmemory_gb\tstatus\t
 * description`, then one row per finished experiment (status `running` skipped) in decision order
 * (`endedAt`, ties and rows without one by number), each line ending in "\n". With several slots
 * experiments are decided out of number order; the original's notebook reads the running best
 * and each keep's gain from row order, so rows follow decisions (kept rows improve row by row)
 * and the ledger keeps the numbers.
 * - commit: first 7 chars of the experiment's commit; a baseline without one shows its parent
 *   (the code it ran); anything else without one shows NO_COMMIT.
 * - value: 6 decimals; memory: metrics[memoryMetric] * memoryScale, 1 decimal, 0.0 when missing;
 *   crash / timeout / rejected rows (and a keep/discard without a finite value) show 0.000000,
 *   and those three statuses show memory 0.0.
 * - description: tabs, CR and LF become spaces (a CRLF pair becomes one space).
 * Pure; does not mutate or reorder its input.
 */
export function formatResultsTsv(experiments: readonly Experiment[], opts: ResultsTsvOptions): string {
  const memoryMetric = opts.memoryMetric ?? 'peak_vram_mb';
  const memoryScale = opts.memoryScale ?? 1 / 1024;
  const lines = [`commit\t${oneLine(opts.metric)}\tmemory_gb\tstatus\tdescription\n`];
  const finished = experiments.filter((e) => e.status !== 'running').sort(byDecision);
  for (const e of finished) {
    const measured = MEASURED.has(e.status);
    const value = measured ? fixed(e.value, 6) : fixed(null, 6);
    const mem = e.metrics[memoryMetric];
    const memory = measured && typeof mem === 'number' ? fixed(mem * memoryScale, 1) : fixed(null, 1);
    lines.push(`${shortCommit(e)}\t${value}\t${memory}\t${e.status}\t${oneLine(e.description)}\n`);
  }
  return lines.join('');
}

/** Decision order: when each was decided (endedAt), then number; baselines first among ties. */
export function byDecision(a: Experiment, b: Experiment): number {
  const ta = a.endedAt ?? Number.POSITIVE_INFINITY;
  const tb = b.endedAt ?? Number.POSITIVE_INFINITY;
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.number - b.number;
}

function shortCommit(e: Experiment): string {
  const full = e.commit ?? (e.baseline ? e.parentCommit : null);
  return full ? full.slice(0, 7) : NO_COMMIT;
}

/**
 * Python's `f"{v:.{digits}f}"` for finite numbers (0 for null / NaN / ±Infinity), never "-0.0".
 * JS toFixed and Python agree except on exact binary ties (1.25, 0.0078125): JS rounds those
 * away from zero, Python to even; the original's files come from Python, so ties go to even.
 */
function fixed(v: number | null | undefined, digits: number): string {
  const n = typeof v === 'number' && Number.isFinite(v) ? v : 0;
  let s = n.toFixed(digits);
  // A tie has at most digits+1 binary fraction bits, so its toFixed(digits + 1) is exact.
  const longer = n.toFixed(digits + 1);
  if (Number.isInteger(n * 2 ** (digits + 1)) && longer.endsWith('5')) {
    const truncated = longer.slice(0, digits === 0 ? -2 : -1);
    if (Number(truncated.at(-1)) % 2 === 0) s = truncated;
  }
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
}

function oneLine(s: string): string {
  return s.replace(/\r\n|[\t\r\n]/g, ' ');
}
