/**
 * What the dashboard shows, as plain JSON built from the ledger: the study, one row per
 * experiment (no diffs: those come per experiment), what each slot runs now and its busy
 * timeline, and the totals. Pure: the same input gives the same output (`now` is passed in).
 *
 * Everything here may hold text written by the proposer (descriptions, reasons): the page puts it
 * in the DOM as text, never as HTML.
 */
import { slotBusy, summarise, type StudyStatus } from '../cli/commands/status.js';
import type { Experiment, ExperimentStatus, Study } from '../ledger/types.js';
import { isQueued } from '../loop/queued.js';

export interface ExperimentRow {
  number: number;
  baseline: boolean;
  status: ExperimentStatus | 'queued';
  value: number | null;
  /** value minus what it was compared with (the best's mean, or the best before it). */
  delta: number | null;
  description: string;
  reason: string;
  commit: string | null;
  slot: number | null;
  startedAt: number;
  endedAt: number | null;
  runMs: number | null;
  tokens: number | null;
  costUsd: number | null;
}

export interface SlotView {
  slot: number;
  /** The experiment running there now, if any. */
  current: { number: number; description: string; startedAt: number } | null;
  experiments: number;
  busy: number;
  /** Runs on this slot: [start, end] epoch ms (end null while running) and status. */
  timeline: Array<{ number: number; start: number; end: number | null; status: ExperimentRow['status'] }>;
}

/** Limits of the invocation running the study (known only from its own event stream). */
export interface RunLimits {
  maxExperiments: number | null;
  maxHours: number | null;
  /** When that invocation started (epoch ms). */
  since: number;
}

export interface DashboardSnapshot {
  now: number;
  tag: string;
  branch: string;
  metric: string;
  direction: 'minimize' | 'maximize';
  live: StudyStatus['live'];
  createdAt: number;
  timeoutS: number | null;
  noise: { sigma: number; runs: number[] } | null;
  baselineValue: number | null;
  best: StudyStatus['best'];
  counts: StudyStatus['counts'];
  finished: number;
  experiments: ExperimentRow[];
  slots: SlotView[];
  totals: {
    /** Finished experiments per hour of wall-clock since the first one started. */
    perHour: number | null;
    keeps: number;
    costUsd: number;
    tokens: number;
    runHours: number;
    /** Left under the limits of the running invocation, when known. */
    left: { experiments: number | null; hours: number | null } | null;
  };
}

function timeoutOf(config: unknown): number | null {
  const t = (config as { run?: { timeout_s?: unknown } } | null)?.run?.timeout_s;
  return typeof t === 'number' ? t : null;
}

const tokensOf = (e: Experiment): number | null =>
  e.usage ? (e.usage.inputTokens ?? 0) + (e.usage.outputTokens ?? 0) : null;

export function buildSnapshot(
  study: Study,
  all: Experiment[],
  live: StudyStatus['live'],
  now: number,
  limits: RunLimits | null = null,
): DashboardSnapshot {
  const s = summarise(study, all, live, 0);
  const better = (a: number, b: number) => (study.direction === 'minimize' ? a < b : a > b);
  const sorted = [...all].sort((a, b) => a.number - b.number);
  let bestSoFar: number | null = null;
  const experiments: ExperimentRow[] = sorted.map((e) => {
    const compared = e.evidence?.bestMean ?? bestSoFar;
    const delta = e.value !== null && compared !== null && !e.baseline ? e.value - compared : null;
    if (e.status === 'keep' && e.value !== null && (bestSoFar === null || better(e.value, bestSoFar)))
      bestSoFar = e.value;
    return {
      number: e.number,
      baseline: e.baseline,
      status: isQueued(e) ? 'queued' : e.status,
      value: e.value,
      delta,
      description: e.description,
      reason: e.reason.slice(0, 300),
      commit: e.commit,
      slot: e.slot,
      startedAt: e.startedAt,
      endedAt: e.endedAt,
      runMs: e.runMs,
      tokens: tokensOf(e),
      costUsd: e.usage?.costUsd ?? null,
    };
  });
  const busy = new Map(slotBusy(all).map((b) => [b.slot, b]));
  const slotIds = [...new Set(all.filter((e) => e.slot !== null).map((e) => e.slot!))].sort((a, b) => a - b);
  const slots: SlotView[] = slotIds.map((slot) => {
    const here = experiments.filter((e) => e.slot === slot && e.status !== 'queued');
    const running = live ? here.filter((e) => e.status === 'running').at(-1) : undefined;
    return {
      slot,
      current: running
        ? { number: running.number, description: running.description, startedAt: running.startedAt }
        : null,
      experiments: busy.get(slot)?.experiments ?? 0,
      busy: busy.get(slot)?.busy ?? 0,
      timeline: here
        // A 'running' row of a study nobody runs is an interrupted experiment: not on the timeline.
        .filter((e) => (e.status === 'running' && live) || (e.endedAt !== null && e.runMs !== null))
        .map((e) => ({
          number: e.number,
          start: e.status === 'running' ? e.startedAt : e.endedAt! - e.runMs!,
          end: e.status === 'running' ? null : e.endedAt,
          status: e.status,
        })),
    };
  });
  const first = sorted[0]?.startedAt ?? null;
  const spanH = first !== null ? (now - first) / 3_600_000 : 0;
  const costUsd = all.reduce((t, e) => t + (e.usage?.costUsd ?? 0), 0);
  const tokens = all.reduce((t, e) => t + (tokensOf(e) ?? 0), 0);
  const left =
    limits && live
      ? {
          experiments: limits.maxExperiments !== null ? Math.max(0, limits.maxExperiments - s.finished) : null,
          hours: limits.maxHours !== null ? Math.max(0, limits.maxHours - (now - limits.since) / 3_600_000) : null,
        }
      : null;
  return {
    now,
    tag: study.tag,
    branch: study.branch,
    metric: study.metric,
    direction: study.direction,
    live,
    createdAt: study.createdAt,
    timeoutS: timeoutOf(study.config),
    noise: study.noise,
    baselineValue: s.baseline?.value ?? null,
    best: s.best,
    counts: s.counts,
    finished: s.finished,
    experiments,
    slots,
    totals: {
      perHour: spanH > 0 ? s.finished / spanH : null,
      keeps: s.counts.keep,
      costUsd,
      tokens,
      runHours: s.runHours,
      left,
    },
  };
}

/** A cheap fingerprint of what changes the snapshot (besides the clock). */
export function fingerprint(study: Study, all: Experiment[], live: StudyStatus['live']): string {
  const parts = all.map((e) => `${e.number}:${e.status}:${e.slot}:${e.endedAt}:${e.description.length}:${e.startedAt}`);
  return `${study.bestNumber}|${study.noise?.sigma}|${live?.pid}|${parts.join(',')}`;
}
