/**
 * The offline `search` proposer: no LLM. It finds the UPPER_CASE constants of the editable
 * files and makes one principled change per experiment (see moves.ts), e.g.
 * "MATRIX_LR 0.04 -> 0.05".
 *
 * Choice, given the untried moves from `ctx.parentCommit` (a (parent, file, name, to) change is
 * never repeated; in a workspace joined to a hub, moves other contributors tried from the same
 * best (ctx.others) are left out too, unless nothing else is left):
 * (a) when the current best is a keep of a search change with a direction, continue on that
 *     constant in that direction, small step first, then big;
 * (b) otherwise the highest score wins. With N the number of movable constants and age the
 *     experiments since the constant was last changed (any parent) divided by N (infinite when
 *     never): 1.2 when age >= 1 (not tried in the last N experiments: every constant gets a turn
 *     before any gets a second, unless penalised) + 0.3 * min(1, age) + 0.6 for a big step + a
 *     pseudo-random 0..0.5 from hash(seed, parent, file, name, direction, step, to) - 0.5 per
 *     unit of evidence against that (file, constant, direction) anywhere in the history (1 per
 *     discard/crash/timeout, 3 per keep in the opposite direction), counting at most 3.
 *     Ties go to source order.
 * (c) on a plateau (ctx.plateau: no keep in the last `[proposer] plateau_after` experiments that
 *     ran), the moves also include wide steps (x4 / ÷4) and finer ones (x1.41, x1.19; levels.ts),
 *     so the search is not exhausted when the usual moves from the best were all tried; the score
 *     adds +1.0 for a constant never changed, +0.9 for a wide step, -0.6 for a small one.
 * With `strategy: 'coordinate'` the choice is coordinate.ts's (one constant at a time, step
 * levels per constant, restarts), falling back to (b) when none of its moves is open.
 * Both choose among the moves on lines no change in flight touches (ctx.inFlight: queued and
 * running experiments, proposals being made; and the moves its own concurrent calls chose, see
 * in-flight.ts), so that a prefetched change does not end `conflict` when the one in flight is
 * kept; only when every untried move is on such a line does it choose among those.
 *
 * Contract (see ../types.ts): deterministic for the same context and seed (no Math.random, no
 * clock; the only memory between calls is the moves of calls the context does not show yet,
 * so called one at a time it behaves as without memory); safe to call concurrently (each call
 * claims its move before its first await after choosing); edits only the chosen file in
 * `ctx.worktree`; returns
 * 'failed' when the editable files hold no constants, 'exhausted' when every move was tried,
 * 'failed' with reason 'aborted' when the signal aborts.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProposalContext, ProposalResult, Proposer } from '../types.js';
import { findConstants, langOf, type Constant } from './constants.js';
import {
  constantKey,
  directionKey,
  failureCounts,
  followUps,
  keptChange,
  lastTried,
  moveKey,
  triedFrom,
  type SearchChange,
} from './history.js';
import { busy, Claims, claimsAsInFlight, isBusy } from './in-flight.js';
import { chooseCoordinate, type Knob } from './coordinate.js';
import { levelMoves } from './levels.js';
import { candidateMoves, type Move } from './moves.js';
import { rewriteConstant } from './rewrite.js';

export interface SearchProposerOptions {
  /** Seed of the deterministic choice (`--seed`). */
  seed: number;
  /** Constant names never touched, on top of SEED / BUDGET / EVAL / VERSION names. */
  exclude?: string[];
  /** `[proposer] strategy`: hill (default) or coordinate (./coordinate.ts). */
  strategy?: 'hill' | 'coordinate';
}

interface Located {
  move: Move;
  constant: Constant;
  source: string;
}

/**
 * True when another contributor's result or queued work from this best (ctx.others) describes
 * this move, as this proposer describes its moves ("NAME from -> to", maybe " (file)").
 */
export function triedByOthers(ctx: Pick<ProposalContext, 'others'>, move: Move): boolean {
  const tried = ctx.others?.tried;
  if (!tried?.length) return false;
  const bare = `${move.name} ${move.from} -> ${move.to}`;
  const withFile = `${bare} (${move.file})`;
  return tried.some((t) => t.description === bare || t.description === withFile);
}

