/**
 * Ledger seam: the durable record of studies and experiments.
 *
 * Contract (every backend: SQLite now, PostgreSQL later; see ledger.contract.ts):
 * - Every method is async and safe to call from several processes on the same ledger
 *   (SQLite in WAL mode with a busy timeout; PostgreSQL with transactions).
 * - Writes are durable when the promise resolves: the loop writes the ledger before it moves git,
 *   so after a `kill -9` the ledger is never behind git.
 * - `createExperiment` assigns numbers atomically: per study 0, 1, 2, ... with no gaps and no
 *   duplicates, even with concurrent callers.
 * - `finishExperiment` is one transaction: the experiment's final fields and, for a keep, the
 *   study's best commit/value change together or not at all.
 * - Returned objects are plain data, fresh copies; mutating them changes nothing.
 * - Methods reject with `LedgerError` for misuse (unknown id, finishing a finished experiment).
 * - Several hosts (PostgreSQL; see DESIGN.md: the ledger is the one source of truth):
 *   `keepIfBest` moves the best only from the best the caller judged against (compare-and-set,
 *   one transaction), so two hosts never both keep onto the same best; every running experiment
 *   may carry a lease (`host`, `leaseUntil`) that its host renews (`renewLeases`) and that
 *   another host may take (`claimExperiment`) only once it has expired. Lease times are on the
 *   ledger's clock (the database server's for PostgreSQL), so hosts' clocks need not agree.
 */
export type Direction = 'minimize' | 'maximize';

/**
 * Final statuses: the original's keep/discard/crash, plus timeout, rejected (touched a file it
 * may not, or changed nothing) and conflict (a change made on an older best that could not be
 * re-applied onto the current best).
 */
export type FinalStatus = 'keep' | 'discard' | 'crash' | 'timeout' | 'rejected' | 'conflict';
/** `running` = started and not finished (a kill -9 can leave one behind; `run` resumes it). */
export type ExperimentStatus = FinalStatus | 'running';

export interface StudySpec {
  tag: string;
  branch: string;
  metric: string;
  direction: Direction;
  /** Commit the study started from (the user's HEAD). */
  baseCommit: string;
  /** sha256 of each protected file at baseCommit, path -> hex. */
  protectedHashes: Record<string, string>;
  /** The resolved config, as JSON, for the record. */
  config: unknown;
}

export interface Study extends StudySpec {
  id: number;
  createdAt: number; // epoch ms
  /** Current best (frontier) commit: the last keep, or the baseline commit; null before baseline. */
  bestCommit: string | null;
  bestValue: number | null;
  /** Experiment number of the current best. */
  bestNumber: number | null;
  /** The noise floor measured at the start (the baseline repeated), when measured. */
  noise: NoiseFloor | null;
}

/**
 * Run-to-run spread of the metric on unchanged code: measured by repeating the baseline, then
 * learnt from every repeated measurement of one commit during the study (src/judge/pooled-noise.ts).
 * The optional fields came later: a ledger without them reads as the baseline alone.
 */
export interface NoiseFloor {
  /** Standard deviation: pooled over every commit measured more than once (the baseline's alone at first). */
  sigma: number;
  /** The baseline's runs. */
  runs: number[];
  /** Degrees of freedom of `sigma` (sum over commits of runs - 1); absent: runs.length - 1. */
  df?: number;
  /** 95% confidence interval on sigma. */
  low?: number;
  high?: number;
  /** Commits measured more than once that `sigma` pools, and their runs in all. */
  commits?: number;
  samples?: number;
}

/** How a decision was reached: every run of the candidate and what it was compared with. */
export interface Evidence {
  /** Objective values of each run of this experiment (first run, then confirmation runs). */
  runs: number[];
  mean: number;
  /** Sample standard deviation of `runs` (0 for one run). */
  spread: number;
  /** The best it was compared with (mean over the best's runs) and how many runs that mean has. */
  bestMean?: number;
  bestRuns?: number;
  /** The gain it had to clear. */
  threshold?: number;
  /**
   * Paired seeds ([judge] paired): the best's value on the seed of each of `runs` (same order);
   * the decision used the differences. The seeds themselves are in `paired-seeds` study records.
   */
  pairedBest?: number[];
  /** When it started from an older best and was re-applied onto the current one. */
  rebased?: { fromParent: string; fromCommit: string | null; runs: number[] };
}

