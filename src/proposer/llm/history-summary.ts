/**
 * A compact, model-readable view of the study's history: recent and kept experiments with status,
 * metric and delta against the best at that time; near-misses (discards closest to the best);
 * the last crash's log tail; changes in flight (queued or running in other slots, or being
 * proposed now) with the lines they change. Also the `query_results` tool's table.
 *
 * Contract: pure functions of the history (ordered by number, baseline included) and the
 * in-flight list; output is bounded in size whatever the history's length.
 */
import type { Direction, Experiment } from '../../ledger/types.js';
import type { InFlight } from '../types.js';

export interface Objective {
  metric: string;
  direction: Direction;
}

export interface Row {
  exp: Experiment;
  /** value - best before this experiment (null without a value or before any best). */
  delta: number | null;
}

export function annotate(history: readonly Experiment[], direction: Direction): Row[] {
  let best: number | null = null;
  const better = (a: number, b: number) => (direction === 'minimize' ? a < b : a > b);
  return history.map((exp) => {
    const delta = exp.value !== null && best !== null && !exp.baseline ? exp.value - best : null;
    if (exp.status === 'keep' && exp.value !== null && (best === null || exp.baseline || better(exp.value, best)))
      best = exp.value;
    return { exp, delta };
  });
}

const fmt = (v: number | null) => (v === null ? '-' : Number(v.toPrecision(6)).toString());
const fmtDelta = (d: number | null) => (d === null ? '' : ` (${d >= 0 ? '+' : ''}${Number(d.toPrecision(3))})`);
const clip = (s: string, n: number) => {
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length > n ? `${line.slice(0, n - 3)}...` : line;
};

export function formatRow(r: Row): string {
  const e = r.exp;
  const what = e.baseline ? 'baseline' : clip(e.description || '(no description)', 140);
  const why =
    (e.status === 'crash' || e.status === 'timeout' || e.status === 'rejected') && e.reason
      ? ` [${clip(e.reason, 100)}]`
      : '';
  return `#${e.number} ${e.status.padEnd(8)} ${fmt(e.value)}${fmtDelta(r.delta)}  ${what}${why}`;
}

export interface SummaryOptions {
  recent?: number;
  kept?: number;
  nearMisses?: number;
  crashTailChars?: number;
}

/** `12-14, 20` from [12, 13, 14, 20]. */
function ranges(lines: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    let j = i;
    while (j + 1 < lines.length && lines[j + 1] === lines[j]! + 1) j++;
    out.push(i === j ? `${lines[i]}` : `${lines[i]}-${lines[j]}`);
    i = j;
  }
  return out.join(', ');
}

/** One line per change in flight: what it is and the lines it changes (bounded). */
export function formatInFlight(inFlight: readonly InFlight[]): string[] {
  const shown = inFlight.filter((f) => f.description || f.diff).slice(-10);
  if (shown.length === 0) return [];
  return [
    '',
    'In flight (queued or running in other slots, or being proposed now; do not propose these again, and ' +
      'leave the lines they change alone: once one of them is kept, a change to the same line can no longer be applied):',
    ...shown.map((f) => {
      const where = Object.entries(f.lines)
        .slice(0, 4)
        .map(([file, lines]) => `${file} line${lines.length > 1 ? 's' : ''} ${clip(ranges(lines), 60)}`)
        .join('; ');
      const what = f.number === null ? '(being proposed)' : `#${f.number}`;
      return `${what} ${clip(f.description || '(no description yet)', 140)}${where ? ` [changes ${where}]` : ''}`;
    }),
  ];
}

export function summarizeHistory(
  history: readonly Experiment[],
  objective: Objective,
  opts: SummaryOptions = {},
  inFlight?: readonly InFlight[],
): string {
  const finished = history.filter((e) => e.status !== 'running');
  const flying = formatInFlight(
    inFlight ??
      history
        .filter((e) => e.status === 'running' && !e.baseline && e.description)
        .map((e) => ({
          number: e.number,
          description: e.description,
          parentCommit: e.parentCommit,
          diff: e.diff,
          lines: {},
          change: e.change,
        })),
  );
  if (finished.length === 0) return ['No experiments yet.', ...flying].join('\n');
  const rows = annotate(finished, objective.direction);
  const counts = new Map<string, number>();
  for (const e of finished) if (!e.baseline) counts.set(e.status, (counts.get(e.status) ?? 0) + 1);
  const lower = objective.direction === 'minimize' ? 'lower' : 'higher';
  const out: string[] = [
    `Metric: ${objective.metric} (${lower} is better). Deltas are against the best at the time of each experiment.`,
    `Experiments so far: ${finished.filter((e) => !e.baseline).length} (${[...counts].map(([k, v]) => `${v} ${k}`).join(', ') || 'none'}).`,
  ];
  const kept = rows.filter((r) => r.exp.status === 'keep').slice(-(opts.kept ?? 10));
  out.push('', 'Improvements kept (the path to the current best):', ...kept.map(formatRow));
  const recent = rows.filter((r) => !r.exp.baseline).slice(-(opts.recent ?? 15));
  if (recent.length) out.push('', `Most recent ${recent.length}:`, ...recent.map(formatRow));
  const misses = rows
    .filter((r) => r.exp.status === 'discard' && r.delta !== null && !recent.includes(r))
    .sort((a, b) => Math.abs(a.delta!) - Math.abs(b.delta!))
    .slice(0, opts.nearMisses ?? 5);
  if (misses.length)
    out.push(
      '',
      'Near-misses (discarded, closest to the best; maybe worth combining or retrying with a smaller step):',
      ...misses.map(formatRow),
    );
  const crash = [...finished].reverse().find((e) => e.status === 'crash' || e.status === 'timeout');
  if (crash) {
    const cap = opts.crashTailChars ?? 3000;
    const tail = crash.logTail.length > cap ? crash.logTail.slice(-cap) : crash.logTail;
    out.push(
      '',
      `Last ${crash.status} (#${crash.number}: ${clip(crash.description, 140)}): ${clip(crash.reason, 200)}`,
      'Log tail:',
      '```',
      tail.trimEnd(),
      '```',
    );
  }
  out.push(...flying);
  return out.join('\n');
}

export function queryResults(
  history: readonly Experiment[],
  objective: Objective,
  args: { status?: string; sort?: 'recent' | 'best'; limit?: number },
): string {
  let rows = annotate(
    history.filter((e) => e.status !== 'running'),
    objective.direction,
  );
  if (args.status) rows = rows.filter((r) => r.exp.status === args.status);
  if (args.sort === 'best') {
    const key = (r: Row) =>
      r.exp.value === null ? Infinity : objective.direction === 'minimize' ? r.exp.value : -r.exp.value;
    rows = [...rows].sort((a, b) => key(a) - key(b));
  } else rows = [...rows].reverse();
  const limit = Math.min(200, args.limit ?? 20);
  if (rows.length === 0) return 'no matching experiments';
  return [
    `number status value (delta vs best then) description — ${rows.length} match(es)`,
    ...rows.slice(0, limit).map(formatRow),
  ].join('\n');
}
