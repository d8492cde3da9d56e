/**
 * What the search proposer reads back from the study's history: the structured `change` it
 * stored on earlier experiments, and the facts it derives from them (moves already tried from a
 * parent, failures per (constant, direction), when each constant was last tried).
 *
 * Contract: pure functions of the history; unknown `change` shapes (other proposers) are ignored.
 */
import type { Experiment } from '../../ledger/types.js';
import type { Move, MoveDirection, MoveStep } from './moves.js';

/** The `change` record the search proposer stores on each experiment. */
export interface SearchChange {
  file: string;
  name: string;
  from: string;
  to: string;
  direction: MoveDirection;
  step: MoveStep;
  /** Step level of a level move (./levels.ts), when it was one. */
  level?: number;
}

/** The change as a SearchChange, or null when it has another shape. */
export function parseChange(change: unknown): SearchChange | null {
  if (typeof change !== 'object' || change === null) return null;
  const c = change as Record<string, unknown>;
  const { file, name, from, to, direction, step } = c;
  if (typeof file !== 'string' || typeof name !== 'string' || typeof to !== 'string') return null;
  return {
    file,
    name,
    from: typeof from === 'string' ? from : '',
    to,
    direction: direction === 'up' || direction === 'down' ? direction : 'set',
    step: step === 'small' ? 'small' : step === 'wide' ? 'wide' : 'big',
    ...(typeof c.level === 'number' && Number.isInteger(c.level) ? { level: c.level } : {}),
  };
}

/** Key of a (file, constant, new literal) triple, as compared against history. */
export function moveKey(m: { file: string; name: string; to: string }): string {
  return JSON.stringify([m.file, m.name, m.to]);
}

/** Keys of every change already tried from `parentCommit` (whatever its outcome). */
export function triedFrom(history: readonly Experiment[], parentCommit: string): Set<string> {
  const out = new Set<string>();
  for (const e of history) {
    if (e.baseline || e.parentCommit !== parentCommit) continue;
    const c = parseChange(e.change);
    if (c) out.add(moveKey(c));
  }
  return out;
}

const FAILED = new Set(['discard', 'crash', 'timeout']);

const OPPOSITE: Record<string, string> = { up: 'down', down: 'up' };

/** Weight of a keep as evidence against the opposite direction (going back undoes it). */
export const KEEP_AGAINST_OPPOSITE = 3;

/**
 * Evidence against each (file, name, direction): 1 per discarded / crashed / timed-out
 * experiment in that direction, KEEP_AGAINST_OPPOSITE per keep in the opposite direction.
 */
export function failureCounts(history: readonly Experiment[]): Map<string, number> {
  const out = new Map<string, number>();
  const add = (k: string, n = 1) => out.set(k, (out.get(k) ?? 0) + n);
  for (const e of history) {
    const c = parseChange(e.change);
    if (!c) continue;
    if (FAILED.has(e.status)) add(directionKey(c));
    const opposite = OPPOSITE[c.direction];
    if (e.status === 'keep' && opposite !== undefined)
      add(directionKey({ ...c, direction: opposite }), KEEP_AGAINST_OPPOSITE);
  }
  return out;
}

export function directionKey(m: { file: string; name: string; direction: string }): string {
  return JSON.stringify([m.file, m.name, m.direction]);
}

export function constantKey(m: { file: string; name: string }): string {
  return JSON.stringify([m.file, m.name]);
}

/** Experiment number at which each (file, name) constant was last changed. */
export function lastTried(history: readonly Experiment[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of history) {
    const c = parseChange(e.change);
    if (c) out.set(constantKey(c), Math.max(out.get(constantKey(c)) ?? -1, e.number));
  }
  return out;
}

/**
 * The search change that produced the current best, when the best is a keep made by a search
 * step with a direction (so the search may continue that way); null otherwise.
 */
export function keptChange(history: readonly Experiment[], bestNumber: number): SearchChange | null {
  const e = history.find((x) => x.number === bestNumber);
  if (!e || e.baseline || e.status !== 'keep') return null;
  const c = parseChange(e.change);
  return c && c.direction !== 'set' ? c : null;
}

/** Moves that continue a kept change: same constant and direction, small step first. */
export function followUps(moves: readonly Move[], kept: SearchChange): Move[] {
  const same = moves.filter((m) => m.file === kept.file && m.name === kept.name && m.direction === kept.direction);
  return [...same.filter((m) => m.step === 'small'), ...same.filter((m) => m.step === 'big')];
}
