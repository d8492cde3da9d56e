/**
 * The study report's content, as data: settings, headline numbers, the kept chain with each
 * change's gain and evidence, failure and discard counts by kind, cost, and the study records
 * (ablation, transfer, ...) as generic tables. Rendered by report-html.ts and report-md.ts.
 * Pure: built from what the ledger returns.
 */
import type { Experiment, FinalStatus, Study, StudyRecord } from '../ledger/types.js';

export interface KeptStep {
  number: number;
  commit: string | null;
  value: number;
  /** value minus the previous best (negative = lower). */
  gain: number | null;
  runs: number[];
  mean: number | null;
  threshold: number | null;
  description: string;
  /**
   * The loop's periodic held-out check of this kept change, when it had one ([heldout] every):
   * validation and held-out values of one run, gap = held-out - validation.
   */
  heldout?: { validation: number; heldout: number; gap: number };
}

export interface RecordTable {
  kind: string;
  columns: string[];
  rows: string[][];
}

export interface ReportModel {
  tag: string;
  branch: string;
  metric: string;
  direction: 'minimize' | 'maximize';
  createdAt: number;
  settings: Array<[string, string]>;
  baseline: number | null;
  best: { number: number; value: number; commit: string | null } | null;
  /** (best - baseline) / |baseline| in percent. */
  improvementPct: number | null;
  finished: number;
  counts: Record<FinalStatus, number>;
  /** Non-keep outcomes grouped by status and kind of reason, most frequent first. */
  byKind: Array<{ status: FinalStatus; kind: string; count: number }>;
  kept: KeptStep[];
  /** The baseline's held-out check (the reference gap), when there is one. */
  heldoutBase: { validation: number; heldout: number; gap: number } | null;
  cost: { usd: number; inputTokens: number; outputTokens: number; runHours: number };
  records: RecordTable[];
}

/** Record kinds the report shows when present (others are listed after them). */
export const REPORT_RECORD_KINDS = ['ablation', 'transfer'] as const;

/** The loop's periodic held-out checks: shown in the kept table, not as a table of their own. */
export const HELDOUT_CHECK_KIND = 'heldout-check';

// Rejections first (their reasons quote lines that may mention metrics or exit codes).
const RULES: Array<[RegExp, string]> = [
  [/screened out: rule \((\w)\)/i, 'screened out, rule ($1)'],
  [/outside \[files\]\.editable/i, 'touched a protected/non-editable file'],
  [/modified protected/i, 'modified a protected file at run time'],
  [/no change|empty|changed nothing/i, 'no change'],
  [/duplicate/i, 'duplicate'],
  [/re-appl|conflict/i, 'could not be re-applied'],
  [/out of memory|OOM killer/i, 'out of memory'],
  [/stalled/i, 'stalled'],
  [/hard timeout/i, 'hard timeout'],
  [/killed by signal/i, 'signal'],
  [/not found/i, 'command not found'],
  [/exit code (\d+)/i, 'exit code $1'],
  [/metric|NaN|non-finite/i, 'no valid metric'],
  [/noise|threshold|within/i, 'within the noise'],
  [/min_delta/i, 'below min_delta'],
  [/worse|not better|no better/i, 'not better'],
];

/** A short kind for a reason (e.g. "exit code 1", "out of memory"), for counting. */
export function reasonKind(reason: string): string {
  for (const [re, name] of RULES) {
    const m = re.exec(reason);
    if (m) return name.replace('$1', m[1] ?? '');
  }
  const words = reason.trim().split(/\s+/).slice(0, 4).join(' ');
  return words || '(no reason)';
}

const cell = (v: unknown): string =>
  v === null || v === undefined
    ? ''
    : typeof v === 'number'
      ? String(Number(v.toPrecision(8)))
      : typeof v === 'string'
        ? v
        : JSON.stringify(v);

/** One table per record kind: a column per top-level field (union over the records), key first. */
export function recordTable(kind: string, records: StudyRecord[]): RecordTable {
  const columns: string[] = [];
  for (const r of records)
    if (r.value && typeof r.value === 'object' && !Array.isArray(r.value))
      for (const k of Object.keys(r.value)) if (!columns.includes(k)) columns.push(k);
  const plain = columns.length === 0;
  return {
    kind,
    columns: ['key', ...(plain ? ['value'] : columns)],
    rows: records.map((r) => [
      r.key,
      ...(plain ? [cell(r.value)] : columns.map((c) => cell((r.value as Record<string, unknown>)?.[c]))),
    ]),
  };
}