/** One crash-repair attempt of an experiment (the crash it fixed and the fix). */
export interface RepairAttempt {
  attempt: number;
  crashReason: string;
  description: string;
  diff: string;
  outcome?: string;
}

/** A new experiment; any `ExperimentPatch` field may be set at creation too (one write). */
export interface NewExperiment extends ExperimentPatch {
  /** True for the baseline run (unchanged code). */
  baseline: boolean;
  /** Commit the change is made on (the best at the time). */
  parentCommit: string;
  /** Proposer name, e.g. "search" or "anthropic:claude-sonnet-4-5"; "baseline" for baselines. */
  proposer: string;
  startedAt?: number;
  /** Held by this host from creation, for `ms` (see `Ledger.claimExperiment`). */
  lease?: { host: string; ms: number };
}

/** Fields filled in while an experiment goes on (each optional; undefined = leave as is). */
export interface ExperimentPatch {
  description?: string;
  /** Unified diff of the change against parentCommit (kept for discarded ones too). */
  diff?: string;
  /** Proposer-specific structured record of the change (e.g. {file, name, from, to}). */
  change?: unknown;
  commit?: string | null;
  /** Process group of the running command (so a resumed study can kill a survivor). */
  pgid?: number | null;
  logPath?: string;
  proposeMs?: number;
  /** How many times this experiment was (re)started (1 normally; +1 per resume). */
  attempts?: number;
  /** Proposer usage: tokens and cost. */
  usage?: { inputTokens?: number; outputTokens?: number; costUsd?: number } | null;
  /** Commit the change is based on (changes when a stale change is re-applied on the best). */
  parentCommit?: string;
  /** Slot (GPU / CPU share) the experiment runs in. */
  slot?: number | null;
  evidence?: Evidence | null;
  repairs?: RepairAttempt[];
}

export interface ExperimentResult {
  status: FinalStatus;
  /** Objective value when the run produced one. */
  value: number | null;
  /** All parsed metrics. */
  metrics: Record<string, number>;
  /** Human reason: why rejected / crashed / discarded / kept. */
  reason?: string;
  logTail?: string;
  exitCode?: number | null;
  runMs?: number | null;
  endedAt?: number;
  /** Environment facts for this run (e.g. {gpu: "NVIDIA H100", gpuCount: 1, host}). */
  env?: Record<string, unknown>;
  /** How the judge decided (runs, mean, spread, threshold). */
  evidence?: Evidence | null;
}

export interface Experiment {
  id: number;
  studyId: number;
  number: number;
  baseline: boolean;
  status: ExperimentStatus;
  parentCommit: string;
  commit: string | null;
  description: string;
  diff: string;
  change: unknown;
  proposer: string;
  value: number | null;
  metrics: Record<string, number>;
  reason: string;
  logPath: string | null;
  logTail: string;
  exitCode: number | null;
  pgid: number | null;
  attempts: number;
  usage: { inputTokens?: number; outputTokens?: number; costUsd?: number } | null;
  env: Record<string, unknown>;
  startedAt: number;
  endedAt: number | null;
  proposeMs: number | null;
  runMs: number | null;
  slot: number | null;
  evidence: Evidence | null;
  repairs: RepairAttempt[];
  /** Host id of the host that holds (or last held) it; null when never leased. */
  host: string | null;
  /** Until when `host` holds it (epoch ms, the ledger's clock); null when never leased. */
  leaseUntil: number | null;
}

/** What a compare-and-set keep did (see `Ledger.keepIfBest`). */
export type KeepOutcome =
  | { kind: 'kept'; experiment: Experiment; study: Study }
  /** The best is not the expected one any more: nothing was written; `study` has the best now. */
  | { kind: 'best-moved'; study: Study }
  /** `holder` was given and another host holds the experiment now: nothing was written. */
  | { kind: 'lease-lost'; holder: string | null };

