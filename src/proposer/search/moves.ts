/**
 * The principled changes ("moves") the search proposer may make to one constant.
 *
 * Rules (each move changes the value; duplicates keep the big step):
 * - bool: flip (direction 'set').
 * - string: each other alternative listed in its comment ('set'); none when the comment lists
 *   none, or when the alternatives are the characters the value is made of ("SSSL" with
 *   `"L" full, "S" half`).
 * - float that looks like a fraction (name/comment: RATIO, FRAC, DROPOUT, BETA, MOMENTUM,
 *   WARMUP, WARMDOWN, PROB, ...) and lies in [0,1]: stays in [0,1].
 *   up: big min(2v, 1-(1-v)/2), small min(1.25v, 1-0.8(1-v)); down: big max(v/2, 1-2(1-v)),
 *   small max(0.8v, 1-1.25(1-v)); 0 goes up to 0.1 / 0.05, 1 goes down to 0.9 / 0.95.
 * - other float 0: up to a small value informed by its name (decay 0.01, lr 0.001, eps 1e-8,
 *   clip/norm 1.0, otherwise 0.01); small step = half of it.
 * - other float: big x2 / x0.5, small x1.25 / x0.8.
 * - int written `b**k`: k+1 / k-1 (k-1 >= 0). Power of two >= 2: x2 / ÷2 (never below 1).
 * - other int: big x1.5 / x0.67, small x1.25 / x0.8, rounded, changing by at least 1, never
 *   crossing zero (>= 1 stays >= 1, <= -1 stays <= -1; 0 only goes up to 1).
 * - no moves for names containing SEED, TIME_BUDGET, BUDGET, EVAL, VERSION, or listed in
 *   `exclude`.
 *
 * Contract: pure; `to` is the exact literal text that rewrite.ts writes, `value` its value.
 */
import { parseLiteral, type Constant, type ConstantValue } from './constants.js';
import { formatValue } from './rewrite.js';

export type MoveDirection = 'up' | 'down' | 'set';
/** 'wide' (plateau and coordinate restarts, ./levels.ts) > 'big' > 'small'. */
export type MoveStep = 'wide' | 'big' | 'small';

export interface Move {
  name: string;
  /** Editable file (relative to the worktree) holding the constant. */
  file: string;
  /** Literal text before and after. */
  from: string;
  to: string;
  value: ConstantValue;
  direction: MoveDirection;
  step: MoveStep;
  /** Step level of a level move (./levels.ts): 1 wide, 0 big, -1, -2 finer; absent otherwise. */
  level?: number;
}

export interface MoveOptions {
  /** Recorded in each move; '' when not given. */
  file?: string;
  /** Names never touched, on top of the built-in protected name parts. */
  exclude?: readonly string[];
}

/** Name parts that mark a constant as off limits (seeds, budgets, evaluation, versions). */
/** Names of constants that are not hyperparameters (seeds, budgets, evaluation, logging). */
export const PROTECTED_NAME_PARTS: readonly string[] = [
  'SEED',
  'TIME_BUDGET',
  'BUDGET',
  'EVAL',
  'VERSION',
  'LOG_EVERY',
  'PRINT_EVERY',
  'VERBOSE',
];

/** True when the search must not touch a constant of this name. */
export function isExcluded(name: string, exclude: readonly string[] = []): boolean {
  return PROTECTED_NAME_PARTS.some((p) => name.includes(p)) || exclude.includes(name);
}

const FRACTION_NAME =
  /(^|_)(RATIO|FRAC|FRACTION|DROPOUT|DROP|BETA\d?|BETAS|MOMENTUM|WARMUP|WARMDOWN|PROB|PROBABILITY|SMOOTHING|EMA|KEEP|MIX|GAMMA|P)(_|$)/;
const FRACTION_COMMENT =
  /\b(fraction|ratio|probability|prob|momentum|beta|dropout|share of)\b|\[\s*0(\.0)?\s*,\s*1(\.0)?\s*\]/i;

/** A float in [0,1] whose name or comment says it is a fraction / ratio / probability. */
export function isFractionLike(c: Constant): boolean {
  if (c.kind !== 'float' || typeof c.value !== 'number' || c.value < 0 || c.value > 1) return false;
  return FRACTION_NAME.test(c.name) || FRACTION_COMMENT.test(c.comment);
}

/** Every move of one constant, big steps before small ones. */
export function candidateMoves(c: Constant, opts: MoveOptions = {}): Move[] {
  if (isExcluded(c.name, opts.exclude)) return [];
  return toMoves(c, rawMoves(c), opts);
}

/** [direction (undefined = from the sign of the change), step, target value] */
export type RawMove = [MoveDirection | undefined, MoveStep, ConstantValue];

/** Raw targets as moves: written in the constant's style, no-ops and duplicates dropped. */
export function toMoves(c: Constant, raws: readonly RawMove[], opts: MoveOptions = {}): Move[] {
  const out: Move[] = [];
  for (const [direction, step, target] of raws) {
    if (typeof target === 'number' && !(Number.isFinite(target) && Math.abs(target) <= Number.MAX_SAFE_INTEGER))
      continue; // a wide step from an already huge value
    const to = formatValue(c, target);
    const value = parseLiteral(to, c.lang)?.value;
    if (value === undefined || value === c.value || to === c.raw) continue;
    if (out.some((m) => m.to === to)) continue;
    const dir = direction ?? ((value as number) > (c.value as number) ? 'up' : 'down');
    out.push({ name: c.name, file: opts.file ?? '', from: c.raw, to, value, direction: dir, step });
  }
  return out;
}

