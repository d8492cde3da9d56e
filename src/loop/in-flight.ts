/**
 * What a proposer is told is being tried now (ProposalContext.inFlight), and how proposals are
 * counted against `--max-experiments`: only experiments that ran count; those that never ran
 * (rejected by the harness, a failed proposer, a duplicate, a conflict before any run) are
 * counted apart, and a run of them in a row stops the study ([proposer] max_rejections).
 *
 * Contract: pure functions of the ledger's experiments and diffs; never throw for odd input.
 */
import type { Experiment } from '../ledger/types.js';
import type { InFlight } from '../proposer/types.js';

/**
 * Lines a unified diff changes, per file (the new path, or the old one for a deletion), as
 * 1-based line numbers of the file before the change: removed or replaced lines, and for a pure
 * insertion the lines on both sides of it (where a neighbouring edit would collide).
 */
export function touchedLines(diff: string): Record<string, number[]> {
  const out: Record<string, Set<number>> = {};
  let file: string | null = null;
  let oldPath: string | null = null;
  let old = 0;
  let inHunk = false;
  let removedInRun = false;
  const add = (n: number) => {
    if (file === null || n < 1) return;
    (out[file] ??= new Set()).add(n);
  };
  for (const line of diff.split('\n')) {
    if (line.startsWith('diff --git ')) {
      file = null;
      oldPath = null;
      inHunk = false;
      continue;
    }
    if (!inHunk && line.startsWith('--- ')) {
      oldPath = line === '--- /dev/null' ? null : line.slice(4).replace(/^a\//, '');
      continue;
    }
    if (!inHunk && line.startsWith('+++ ')) {
      file = line === '+++ /dev/null' ? oldPath : line.slice(4).replace(/^b\//, '');
      continue;
    }
    const hunk = /^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@/.exec(line);
    if (hunk) {
      old = Number(hunk[1]);
      // "-0,0" (an empty old file) or "-N,0" (insert after line N): the next old line is N + 1
      if (/^@@ -\d+,0 /.test(line)) old += 1;
      inHunk = true;
      removedInRun = false;
      continue;
    }
    if (!inHunk) continue;
    if (line.startsWith('-')) {
      add(old);
      old++;
      removedInRun = true;
    } else if (line.startsWith('+')) {
      if (!removedInRun) {
        add(old - 1);
        add(old);
      }
    } else if (line.startsWith(' ')) {
      old++;
      removedInRun = false;
    } else if (line.startsWith('\\')) {
      // "\ No newline at end of file"
    } else {
      inHunk = false;
    }
  }
  const result: Record<string, number[]> = {};
  for (const [f, s] of Object.entries(out)) result[f] = [...s].sort((a, b) => a - b);
  return result;
}

/** The experiments of `history` that are queued or running, as in-flight changes. */
export function inFlightOf(history: readonly Experiment[]): InFlight[] {
  return history
    .filter((e) => !e.baseline && e.status === 'running')
    .map((e) => ({
      number: e.number,
      description: e.description,
      parentCommit: e.parentCommit,
      diff: e.diff,
      lines: touchedLines(e.diff),
      change: e.change,
    }));
}

/** True when the experiment's change ran at least once (so it counts against --max-experiments). */
export function ran(e: Experiment): boolean {
  if (e.baseline || e.status === 'running') return false;
  return e.runMs !== null || (e.evidence?.runs.length ?? 0) > 0 || (e.evidence?.rebased?.runs.length ?? 0) > 0;
}

export interface Tally {
  /** Finished experiments whose change ran: what --max-experiments counts. */
  ran: number;
  /** Finished without ever running (rejected, duplicate, failed proposer, conflict before a run). */
  notRun: number;
  /** Queued or running now. */
  pending: number;
}

export function tally(all: readonly Experiment[]): Tally {
  const t: Tally = { ran: 0, notRun: 0, pending: 0 };
  for (const e of all) {
    if (e.baseline) continue;
    if (e.status === 'running') t.pending++;
    else if (ran(e)) t.ran++;
    else t.notRun++;
  }
  return t;
}

/**
 * The experiments that finished last without running, in a row (most recent first, by end
 * time): a proposer whose every proposal is rejected shows here.
 */
export function notRunInARow(all: readonly Experiment[]): Experiment[] {
  const finished = all
    .filter((e) => !e.baseline && e.status !== 'running')
    .sort((a, b) => (b.endedAt ?? 0) - (a.endedAt ?? 0) || b.number - a.number);
  const out: Experiment[] = [];
  for (const e of finished) {
    if (ran(e)) break;
    out.push(e);
  }
  return out;
}

/**
 * The experiment a new change (made on `parent`, with `diff`) repeats: one queued or running,
 * or kept, made on the same parent with the same diff; null when it is new.
 */
export function duplicateOf(all: readonly Experiment[], parent: string, diff: string): Experiment | null {
  if (diff.trim() === '') return null;
  const live = (e: Experiment) => e.status === 'running' || e.status === 'keep';
  return all.find((e) => !e.baseline && live(e) && e.parentCommit === parent && e.diff === diff) ?? null;
}

/**
 * Proposals to prepare ahead on top of `[slots] prefetch`, so that a slot finds its next change
 * ready when its run ends although making one takes a while: the slots that finish while one
 * proposal is made, slots x (mean proposal time / mean time of one run), rounded, at most one
 * per slot; proposal times of the last `window` proposals (queued ones too, so that it is known
 * before the first experiments end), run times of the last `window` that ran (the baseline too).
 * 0 with a fast proposer (the search: milliseconds), so that no change waits longer than it
 * must (a waiting change goes stale when the best moves).
 */
export function extraAhead(all: readonly Experiment[], slots: number, window = 20): number {
  const proposed = all.filter((e) => !e.baseline && e.proposeMs !== null && e.proposeMs > 0).slice(-window);
  const runs = all
    .filter((e) => (ran(e) || (e.baseline && e.status !== 'running')) && e.runMs !== null && e.runMs > 0)
    .slice(-window);
  if (proposed.length === 0 || runs.length === 0) return 0;
  const propose = proposed.reduce((s, e) => s + e.proposeMs!, 0) / proposed.length;
  const run = runs.reduce((s, e) => s + e.runMs! / Math.max(1, e.evidence?.runs.length ?? 1), 0) / runs.length;
  return Math.min(slots, Math.round((slots * propose) / run));
}
