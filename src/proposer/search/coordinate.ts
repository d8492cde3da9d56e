/**
 * The `coordinate` search strategy (`[proposer] strategy = "coordinate"`): coordinate descent
 * with per-constant step sizes that shrink where it fails, and restarts.
 *
 * One constant at a time, its step level from its own history (./levels.ts: 1 wide, 0 big, -1,
 * -2 fine): after a keep the constant stays at the kept level and continues in the kept
 * direction (a line search); every two failures on it since its last keep (both directions
 * polled at that level) take it one level finer; past the finest it restarts at the widest (a
 * restart: the landscape may have moved since it was last explored). The constant:
 *  (a) the one the last decided search change kept (continue the line);
 *  (b) else the one whose last decided change failed when only one direction was polled at its
 *      level (poll the other direction);
 *  (c) else the one polled the fewest times since its last keep (every constant is refined as
 *      far as the others before any goes finer: measured better than pure recency on the
 *      landscape), then the least recently tried (never tried first), then a seeded hash.
 * On a plateau, a constant below level 0 jumps to the widest level (widen instead of refining).
 * Bools and strings take their usual moves. The first untried move (from this parent, not on a
 * line in flight) of the preferred constant at its level wins, then its other levels, then the
 * other constants in order; null when none is open (the caller falls back to hill scoring).
 *
 * Why this and not TPE / Bayesian optimisation: no such library is installed (nothing may be
 * added), and a TPE step proposes every constant at once: one experiment would change many
 * knobs, which makes kept changes unreadable and the chain impossible to ablate change by change
 * (issue 12 item 1). Coordinate descent keeps one knob per experiment, is deterministic from the
 * history (the Proposer contract) and adapts its step per knob as a compass search does.
 *
 * Contract: pure apart from nothing (a function of its inputs); deterministic.
 */
import type { Experiment } from '../../ledger/types.js';
import type { Plateau } from '../plateau.js';
import type { Constant } from './constants.js';
import { constantKey, parseChange, type SearchChange } from './history.js';
import { levelMoves, MAX_LEVEL, MIN_LEVEL } from './levels.js';
import type { Move } from './moves.js';

export interface Knob {
  constant: Constant;
  file: string;
  source: string;
}

export interface CoordinateInput {
  history: readonly Experiment[];
  knobs: readonly Knob[];
  exclude: readonly string[];
  /** True when a move may be chosen: untried from this parent, not claimed, not on a busy line. */
  isOpen: (m: Move, k: Knob) => boolean;
  plateau: Plateau | null | undefined;
  /** Seeded tie-break in [0, 1) per constant. */
  tieBreak: (k: Knob) => number;
}

const DECIDED = new Set(['keep', 'discard', 'crash', 'timeout']);
const RANGE = MAX_LEVEL - MIN_LEVEL + 1;

interface KnobState {
  level: number;
  /** Direction to try first. */
  prefer: 'up' | 'down';
  /** Failures since the last keep on it. */
  fails: number;
  /** Number of its last decided change (-1 when never). */
  last: number;
}

/** One decided search change on a constant. */
interface Tried {
  number: number;
  change: SearchChange;
  kept: boolean;
}

function triedOf(history: readonly Experiment[]): Map<string, Tried[]> {
  const out = new Map<string, Tried[]>();
  for (const e of [...history].sort((a, b) => a.number - b.number)) {
    if (e.baseline || !DECIDED.has(e.status)) continue;
    const change = parseChange(e.change);
    if (!change) continue;
    const k = constantKey(change);
    out.set(k, [...(out.get(k) ?? []), { number: e.number, change, kept: e.status === 'keep' }]);
  }
  return out;
}

/** Step level and preferred direction of one constant, from its decided changes. */
export function stateOf(tried: readonly Tried[]): KnobState {
  let keepAt = -1;
  for (let i = tried.length - 1; i >= 0; i--)
    if (tried[i]!.kept) {
      keepAt = i;
      break;
    }
  const kept = keepAt >= 0 ? tried[keepAt]!.change : null;
  const keepLevel = Math.min(MAX_LEVEL, kept?.level ?? (kept?.step === 'small' ? -1 : 0));
  const since = tried.slice(keepAt + 1);
  const fails = since.length;
  const idx = Math.floor(fails / 2);
  const level = MIN_LEVEL + ((((keepLevel - MIN_LEVEL - idx) % RANGE) + RANGE) % RANGE);
  let prefer: 'up' | 'down' = kept?.direction === 'down' ? 'down' : 'up';
  // within the current pair of polls: after one failure, the other direction
  const lastFail = fails % 2 === 1 ? since[since.length - 1]!.change.direction : null;
  if (lastFail === prefer) prefer = prefer === 'up' ? 'down' : 'up';
  return { level, prefer, fails, last: tried.length ? tried[tried.length - 1]!.number : -1 };
}

/** The move the coordinate strategy makes next, or null when none of its moves is open. */
export function chooseCoordinate(input: CoordinateInput): { move: Move; knob: Knob } | null {
  const tried = triedOf(input.history);
  const states = new Map(input.knobs.map((k) => [k, stateOf(tried.get(constantKey(nameOf(k))) ?? [])]));
  const order = orderKnobs(input, states);
  for (const knob of order) {
    const s = states.get(knob)!;
    const level = input.plateau && s.level < 0 ? MAX_LEVEL : s.level;
    const levels = [level, ...[1, 0, -1, -2].filter((l) => l !== level)];
    for (const l of levels) {
      const moves = levelMoves(knob.constant, l, { file: knob.file, exclude: input.exclude });
      moves.sort((a, b) => rank(a, s) - rank(b, s));
      const hit = moves.find((m) => input.isOpen(m, knob));
      if (hit) return { move: hit, knob };
    }
  }
  return null;
}

function nameOf(k: Knob): { file: string; name: string } {
  return { file: k.file, name: k.constant.name };
}

const rank = (m: Move, s: KnobState) => (m.direction === s.prefer || m.direction === 'set' ? 0 : 1);

/** (a) the kept one, (b) the half-polled one, (c) least recently tried; then the rest. */
function orderKnobs(input: CoordinateInput, states: Map<Knob, KnobState>): Knob[] {
  let latest: { knob: Knob; s: KnobState } | null = null;
  for (const [knob, s] of states) if (s.last >= 0 && (!latest || s.last > latest.s.last)) latest = { knob, s };
  const rest = [...input.knobs].sort((a, b) => {
    const sa = states.get(a)!;
    const sb = states.get(b)!;
    const polls = Math.floor(sa.fails / 2) - Math.floor(sb.fails / 2);
    return polls || sa.last - sb.last || input.tieBreak(a) - input.tieBreak(b);
  });
  if (!latest) return rest;
  const numeric = typeof latest.knob.constant.value === 'number'; // a kept flip is not continued
  const continueIt = numeric && (latest.s.fails === 0 || latest.s.fails % 2 === 1);
  return continueIt ? [latest.knob, ...rest.filter((k) => k !== latest!.knob)] : rest;
}