function rawMoves(c: Constant): RawMove[] {
  const v = c.value;
  if (typeof v === 'boolean') return [['set', 'big', !v]];
  if (typeof v === 'string') return stringAlternatives(c).map((a): RawMove => ['set', 'big', a]);
  if (c.kind === 'float') return floatMoves(c, v);
  return intMoves(c, v);
}

function floatMoves(c: Constant, v: number): RawMove[] {
  if (isFractionLike(c)) {
    if (v === 0)
      return [
        ['up', 'big', 0.1],
        ['up', 'small', 0.05],
      ];
    if (v === 1)
      return [
        ['down', 'big', 0.9],
        ['down', 'small', 0.95],
      ];
    return [
      ['up', 'big', Math.min(v * 2, 1 - (1 - v) / 2)],
      ['down', 'big', Math.max(v / 2, 1 - (1 - v) * 2)],
      ['up', 'small', Math.min(v * 1.25, 1 - (1 - v) * 0.8)],
      ['down', 'small', Math.max(v * 0.8, 1 - (1 - v) * 1.25)],
    ];
  }
  if (v === 0) {
    const h = zeroHint(c.name);
    return [
      ['up', 'big', h],
      ['up', 'small', h / 2],
    ];
  }
  return [
    [undefined, 'big', v * 2],
    [undefined, 'big', v * 0.5],
    [undefined, 'small', v * 1.25],
    [undefined, 'small', v * 0.8],
  ];
}

/** A small positive first value for a float that is 0, from what its name says it is. */
export function zeroHint(name: string): number {
  if (/(^|_)(EPS|EPSILON)(_|$)/.test(name)) return 1e-8;
  if (/DECAY|(^|_)(WD|L2|REG)(_|$)/.test(name)) return 0.01;
  if (/(^|_)(LR|LEARNING_RATE)(_|$)/.test(name)) return 0.001;
  if (/CLIP|NORM|(^|_)MAX(_|$)/.test(name)) return 1.0;
  return 0.01;
}

function intMoves(c: Constant, v: number): RawMove[] {
  const power = c.style.power;
  if (power && power.base >= 2) {
    const k = Math.round(Math.log(v) / Math.log(power.base));
    const out: RawMove[] = [['up', 'big', power.base ** (k + 1)]];
    if (k >= 1) out.push(['down', 'big', power.base ** (k - 1)]);
    return out;
  }
  if (v >= 2 && Number.isInteger(Math.log2(v)))
    return [
      ['up', 'big', v * 2],
      ['down', 'big', v / 2],
    ];
  const out: RawMove[] = [];
  for (const [step, factor] of [
    ['big', 1.5],
    ['big', 0.67],
    ['small', 1.25],
    ['small', 0.8],
  ] as const) {
    const next = scaleInt(v, factor);
    if (next !== null) out.push([undefined, step, next]);
  }
  return out;
}

/** v scaled by factor in magnitude, rounded, moved by at least 1, never crossing zero. */
export function scaleInt(v: number, factor: number): number | null {
  const a = Math.abs(v);
  const sign = v < 0 ? -1 : 1;
  if (a === 0) return factor > 1 ? 1 : null;
  let m = Math.round(a * factor);
  if (factor > 1 && m <= a) m = a + 1;
  if (factor < 1 && m >= a) m = a - 1;
  if (m < 1) return null;
  return sign * m;
}

/**
 * The values a string constant's comment lists (quoted strings, `a | b | c`, or
 * "one of: a, b, c"), without the current value. Empty when the listed values are the
 * characters the current value is made of (a pattern such as "SSSL").
 */
export function stringAlternatives(c: Constant): string[] {
  if (typeof c.value !== 'string') return [];
  const current = c.value;
  for (const text of [c.trailingComment, c.commentAbove]) {
    const listed = listedValues(text);
    if (listed.length === 0) continue;
    if (current.length > 1 && listed.every((a) => a.length === 1) && [...current].every((ch) => listed.includes(ch))) {
      return [];
    }
    return listed.filter((a) => a !== current);
  }
  return [];
}

function listedValues(text: string): string[] {
  const uniq = (xs: string[]) => [...new Set(xs.map((x) => x.trim()).filter((x) => x !== ''))];
  const quoted = [...text.matchAll(/(["'`])((?:(?!\1)[^\s])*)\1/g)].map((m) => m[2] ?? '');
  if (quoted.length > 0) return uniq(quoted);
  const oneOf = /\b(?:one of|options?|choices?)\s*:?\s*(.+)$/i.exec(text);
  if (oneOf?.[1]) return uniq(oneOf[1].split(/\s*(?:,|\/|\||\bor\b)\s*/));
  const piped = /[\w.+-]+(?:\s*\|\s*[\w.+-]+)+/.exec(text);
  if (piped) return uniq(piped[0].split('|'));
  return [];
}