export interface Ledger {
  /** Creates the study, or returns the existing one with this tag (spec ignored then). */
  openStudy(spec: StudySpec): Promise<Study>;
  getStudy(tag: string): Promise<Study | null>;
  /** Records the study's noise floor. */
  setStudyNoise(studyId: number, noise: NoiseFloor): Promise<Study>;
  listStudies(): Promise<Study[]>;
  createExperiment(studyId: number, e: NewExperiment): Promise<Experiment>;
  updateExperiment(id: number, patch: ExperimentPatch): Promise<Experiment>;
  /**
   * Records the outcome. When `result.status` is 'keep' (a baseline that ran ok is recorded as
   * 'keep', as in the original), the study's best becomes this experiment's commit (parentCommit
   * when commit is null, as for a baseline), value and number, in the same transaction.
   * Several hosts: with `holder`, a compare-and-set on the lease: it finishes only while the
   * experiment is still held by that host (its `host`; an expired lease that no other host took
   * is still its own), else writes nothing and rejects with `LeaseLostError` (the host that took
   * it over records it: nothing is recorded twice).
   */
  finishExperiment(id: number, result: ExperimentResult, holder?: string): Promise<Experiment>;
  /**
   * Compare-and-set keep, one transaction: when the study's best commit is still `expectBest`
   * (null: the study has no best yet, as before the baseline), finishes the experiment as 'keep'
   * and moves the best to it, as `finishExperiment` does; otherwise writes nothing and returns
   * 'best-moved' with the study as it is now (the experiment stays running, for the caller to
   * judge again on the new best). Of N callers keeping onto the same best at once, exactly one
   * gets 'kept'. Rejects with LedgerError for misuse, as `finishExperiment`. With `holder`, also
   * a compare-and-set on the lease, as `finishExperiment`: 'lease-lost' (nothing written) when
   * another host holds the experiment now.
   */
  keepIfBest(
    id: number,
    result: Omit<ExperimentResult, 'status'>,
    expectBest: string | null,
    holder?: string,
  ): Promise<KeepOutcome>;
  /**
   * Takes (or renews) the lease of a running experiment for `host`, for `leaseMs` from now,
   * when it is free: never leased, already this host's, or its lease has expired. Returns the
   * experiment, or null when another host's lease is still live or it is finished (nothing
   * written then). Compare-and-set: of hosts claiming one expired experiment at once, one wins.
   */
  claimExperiment(id: number, host: string, leaseMs: number): Promise<Experiment | null>;
  /**
   * Heartbeat: extends to now + `leaseMs` the lease of every running experiment of the study
   * that `host` holds. Returns the ids it still holds (an id missing from the answer was taken
   * over by another host after this one's lease expired: stop working on it).
   */
  renewLeases(studyId: number, host: string, leaseMs: number): Promise<number[]>;
  getExperiment(id: number): Promise<Experiment | null>;
  /** All experiments of a study ordered by number. */
  listExperiments(studyId: number): Promise<Experiment[]>;
  /**
   * Study records: study-scoped JSON documents that are not experiments (journal notes, ablation
   * and transfer runs, ...), addressed by `(kind, key)`. `putRecord` inserts or replaces (one
   * write, atomic); `value` must be JSON-serialisable. Rejects with a LedgerError for an unknown
   * study.
   */
  putRecord(studyId: number, kind: string, key: string, value: unknown): Promise<StudyRecord>;
  getRecord(studyId: number, kind: string, key: string): Promise<StudyRecord | null>;
  /** All records of one kind, ordered by key. */
  listRecords(studyId: number, kind: string): Promise<StudyRecord[]>;
  /** Removes a record; true when one was removed. */
  deleteRecord(studyId: number, kind: string, key: string): Promise<boolean>;
  close(): Promise<void>;
}

/** A study record (see `Ledger.putRecord`). */
export interface StudyRecord {
  kind: string;
  key: string;
  value: unknown;
  updatedAt: number; // epoch ms
}

export class LedgerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LedgerError';
  }
}

/**
 * A finish refused because another host holds the experiment's lease now (`finishExperiment`
 * with a `holder`): this host lost it (cut off from the ledger longer than the lease) and the
 * other host re-runs and records it.
 */
export class LeaseLostError extends LedgerError {
  constructor(
    message: string,
    /** The host that holds it now. */
    readonly holder: string | null,
  ) {
    super(message);
    this.name = 'LeaseLostError';
  }
}

/**
 * The ledger's server could not be reached (connection refused, reset or timed out; PostgreSQL
 * only): a transient failure, the same call may succeed once it is back (see ./waiting.ts).
 */
export class LedgerUnreachableError extends LedgerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LedgerUnreachableError';
  }
}
