/**
 * The frontier: the study's current best commit and the estimate of every kept commit's metric
 * (mean over its runs), shared by all slots of one `run`. Decisions go through `lock` so that two
 * slots never both keep on the same best.
 *
 * Several hosts (a shared PostgreSQL ledger): the ledger's best is the truth. `sync` re-reads it
 * (before each decision, proposal and placement) and, when another host moved it, rebuilds that
 * host's commits locally from the ledger (../workspace/materialise.ts) and moves the study branch
 * there; `advance` is a compare-and-set on the best this host judged against, so two hosts never
 * both keep onto the same best: the loser learns it ('best-moved') and judges again.
 *
 * Contract: `advance` writes the ledger first (the keep), then moves the study branch: after a
 * kill between the two, setup moves the branch to the ledger's best. `sync` throws only when the
 * ledger's best can't be rebuilt here (a message that says why) or git/the ledger fail.
 */
import type { Experiment, ExperimentResult, Ledger, Study } from '../ledger/types.js';
import { Mutex } from '../scheduler/async-queue.js';
import { type CommitRecipe, materialise } from '../workspace/materialise.js';
import type { Workspace } from '../workspace/workspace.js';
import type { BestSoFar } from './events.js';
import { MEASUREMENT, type MeasurementRecord } from './measurement.js';

export interface Estimate {
  commit: string;
  number: number;
  mean: number;
  runs: number;
}

export type Advanced =
  | { kind: 'kept'; experiment: Experiment }
  | { kind: 'best-moved'; best: Estimate | null }
  /** Several hosts: `holder` was given and another host took the experiment over; nothing written. */
  | { kind: 'lease-lost'; holder: string | null };

export class Frontier {
  readonly lock = new Mutex();
  /** Every kept commit's estimate: its own runs, and its re-measurements (`addRuns`). */
  private readonly estimates = new Map<string, Estimate>();
  /** Every kept commit's estimate from its own runs alone (as recorded with the keep). */
  private readonly kept = new Map<string, Estimate>();
  private best: Estimate | null = null;

  constructor(
    private study: Study,
    experiments: Experiment[],
    private readonly ledger: Ledger,
    private readonly workspace: Workspace,
  ) {
    for (const e of experiments) if (e.status === 'keep' && e.value !== null) this.remember(e);
    this.best = this.bestOf(study);
  }

  get current(): Estimate | null {
    return this.best;
  }

  get currentStudy(): Study {
    return this.study;
  }

  bestSoFar(): BestSoFar | null {
    return this.best ? { number: this.best.number, commit: this.best.commit, value: this.best.mean } : null;
  }

  /** The estimate of a commit that was once the best (the base of a stale experiment). */
  estimateOf(commit: string): Estimate | null {
    return this.estimates.get(commit) ?? null;
  }

  /**
   * Folds more runs of a kept commit into its estimate (a re-measurement of a new best on fresh
   * seeds, ./remeasure.ts): its mean is then the mean over all its runs. Call inside `lock`.
   */
  addRuns(commit: string, runs: readonly number[]): Estimate | null {
    const e = this.estimates.get(commit);
    if (!e || runs.length === 0) return e ?? null;
    const next = {
      ...e,
      mean: (e.mean * e.runs + runs.reduce((s, x) => s + x, 0)) / (e.runs + runs.length),
      runs: e.runs + runs.length,
    };
    this.estimates.set(commit, next);
    if (this.best?.commit === commit) this.best = next;
    return next;
  }

  /**
   * Records a keep (ledger, compare-and-set on the best this frontier holds), then moves the
   * study branch to it (git). 'best-moved': another host kept first; nothing was written, the
   * frontier now holds the new best (synced). With `holder` (this host, on a shared ledger),
   * only while it holds the experiment's lease: 'lease-lost' otherwise. Call inside `lock`.
   */
  async advance(
    exp: Experiment,
    result: Omit<ExperimentResult, 'status'>,
    commit: string,
    holder?: string,
  ): Promise<Advanced> {
    const r = await this.ledger.keepIfBest(exp.id, result, this.best?.commit ?? null, holder);
    if (r.kind === 'lease-lost') return r;
    if (r.kind === 'best-moved') {
      await this.sync();
      return { kind: 'best-moved', best: this.best };
    }
    this.study = r.study;
    this.remember(r.experiment);
    this.best = this.estimates.get(commit)!;
    await this.workspace.setBranch(this.study.branch, commit);
    return { kind: 'kept', experiment: r.experiment };
  }

