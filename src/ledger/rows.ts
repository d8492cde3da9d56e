/**
 * Row <-> object mapping shared by the SQL backends (column names are the migration's).
 *
 * Readers accept what either driver returns: better-sqlite3 gives numbers, node-postgres gives
 * BIGINT columns as strings. JSON columns are TEXT.
 */
import type { Experiment, ExperimentPatch, ExperimentStatus, Study, StudyRecord } from './types.js';
import { LeaseLostError, LedgerError } from './types.js';

export type Row = Record<string, unknown>;

export const FINAL_STATUSES: ReadonlySet<string> = new Set([
  'keep',
  'discard',
  'crash',
  'timeout',
  'rejected',
  'conflict',
]);

/** A finite number, or null (NaN and ±Infinity are never stored). */
export function finiteOrNull(v: number | null | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Keeps only finite numeric metrics (a NaN loss is a crash, its reason says so). */
export function finiteMetrics(metrics: Record<string, number> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(metrics ?? {})) {
    if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  }
  return out;
}

/** JSON text for a column; undefined is stored as SQL NULL like null. */
export function toJson(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  return JSON.stringify(v);
}

function text(row: Row, col: string): string {
  const v = row[col];
  return v === null || v === undefined ? '' : String(v);
}

function optText(row: Row, col: string): string | null {
  const v = row[col];
  return v === null || v === undefined ? null : String(v);
}

function optNum(row: Row, col: string): number | null {
  const v = row[col];
  if (v === null || v === undefined) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

function num(row: Row, col: string): number {
  return optNum(row, col) ?? 0;
}

function json(row: Row, col: string): unknown {
  const v = row[col];
  if (v === null || v === undefined) return null;
  try {
    return JSON.parse(String(v));
  } catch (err) {
    throw new LedgerError(`ledger column ${col} holds invalid JSON`, { cause: err });
  }
}

function jsonObject(row: Row, col: string): Record<string, unknown> {
  const v = json(row, col);
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function rowToStudy(row: Row): Study {
  return {
    id: num(row, 'id'),
    tag: text(row, 'tag'),
    branch: text(row, 'branch'),
    metric: text(row, 'metric'),
    direction: text(row, 'direction') === 'maximize' ? 'maximize' : 'minimize',
    baseCommit: text(row, 'base_commit'),
    protectedHashes: jsonObject(row, 'protected_hashes') as Record<string, string>,
    config: json(row, 'config'),
    createdAt: num(row, 'created_at'),
    bestCommit: optText(row, 'best_commit'),
    bestValue: optNum(row, 'best_value'),
    bestNumber: optNum(row, 'best_number'),
    noise: (json(row, 'noise') as Study['noise']) ?? null,
  };
}

export function rowToExperiment(row: Row): Experiment {
  const usage = json(row, 'usage');
  return {
    id: num(row, 'id'),
    studyId: num(row, 'study_id'),
    number: num(row, 'number'),
    baseline: num(row, 'baseline') === 1,
    status: text(row, 'status') as ExperimentStatus,
    parentCommit: text(row, 'parent_commit'),
    commit: optText(row, 'commit'),
    description: text(row, 'description'),
    diff: text(row, 'diff'),
    change: json(row, 'change'),
    proposer: text(row, 'proposer'),
    value: optNum(row, 'value'),
    metrics: jsonObject(row, 'metrics') as Record<string, number>,
    reason: text(row, 'reason'),
    logPath: optText(row, 'log_path'),
    logTail: text(row, 'log_tail'),
    exitCode: optNum(row, 'exit_code'),
    pgid: optNum(row, 'pgid'),
    attempts: num(row, 'attempts'),
    usage: usage !== null && typeof usage === 'object' ? (usage as Experiment['usage']) : null,
    env: jsonObject(row, 'env'),
    startedAt: num(row, 'started_at'),
    endedAt: optNum(row, 'ended_at'),
    proposeMs: optNum(row, 'propose_ms'),
    runMs: optNum(row, 'run_ms'),
    slot: optNum(row, 'slot'),
    evidence: (json(row, 'evidence') as Experiment['evidence']) ?? null,
    repairs: Array.isArray(json(row, 'repairs')) ? (json(row, 'repairs') as Experiment['repairs']) : [],
    host: optText(row, 'host'),
    leaseUntil: optNum(row, 'lease_until'),
  };
}

/** JSON text of a record value; a LedgerError when it has none (undefined, a function, a cycle). */
export function recordJson(value: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    throw new LedgerError('record value is not JSON-serialisable', { cause: err });
  }
  if (json === undefined) throw new LedgerError('record value is not JSON-serialisable');
  return json;
}

export function rowToRecord(row: Row): StudyRecord {
  return {
    kind: String(row.kind),
    key: String(row.key),
    value: JSON.parse(String(row.value)),
    updatedAt: Number(row.updated_at),
  };
}

/** ExperimentPatch key -> column, and how the value is bound. */
export const PATCH_COLUMNS: ReadonlyArray<[keyof ExperimentPatch, string, (v: unknown) => unknown]> = [
  ['description', 'description', (v) => String(v)],
  ['diff', 'diff', (v) => String(v)],
  ['change', 'change', toJson],
  ['commit', '"commit"', (v) => (v === null ? null : String(v))],
  ['pgid', 'pgid', (v) => (v === null ? null : Number(v))],
  ['logPath', 'log_path', (v) => String(v)],
  ['proposeMs', 'propose_ms', (v) => finiteOrNull(v as number)],
  ['attempts', 'attempts', (v) => Number(v)],
  ['usage', 'usage', toJson],
  ['parentCommit', 'parent_commit', (v) => String(v)],
  ['slot', 'slot', (v) => (v === null ? null : Number(v))],
  ['evidence', 'evidence', toJson],
  ['repairs', 'repairs', (v) => JSON.stringify(v ?? [])],
];

/** The refusal of a finish by `holder` when the row `cur` is held by another host (see `Ledger.finishExperiment`). */
export function leaseLost(cur: Row, holder: string): LeaseLostError {
  const now = (cur.host as string | null) ?? null;
  return new LeaseLostError(
    `experiment ${String(cur.id)} (#${String(cur.number)}) is held by host ${now ?? '(none)'} now, not ${holder}: its lease was taken over, the result of ${holder} is not recorded`,
    now,
  );
}
