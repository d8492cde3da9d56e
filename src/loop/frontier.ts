/**
 * The frontier: the study's current best commit and the estimate of every kept commit's metric
 * (mean over its runs), shared by all slots of one `run`. Decisions go through `lock` so that two
 * slots never both keep on the same best.
 *
 * Contract: `advance` writes the ledger first (the keep), then moves the study branch: after a
 * kill between the two, setup moves the branch to the ledger's best.
 */
import type { Experiment, ExperimentResult, Ledger, Study } from '../ledger/types.js';
import { Mutex } from '../scheduler/async-queue.js';
import type { Workspace } from '../workspace/workspace.js';
import type { BestSoFar } from './events.js';

export interface Estimate {
  commit: string;
  number: number;
  mean: number;
  runs: number;
}

export class Frontier {
  readonly lock = new Mutex();
  private readonly estimates = new Map<string, Estimate>();
  private best: Estimate | null = null;

  constructor(
    private study: Study,
    experiments: Experiment[],
    private readonly ledger: Ledger,
    private readonly workspace: Workspace,
  ) {
    for (const e of experiments) if (e.status === 'keep' && e.value !== null) this.remember(e);
    if (study.bestCommit && study.bestValue !== null && study.bestNumber !== null) {
      this.best = this.estimates.get(study.bestCommit) ?? {
        commit: study.bestCommit,
        number: study.bestNumber,
        mean: study.bestValue,
        runs: 1,
      };
    }
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

  /** Records a keep (ledger), then moves the study branch to it (git). Call inside `lock`. */
  async advance(exp: Experiment, result: ExperimentResult, commit: string): Promise<Experiment> {
    const done = await this.ledger.finishExperiment(exp.id, result);
    this.study = (await this.ledger.getStudy(this.study.tag))!;
    this.remember(done);
    this.best = this.estimates.get(commit)!;
    await this.workspace.setBranch(this.study.branch, commit);
    return done;
  }

  async refresh(): Promise<Study> {
    this.study = (await this.ledger.getStudy(this.study.tag))!;
    return this.study;
  }

  private remember(e: Experiment): void {
    const commit = e.commit ?? e.parentCommit;
    this.estimates.set(commit, { commit, number: e.number, mean: e.value!, runs: e.evidence?.runs.length ?? 1 });
  }
}