  async refresh(): Promise<Study> {
    this.study = (await this.ledger.getStudy(this.study.tag))!;
    return this.study;
  }

  /**
   * Re-reads the study (its noise estimate too) and every kept commit's estimate from the ledger:
   * the keeps and their re-measurements (./remeasure.ts), whichever host made them, so that a
   * decision here uses what any host measured. When the best moved (another host kept), rebuilds
   * the new best's commits here and moves the study branch to it. Returns true when the best
   * moved. Call inside `lock` (or use `synced`).
   */
  async sync(): Promise<boolean> {
    const study = await this.refresh();
    const target = study.bestCommit;
    const moved = target !== null && target !== (this.best?.commit ?? null);
    // the experiments only when the best moved (a keep always moves it); re-measurements always
    const all = moved ? await this.ledger.listExperiments(study.id) : [];
    for (const e of all) if (e.status === 'keep' && e.value !== null) this.remember(e);
    const remeasured = await this.ledger.listRecords(study.id, MEASUREMENT);
    this.estimates.clear();
    for (const [commit, e] of this.kept) this.estimates.set(commit, e);
    for (const r of remeasured) {
      const m = r.value as Partial<MeasurementRecord>;
      if (m.source === 'remeasure' && typeof m.commit === 'string' && Array.isArray(m.runs))
        this.addRuns(
          m.commit,
          m.runs.filter((x) => typeof x === 'number' && Number.isFinite(x)),
        );
    }
    if (!moved || target === null) {
      if (this.best) this.best = this.estimates.get(this.best.commit) ?? this.best;
      return false;
    }
    const made = await materialise(this.workspace.git, target, recipes(all));
    if (!made.ok) {
      throw new Error(
        `another host moved the best of study "${study.tag}" to #${study.bestNumber}, but it can't be rebuilt here: ${made.reason}`,
      );
    }
    this.best = this.bestOf(study);
    await this.workspace.setBranch(study.branch, target);
    return true;
  }

  /**
   * Several hosts: rebuilds an experiment's own commit here (one taken over from another host),
   * so that placing it moves a real commit three-way; false when it can't (placing then falls
   * back to its stored diff, as for a commit lost to `git gc`).
   */
  async materialiseExperiment(exp: Experiment): Promise<boolean> {
    if (!exp.commit) return false;
    const known = recipes(await this.ledger.listExperiments(exp.studyId));
    const own = { commit: exp.commit, parent: exp.parentCommit, diff: exp.diff, message: exp.description };
    const made = await materialise(this.workspace.git, exp.commit, (c) => (c === exp.commit ? own : known(c)));
    return made.ok;
  }

  /** `sync` under the lock. */
  synced(): Promise<boolean> {
    return this.lock.run(() => this.sync());
  }

  private bestOf(study: Study): Estimate | null {
    if (!study.bestCommit || study.bestValue === null || study.bestNumber === null) return null;
    return (
      this.estimates.get(study.bestCommit) ?? {
        commit: study.bestCommit,
        number: study.bestNumber,
        mean: study.bestValue,
        runs: 1,
      }
    );
  }

  private remember(e: Experiment): void {
    const commit = e.commit ?? e.parentCommit;
    const own = { commit, number: e.number, mean: e.value!, runs: e.evidence?.runs.length ?? 1 };
    this.kept.set(commit, own);
    this.estimates.set(commit, own);
  }
}

/** How each kept commit of the study was made, from the ledger (for ../workspace/materialise.ts). */
export function recipes(all: readonly Experiment[]): (commit: string) => CommitRecipe | null {
  const byCommit = new Map<string, CommitRecipe>();
  for (const e of all)
    if (e.status === 'keep' && e.commit && !e.baseline)
      byCommit.set(e.commit, { commit: e.commit, parent: e.parentCommit, diff: e.diff, message: e.description });
  return (c) => byCommit.get(c) ?? null;
}

/** Rebuilds `commit` (a best another host kept) and what it stands on from the study's ledger. */
export async function materialiseFromLedger(
  workspace: Workspace,
  ledger: Ledger,
  study: Study,
  commit: string,
): ReturnType<typeof materialise> {
  return materialise(workspace.git, commit, recipes(await ledger.listExperiments(study.id)));
}
