/**
 * Paired seeds (`[judge] paired = true`): every best gets its own list of seeds, drawn by the
 * harness when the best is first compared with (never shown to a proposer), recorded in the ledger
 * before any run uses it. A candidate's run i runs on seed i of its base's list; the best's value
 * on each seed is measured once (its baseline runs, its re-measurement after the keep, or one run
 * when a candidate first needs that seed) and reused for every candidate compared with that best.
 * A new best gets a fresh list: seeds a proposer might have learnt while one best stood (a change
 * that prints AUTORESEARCH_SEED into its log) are never used again once the best moves.
 *
 * Ledger records (study records): `paired-seeds` / <commit> = {commit, number, seeds} and
 * `paired-value` / <commit>.<seed> = {commit, seed, value} (one record per value: no
 * read-modify-write, so concurrent slots and hosts never lose one). On resume both are read back.
 *
 * The standard deviation of the paired differences (what the judge's test uses) is pooled over
 * every decided paired comparison with two or more seeds (`evidence.pairedBest`), each around its
 * own mean, plus the candidate's own differences so far; while that has fewer degrees of freedom
 * than the study's noise estimate, the judge uses sqrt(2) x the runs' sigma instead (the
 * difference of two independent runs: no credit for pairing until pairing has shown its worth).
 *
 * Contract: ledger failures propagate; nothing here runs code.
 */
import { randomInt } from 'node:crypto';
import type { Config } from '../config/load.js';
import { pairedDiffNoise } from '../judge/pooled-noise.js';
import type { Experiment, Ledger, NoiseFloor } from '../ledger/types.js';

/** Whether a study pairs its seeds: `[judge] paired` with the sequential judge and drawn seeds. */
export function pairedOf(config: Config): boolean {
  const j = config.judge;
  return j.paired && j.kind === 'sequential' && j.vary_seed && j.seeds === 'drawn';
}

/** Seeds per best: a candidate's most runs, the baseline's runs, the re-measurement's. */
export function pairedCount(config: Config): number {
  const j = config.judge;
  return Math.max(j.max_runs, j.noise_runs, j.remeasure_runs);
}

export const PAIRED_SEEDS = 'paired-seeds';
export const PAIRED_VALUE = 'paired-value';

export interface PairedSeedsRecord {
  commit: string;
  /** The experiment whose commit is the best (0 for the baseline). */
  number: number;
  seeds: number[];
}

export interface PairedValueRecord {
  commit: string;
  seed: number;
  value: number;
}

export class PairedSeeds {
  private readonly lists = new Map<string, number[]>();
  private readonly values = new Map<string, number>();
  private readonly drawing = new Map<string, Promise<number[]>>();

  private constructor(
    private readonly ledger: Ledger,
    private readonly studyId: number,
    /** Seeds per best: enough for a candidate's most runs, the baseline's and the re-measurement's. */
    readonly count: number,
    private readonly draw: () => number,
  ) {}

  /** Reads back the recorded lists and values (resume). `draw` is for tests only. */
  static async load(
    ledger: Ledger,
    studyId: number,
    count: number,
    draw: () => number = () => randomInt(1, 2 ** 31 - 1),
  ): Promise<PairedSeeds> {
    const p = new PairedSeeds(ledger, studyId, count, draw);
    await p.reload();
    return p;
  }

  /** Re-reads the ledger (another host may have drawn a list or measured a value). */
  async reload(): Promise<void> {
    for (const r of await this.ledger.listRecords(this.studyId, PAIRED_SEEDS)) {
      const v = r.value as Partial<PairedSeedsRecord>;
      if (typeof v.commit === 'string' && Array.isArray(v.seeds)) this.lists.set(v.commit, v.seeds);
    }
    for (const r of await this.ledger.listRecords(this.studyId, PAIRED_VALUE)) {
      const v = r.value as Partial<PairedValueRecord>;
      if (typeof v.commit === 'string' && typeof v.seed === 'number' && Number.isFinite(v.value))
        this.values.set(`${v.commit}.${v.seed}`, v.value as number);
    }
  }

  /** The best's seed list: the recorded one, else drawn now and recorded before it is returned. */
  seedsOf(commit: string, number: number): Promise<number[]> {
    const have = this.lists.get(commit);
    if (have && have.length >= this.count) return Promise.resolve(have);
    let p = this.drawing.get(commit);
    if (!p) {
      p = (async () => {
        // another host (a shared ledger) may have drawn this best's list already: use it
        const stored = (await this.ledger.getRecord(this.studyId, PAIRED_SEEDS, commit))?.value as
          | Partial<PairedSeedsRecord>
          | undefined;
        const seeds = [...(Array.isArray(stored?.seeds) ? stored.seeds : (have ?? []))];
        if (seeds.length >= this.count) {
          this.lists.set(commit, seeds);
          return seeds;
        }
        while (seeds.length < this.count) {
          const s = this.draw();
          if (!seeds.includes(s)) seeds.push(s);
        }
        const rec: PairedSeedsRecord = { commit, number, seeds };
        await this.ledger.putRecord(this.studyId, PAIRED_SEEDS, commit, rec);
        this.lists.set(commit, seeds);
        return seeds;
      })().finally(() => this.drawing.delete(commit));
      this.drawing.set(commit, p);
    }
    return p;
  }

  /** The recorded seed list of a best (undefined before `seedsOf` drew it). */
  listOf(commit: string): readonly number[] | undefined {
    return this.lists.get(commit);
  }

  /**
   * The best's values on the seeds of a candidate's first `n` runs; null when one is not measured
   * (its run failed): that candidate is then judged unpaired.
   */
  bestValues(commit: string, n: number): number[] | null {
    const seeds = this.lists.get(commit);
    if (!seeds || seeds.length < n) return null;
    const out: number[] = [];
    for (const s of seeds.slice(0, n)) {
      const v = this.valueOf(commit, s);
      if (v === undefined) return null;
      out.push(v);
    }
    return out;
  }

  /** The best's value on one of its seeds, once measured. */
  valueOf(commit: string, seed: number): number | undefined {
    return this.values.get(`${commit}.${seed}`);
  }

  /** Records a measured value of `commit` on `seed` (ledger first). The first value wins. */
  async record(commit: string, seed: number, value: number): Promise<void> {
    const key = `${commit}.${seed}`;
    if (this.values.has(key)) return;
    const rec: PairedValueRecord = { commit, seed, value };
    await this.ledger.putRecord(this.studyId, PAIRED_VALUE, key, rec);
    this.values.set(key, value);
  }
}

/**
 * The paired differences' standard deviation for a decision (../judge/pooled-noise.ts
 * `pairedDiffNoise`): the decided paired comparisons (`evidence.pairedBest`) and the candidate's
 * own differences so far.
 */
export function pairedNoise(
  all: readonly Experiment[],
  own: { runs: readonly number[]; best: readonly number[] } | null,
  runNoise: NoiseFloor | null,
): NoiseFloor | null {
  const diffs: number[][] = [];
  for (const e of all) {
    const ev = e.evidence;
    if (ev?.pairedBest && ev.pairedBest.length === ev.runs.length)
      diffs.push(ev.runs.map((x, i) => x - ev.pairedBest![i]!));
  }
  if (own) diffs.push(own.runs.map((x, i) => x - own.best[i]!));
  return pairedDiffNoise(diffs, runNoise);
}
