/**
 * Moves at a step level, for the plateau response and the coordinate strategy: level 1 is a
 * wide step (x4 / ÷4), 0 the usual big step (x2 / ÷2), -1 and -2 finer ones (x√2, x2^¼). The
 * factor is 2^(2^level). Per kind of constant:
 * - float: v·f and v/f; 0 goes up to its name's hint (moves.ts zeroHint) · f/2;
 * - fraction-like float in [0,1]: up min(v·f, 1-(1-v)/f), down max(v/f, 1-(1-v)·f) (stays in
 *   [0,1]); 0 goes up to 0.05·f, 1 down to 1-0.05·f;
 * - int `b**k`: k ± (2 at level >= 1, else 1); power of two: x4 / ÷4 at level >= 1, else x2 / ÷2;
 * - other int: scaled by f and 1/f (moves.ts scaleInt: at least ±1, never crossing zero);
 * - bool and string: their usual moves (moves.ts), whatever the level.
 * Each move records its level (step 'wide' at level >= 1, 'big' at 0, 'small' below).
 *
 * Contract: pure; same exclusions as candidateMoves.
 */
import type { Constant } from './constants.js';
import {
  candidateMoves,
  isExcluded,
  isFractionLike,
  scaleInt,
  toMoves,
  zeroHint,
  type Move,
  type MoveOptions,
  type MoveStep,
  type RawMove,
} from './moves.js';

export const MAX_LEVEL = 1;
export const MIN_LEVEL = -2;

export function levelFactor(level: number): number {
  return 2 ** (2 ** level);
}

export function stepOf(level: number): MoveStep {
  return level >= 1 ? 'wide' : level === 0 ? 'big' : 'small';
}

/** The moves of `c` at `level` (up first, then down). */
export function levelMoves(c: Constant, level: number, opts: MoveOptions = {}): Move[] {
  if (isExcluded(c.name, opts.exclude)) return [];
  // bool and string: their usual moves, recorded at the level they were asked at
  if (typeof c.value !== 'number') return candidateMoves(c, opts).map((m) => ({ ...m, level }));
  const f = levelFactor(level);
  const step = stepOf(level);
  const v = c.value;
  let raws: RawMove[];
  if (c.kind === 'float' && isFractionLike(c)) {
    raws =
      v === 0
        ? [['up', step, Math.min(1, 0.05 * f)]]
        : v === 1
          ? [['down', step, Math.max(0, 1 - 0.05 * f)]]
          : [
              ['up', step, Math.min(v * f, 1 - (1 - v) / f)],
              ['down', step, Math.max(v / f, 1 - (1 - v) * f)],
            ];
  } else if (c.kind === 'float') {
    raws =
      v === 0
        ? [['up', step, (zeroHint(c.name) * f) / 2]]
        : [
            [undefined, step, v * f],
            [undefined, step, v / f],
          ];
  } else if (c.style.power && c.style.power.base >= 2) {
    const b = c.style.power.base;
    const k = Math.round(Math.log(v) / Math.log(b));
    const d = level >= 1 ? 2 : 1;
    raws = [['up', step, b ** (k + d)]];
    if (k - d >= 0) raws.push(['down', step, b ** (k - d)]);
  } else if (v >= 2 && Number.isInteger(Math.log2(v))) {
    const m = level >= 1 ? 4 : 2;
    raws = [['up', step, v * m]];
    if (v / m >= 1) raws.push(['down', step, v / m]);
  } else {
    raws = [];
    for (const factor of [f, 1 / f]) {
      const next = scaleInt(v, factor);
      if (next !== null) raws.push([undefined, step, next]);
    }
  }
  return toMoves(c, raws, opts).map((m) => ({ ...m, level }));
}