/** On a plateau (hill): bonus for a constant never changed, and for a wide step; small steps lose. */
const UNTOUCHED_BONUS = 1.0;
const WIDE_BONUS = 0.9;
const PLATEAU_SMALL_PENALTY = 0.6;

const FRESH_BONUS = 1.2;
const AGE_WEIGHT = 0.3;
const BIG_BONUS = 0.6;
const HASH_WEIGHT = 0.5;
const FAILURE_PENALTY = 0.5;
const MAX_COUNTED_FAILURES = 3;

export class SearchProposer implements Proposer {
  readonly name: string = 'search';
  private readonly seed: number;
  private readonly exclude: readonly string[];
  private readonly strategy: 'hill' | 'coordinate';
  private readonly claims = new Claims();

  constructor(options: SearchProposerOptions) {
    this.seed = options.seed;
    this.exclude = [...(options.exclude ?? [])];
    this.strategy = options.strategy ?? 'hill';
    if (this.strategy === 'coordinate') this.name = 'search:coordinate';
  }

  async propose(ctx: ProposalContext, signal?: AbortSignal): Promise<ProposalResult> {
    if (signal?.aborted) return { kind: 'failed', reason: 'aborted' };
    const files = ctx.editable.length > 0 ? ctx.editable.join(', ') : '(no editable files)';
    const found = await this.collect(ctx);
    if (signal?.aborted) return { kind: 'failed', reason: 'aborted' };
    if (found.constants === 0) {
      return {
        kind: 'failed',
        reason: `no UPPER_CASE constants found in ${files}; the search proposer needs knobs like LR = 0.01`,
      };
    }
    const tried = triedFrom(ctx.history, ctx.parentCommit);
    const claims = this.claims.open(ctx.parentCommit, ctx.history);
    for (const c of claims) tried.add(c.key);
    const untried = found.moves.filter((l) => !tried.has(moveKey(l.move)));
    // Moves other contributors of a hub study tried from this best are skipped while others remain.
    const fresh = untried.filter((l) => !triedByOthers(ctx, l.move));
    const open = fresh.length > 0 ? fresh : untried;
    if (open.length === 0) {
      const constants = `the ${found.constants} constants in ${files}`;
      const reason =
        found.moves.length === 0
          ? `none of ${constants} can be moved (excluded names, or strings without listed alternatives)`
          : `every move of ${constants} was tried from ${ctx.parentCommit.slice(0, 7)}`;
      return { kind: 'exhausted', reason };
    }
    const inFlight = busy([...(ctx.inFlight ?? []), ...claimsAsInFlight(ctx.parentCommit, claims)]);
    const clear = open.filter((l) => !isBusy(inFlight, l.move, l.constant.line));
    const chosen =
      (this.strategy === 'coordinate'
        ? this.coordinate(ctx, found.moves, tried, clear.length > 0 ? inFlight : null)
        : null) ?? this.choose(ctx, clear.length > 0 ? clear : open, found.movable);
    const { move, constant, source } = chosen;
    // claimed before the next await, so a concurrent call sees it
    this.claims.add(ctx.parentCommit, { key: moveKey(move), file: move.file, name: move.name, line: constant.line });
    await writeFile(join(ctx.worktree, move.file), rewriteConstant(source, constant, move.value));
    const change: SearchChange = {
      file: move.file,
      name: move.name,
      from: move.from,
      to: move.to,
      direction: move.direction,
      step: move.step,
      ...(move.level !== undefined ? { level: move.level } : {}),
    };
    const where = found.filesWithConstants > 1 ? ` (${move.file})` : '';
    return { kind: 'ok', description: `${move.name} ${move.from} -> ${move.to}${where}`, change };
  }