function pick(config: unknown, path: string): unknown {
  let v: unknown = config;
  for (const k of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

const SETTINGS: Array<[string, string]> = [
  ['run.command', 'command'],
  ['run.time_budget_s', 'training budget (s)'],
  ['run.timeout_s', 'hard timeout (s)'],
  ['run.evaluate', 'evaluate'],
  ['files.editable', 'editable files'],
  ['files.protected', 'protected files'],
  ['proposer.kind', 'proposer'],
  ['proposer.model', 'model'],
  ['judge.kind', 'judge'],
  ['judge.min_delta', 'min delta'],
  ['slots.count', 'slots'],
];

export function buildReportModel(
  study: Study,
  experiments: Experiment[],
  records: Record<string, StudyRecord[]>,
): ReportModel {
  const all = [...experiments].sort((a, b) => a.number - b.number);
  const done = all.filter((e) => e.status !== 'running');
  const counts: Record<FinalStatus, number> = { keep: 0, discard: 0, crash: 0, timeout: 0, rejected: 0, conflict: 0 };
  const kinds = new Map<string, { status: FinalStatus; kind: string; count: number }>();
  for (const e of done) {
    if (e.baseline) continue;
    const st = e.status as FinalStatus;
    counts[st]++;
    if (st === 'keep') continue;
    const kind = reasonKind(e.reason);
    const k = `${st}\0${kind}`;
    const row = kinds.get(k) ?? { status: st, kind, count: 0 };
    row.count++;
    kinds.set(k, row);
  }
  const better = (a: number, b: number) => (study.direction === 'minimize' ? a < b : a > b);
  const base = done.find((e) => e.baseline && e.status === 'keep' && e.value !== null);
  let best: number | null = base?.value ?? null;
  const checks = new Map<number, { validation: number; heldout: number; gap: number }>();
  for (const r of records[HELDOUT_CHECK_KIND] ?? []) {
    const v = r.value as { number?: number; validation?: number | null; heldout?: number | null; gap?: number | null };
    if (typeof v.number === 'number' && typeof v.validation === 'number' && typeof v.heldout === 'number')
      checks.set(v.number, { validation: v.validation, heldout: v.heldout, gap: v.heldout - v.validation });
  }
  const kept: KeptStep[] = [];
  for (const e of done) {
    if (e.baseline || e.status !== 'keep' || e.value === null) continue;
    const gain = best !== null ? e.value - best : null;
    if (best === null || better(e.value, best)) best = e.value;
    kept.push({
      number: e.number,
      commit: e.commit,
      value: e.value,
      gain,
      runs: e.evidence?.runs ?? [e.value],
      mean: e.evidence?.mean ?? null,
      threshold: e.evidence?.threshold ?? null,
      description: e.description,
      ...(checks.has(e.number) ? { heldout: checks.get(e.number)! } : {}),
    });
  }
  const settings: Array<[string, string]> = [
    ['objective', `${study.metric} (${study.direction})`],
    ['branch', study.branch],
    ['started from', study.baseCommit.slice(0, 12)],
    ['created', new Date(study.createdAt).toISOString()],
  ];
  for (const [path, label] of SETTINGS) {
    const v = pick(study.config, path);
    if (v !== undefined && v !== null) settings.push([label, Array.isArray(v) ? v.join(', ') : cell(v)]);
  }
  if (study.noise)
    settings.push(['noise floor (σ)', `${cell(study.noise.sigma)} over ${study.noise.runs.length} baseline runs`]);
  const usage = (f: 'inputTokens' | 'outputTokens' | 'costUsd') => done.reduce((t, e) => t + (e.usage?.[f] ?? 0), 0);
  const orderedKinds = [
    ...REPORT_RECORD_KINDS.filter((k) => records[k]?.length),
    ...Object.keys(records)
      .filter(
        (k) =>
          !(REPORT_RECORD_KINDS as readonly string[]).includes(k) && k !== HELDOUT_CHECK_KIND && records[k]?.length,
      )
      .sort(),
  ];
  const bestValue = study.bestValue;
  return {
    tag: study.tag,
    branch: study.branch,
    metric: study.metric,
    direction: study.direction,
    createdAt: study.createdAt,
    settings,
    baseline: base?.value ?? null,
    best:
      study.bestNumber !== null && bestValue !== null
        ? { number: study.bestNumber, value: bestValue, commit: study.bestCommit }
        : null,
    improvementPct:
      base?.value != null && bestValue !== null && base.value !== 0
        ? ((bestValue - base.value) / Math.abs(base.value)) * 100
        : null,
    finished: done.filter((e) => !e.baseline).length,
    counts,
    byKind: [...kinds.values()].sort((a, b) => b.count - a.count || a.kind.localeCompare(b.kind)),
    kept,
    heldoutBase: base ? (checks.get(base.number) ?? null) : null,
    cost: {
      usd: usage('costUsd'),
      inputTokens: usage('inputTokens'),
      outputTokens: usage('outputTokens'),
      runHours: done.reduce((t, e) => t + (e.runMs ?? 0), 0) / 3_600_000,
    },
    records: orderedKinds.map((k) => recordTable(k, records[k]!)),
  };
}
