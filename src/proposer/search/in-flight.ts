/**
 * Keeping the search clear of changes in flight. A change made on the same line as one queued or
 * running ends `conflict` when that one is kept (it can no longer be re-applied), and the same
 * change twice is a wasted run; so the search prefers constants on lines nothing in flight
 * touches (ProposalContext.inFlight), and remembers the moves its own concurrent calls chose
 * until the history shows them (`Claims`).
 *
 * Contract: `busy` is a pure function of the in-flight list. `Claims` holds only moves that the
 * context does not show yet: a claim is dropped once the history has it finished, so a caller
 * that calls one at a time (each proposal recorded before the next call) gets the same choices
 * as without claims.
 */
import type { Experiment } from '../../ledger/types.js';
import type { InFlight } from '../types.js';
import { constantKey, moveKey, parseChange } from './history.js';

export interface Busy {
  /** file -> 1-based line numbers touched by a change in flight. */
  lines: Map<string, Set<number>>;
  /** constantKey of every constant a search change in flight sets. */
  names: Set<string>;
}

export function busy(inFlight: readonly InFlight[]): Busy {
  const out: Busy = { lines: new Map(), names: new Set() };
  for (const f of inFlight) {
    for (const [file, lines] of Object.entries(f.lines)) {
      const set = out.lines.get(file) ?? new Set<number>();
      for (const n of lines) set.add(n);
      out.lines.set(file, set);
    }
    const c = parseChange(f.change);
    if (c) out.names.add(constantKey(c));
  }
  return out;
}

/** True when a constant at 0-based `line` of `file` is touched by a change in flight. */
export function isBusy(b: Busy, m: { file: string; name: string }, line: number): boolean {
  return b.names.has(constantKey(m)) || (b.lines.get(m.file)?.has(line + 1) ?? false);
}

interface Claim {
  key: string;
  file: string;
  name: string;
  line: number;
}

const MAX_PARENTS = 16;

/** Moves chosen by calls whose proposals the context may not show yet, per parent commit. */
export class Claims {
  private readonly byParent = new Map<string, Claim[]>();

  /** Forgets the claims `history` shows finished; returns those still open for `parent`. */
  open(parent: string, history: readonly Experiment[]): Claim[] {
    const done = new Set<string>();
    for (const e of history) {
      if (e.baseline || e.status === 'running') continue;
      const c = parseChange(e.change);
      if (c) done.add(JSON.stringify([e.parentCommit, moveKey(c)]));
    }
    for (const [p, claims] of this.byParent) {
      const left = claims.filter((c) => !done.has(JSON.stringify([p, c.key])));
      if (left.length) this.byParent.set(p, left);
      else this.byParent.delete(p);
    }
    return this.byParent.get(parent) ?? [];
  }

  add(parent: string, claim: Claim): void {
    const list = this.byParent.get(parent) ?? [];
    this.byParent.delete(parent); // most recent last
    this.byParent.set(parent, [...list, claim]);
    while (this.byParent.size > MAX_PARENTS) this.byParent.delete(this.byParent.keys().next().value!);
  }
}

/** The claims as in-flight entries (for `busy`). */
export function claimsAsInFlight(parent: string, claims: readonly Claim[]): InFlight[] {
  return claims.map((c) => ({
    number: null,
    description: '',
    parentCommit: parent,
    diff: '',
    lines: { [c.file]: [c.line + 1] },
    change: { file: c.file, name: c.name, to: '' },
  }));
}
