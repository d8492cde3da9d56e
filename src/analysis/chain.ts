/**
 * The study's kept chain: the baseline commit, then every kept change in the order it was kept,
 * ending at the best. Read from the ledger (the truth), walking back from the best through each
 * keep's parent, so keeps that a later best no longer builds on (none today, but a hub may
 * move the frontier) are left out.
 *
 * Contract: `keptChain` never throws for a study in any state; a study without a baseline or with
 * no keep comes back with `changes: []` and the caller says what to do.
 */
import type { Experiment, Ledger, Study } from '../ledger/types.js';

export interface KeptChange {
  /** Experiment number of the keep. */
  number: number;
  description: string;
  /** The best it was kept on, and its own commit (the next step of the chain). */
  parent: string;
  commit: string;
  /** Its diff against `parent` (full context), for a re-apply when the commits are gone. */
  diff: string;
  /** Its value as the study measured it (the mean of its runs). */
  value: number | null;
  /** Runs behind `value`. */
  runs: number;
}

export interface Chain {
  baseCommit: string;
  /** The baseline's value as the study measured it (mean of its runs), and how many runs. */
  baseValue: number | null;
  baseRuns: number;
  changes: KeptChange[];
  /** The last change's commit (the study's best), or the base commit without a keep. */
  bestCommit: string;
}

export async function keptChain(ledger: Ledger, study: Study): Promise<Chain> {
  const all = await ledger.listExperiments(study.id);
  const base = all.find((e) => e.baseline && e.status === 'keep');
  const byCommit = new Map<string, Experiment>();
  for (const e of all) if (!e.baseline && e.status === 'keep' && e.commit) byCommit.set(e.commit, e);
  const changes: KeptChange[] = [];
  const seen = new Set<string>();
  let at = study.bestCommit;
  while (at && at !== study.baseCommit && !seen.has(at)) {
    seen.add(at);
    const e = byCommit.get(at);
    if (!e) break;
    changes.unshift({
      number: e.number,
      description: e.description,
      parent: e.parentCommit,
      commit: at,
      diff: e.diff,
      value: e.value,
      runs: e.evidence?.runs.length ?? 1,
    });
    at = e.parentCommit;
  }
  return {
    baseCommit: study.baseCommit,
    baseValue: base?.value ?? null,
    baseRuns: base?.evidence?.runs.length ?? 1,
    changes,
    bestCommit: changes.at(-1)?.commit ?? study.baseCommit,
  };
}