  /** Constants and moves of every readable editable file in a supported language. */
  private async collect(ctx: ProposalContext): Promise<{
    moves: Located[];
    constants: number;
    movable: number;
    filesWithConstants: number;
  }> {
    const moves: Located[] = [];
    let constants = 0;
    let movable = 0;
    let filesWithConstants = 0;
    for (const file of ctx.editable) {
      const lang = langOf(file);
      if (lang === null) continue;
      let source: string;
      try {
        source = await readFile(join(ctx.worktree, file), 'utf8');
      } catch {
        continue;
      }
      const found = findConstants(source, lang);
      constants += found.length;
      if (found.length > 0) filesWithConstants++;
      for (const constant of found) {
        const opts = { file, exclude: this.exclude };
        const ms = candidateMoves(constant, opts);
        if (ms.length > 0) movable++;
        // wider steps on a plateau (hill) and every level's moves (coordinate) count as open moves too
        const extra =
          this.strategy === 'coordinate'
            ? [1, 0, -1, -2].flatMap((l) => levelMoves(constant, l, opts))
            : ctx.plateau
              ? [1, -1, -2].flatMap((l) => levelMoves(constant, l, opts))
              : [];
        for (const m of extra) if (!ms.some((x) => x.to === m.to)) ms.push(m);
        for (const move of ms) moves.push({ move, constant, source });
      }
    }
    return { moves, constants, movable, filesWithConstants };
  }

  /** The coordinate strategy's move (./coordinate.ts), or null to fall back to hill scoring. */
  private coordinate(
    ctx: ProposalContext,
    all: Located[],
    tried: Set<string>,
    inFlight: ReturnType<typeof busy> | null,
  ): Located | null {
    const knobs = new Map<Constant, Knob>();
    for (const l of all)
      if (!knobs.has(l.constant)) knobs.set(l.constant, { constant: l.constant, file: l.move.file, source: l.source });
    const hit = chooseCoordinate({
      history: ctx.history,
      knobs: [...knobs.values()],
      exclude: this.exclude,
      plateau: ctx.plateau,
      isOpen: (m, k) => !tried.has(moveKey(m)) && !(inFlight && isBusy(inFlight, m, k.constant.line)),
      tieBreak: (k) => hash01([String(this.seed), ctx.parentCommit, k.file, k.constant.name]),
    });
    return hit ? { move: hit.move, constant: hit.knob.constant, source: hit.knob.source } : null;
  }

  private choose(ctx: ProposalContext, open: Located[], movable: number): Located {
    const kept = keptChange(ctx.history, ctx.best.number);
    if (kept) {
      const next = followUps(
        open.map((l) => l.move),
        kept,
      )[0];
      const hit = next && open.find((l) => l.move === next);
      if (hit) return hit;
    }
    const failures = failureCounts(ctx.history);
    const last = lastTried(ctx.history);
    const scored = open.map((l, index) => {
      const m = l.move;
      const lastNumber = last.get(constantKey(m));
      const age = lastNumber === undefined ? Infinity : (ctx.number - lastNumber) / Math.max(1, movable);
      const recency = (age >= 1 ? FRESH_BONUS : 0) + AGE_WEIGHT * Math.min(1, age);
      const fails = Math.min(MAX_COUNTED_FAILURES, failures.get(directionKey(m)) ?? 0);
      const noise = hash01([String(this.seed), ctx.parentCommit, m.file, m.name, m.direction, m.step, m.to]);
      const plateau = ctx.plateau
        ? (lastNumber === undefined ? UNTOUCHED_BONUS : 0) +
          (m.step === 'wide' ? WIDE_BONUS : m.step === 'small' ? -PLATEAU_SMALL_PENALTY : 0)
        : 0;
      const score =
        recency + (m.step === 'big' ? BIG_BONUS : 0) + HASH_WEIGHT * noise - FAILURE_PENALTY * fails + plateau;
      return { l, score, index };
    });
    scored.sort((a, b) => b.score - a.score || a.index - b.index);
    return (scored[0] as (typeof scored)[number]).l;
  }
}

/** Deterministic pseudo-random number in [0, 1) from strings (FNV-1a, then a murmur3 finalizer). */
export function hash01(parts: readonly string[]): number {
  let h = 0x811c9dc5;
  for (const ch of parts.join('\u0000')) {
    h ^= ch.codePointAt(0) ?? 0;
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}
