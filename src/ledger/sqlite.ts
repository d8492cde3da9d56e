/**
 * SQLite ledger (the default backend), on better-sqlite3.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import { applySqliteMigrations } from './sqlite-migrate.js';
import {
  FINAL_STATUSES,
  PATCH_COLUMNS,
  finiteMetrics,
  finiteOrNull,
  leaseLost,
  recordJson,
  rowToExperiment,
  rowToRecord,
  rowToStudy,
  toJson,
  type Row,
} from './rows.js';
import type {
  Experiment,
  ExperimentPatch,
  ExperimentResult,
  KeepOutcome,
  Ledger,
  NewExperiment,
  NoiseFloor,
  Study,
  StudyRecord,
  StudySpec,
} from './types.js';
import { LedgerError } from './types.js';

/**
 * `Ledger` on one SQLite file, shareable by several processes.
 *
 * Contract (beyond `Ledger`): `open` creates the parent directories and the file, and migrates it;
 * the connection uses WAL (readers never block the writer), a 5 s busy timeout (a writer waits
 * for another process's transaction instead of failing), and foreign keys. Every write that must
 * be atomic with a read (numbering, finishing) runs in a BEGIN IMMEDIATE transaction, which takes
 * the write lock up front, so two processes can never read the same max(number). The driver is
 * synchronous; methods return promises so the interface also fits PostgreSQL. Driver failures
 * (disk full, lock wait timed out) reject with a LedgerError carrying the cause.
 * Choices the interface leaves open: `updateExperiment` also works on a finished experiment
 * (only finishing is one-shot); `listExperiments` of an unknown study is []; metrics that are
 * not finite numbers are dropped on finish, and a non-finite value is stored as null.
 */
export class SqliteLedger implements Ledger {
  private conn: BetterSqlite3.Database | null;

  private constructor(db: BetterSqlite3.Database) {
    this.conn = db;
  }

  /** Opens (creating if needed) and migrates the ledger at `path` (`:memory:` for tests). */
  static open(path: string): SqliteLedger {
    const memory = path === ':memory:';
    let db: BetterSqlite3.Database | null = null;
    try {
      if (!memory) mkdirSync(dirname(resolve(path)), { recursive: true });
      db = new Database(path);
      // Set first so every later statement, pragmas included, waits for other processes' locks.
      db.pragma('busy_timeout = 5000');
      setWal(db, memory);
      // synchronous = FULL: in WAL mode NORMAL already survives a kill -9 of this process (a
      // commit has written its frames to the WAL file in the OS page cache before it returns, and
      // the kernel keeps them when the process dies); NORMAL can lose the last commits only on a
      // power loss or OS crash. FULL also fsyncs the WAL at each commit, which closes that gap
      // ("durable when the promise resolves") for a few ms per write; the loop writes a handful
      // of rows per multi-minute experiment, so the cost is nothing.
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      applySqliteMigrations(db);
      return new SqliteLedger(db);
    } catch (err) {
      db?.close();
      if (err instanceof LedgerError) throw err;
      throw new LedgerError(`cannot open SQLite ledger ${path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  async openStudy(spec: StudySpec): Promise<Study> {
    return this.guard('openStudy', (db) => {
      db.prepare(
        `INSERT INTO studies (tag, branch, metric, direction, base_commit, protected_hashes, config,
           created_at)
         VALUES (@tag, @branch, @metric, @direction, @baseCommit, @protectedHashes, @config, @now)
         ON CONFLICT (tag) DO NOTHING`,
      ).run({
        tag: spec.tag,
        branch: spec.branch,
        metric: spec.metric,
        direction: spec.direction,
        baseCommit: spec.baseCommit,
        protectedHashes: JSON.stringify(spec.protectedHashes ?? {}),
        config: JSON.stringify(spec.config ?? null),
        now: Date.now(),
      });
      const row = db.prepare('SELECT * FROM studies WHERE tag = ?').get(spec.tag) as Row;
      return rowToStudy(row);
    });
  }

  async getStudy(tag: string): Promise<Study | null> {
    return this.guard('getStudy', (db) => {
      const row = db.prepare('SELECT * FROM studies WHERE tag = ?').get(tag) as Row | undefined;
      return row ? rowToStudy(row) : null;
    });
  }

  async setStudyNoise(studyId: number, noise: NoiseFloor): Promise<Study> {
    return this.guard('setStudyNoise', (db) => {
      const row = db
        .prepare('UPDATE studies SET noise = ? WHERE id = ? RETURNING *')
        .get(JSON.stringify(noise), studyId) as Row | undefined;
      if (!row) throw new LedgerError(`unknown study id ${studyId}`);
      return rowToStudy(row);
    });
  }

  async listStudies(): Promise<Study[]> {
    return this.guard('listStudies', (db) =>
      (db.prepare('SELECT * FROM studies ORDER BY id').all() as Row[]).map(rowToStudy),
    );
  }

  async createExperiment(studyId: number, e: NewExperiment): Promise<Experiment> {
    return this.guard('createExperiment', (db) => {
      // IMMEDIATE holds the database write lock from the first read, so max(number) can't move
      // under us. PostgreSQL needs the equivalent explicitly: lock the study row first
      // (SELECT ... FROM studies WHERE id = $1 FOR UPDATE). UNIQUE(study_id, number) backs both.
      const tx = db.transaction((): Row => {
        if (!db.prepare('SELECT id FROM studies WHERE id = ?').get(studyId)) {
          throw new LedgerError(`unknown study id ${studyId}`);
        }
        const { next } = db
          .prepare('SELECT COALESCE(MAX(number), -1) + 1 AS next FROM experiments WHERE study_id = ?')
          .get(studyId) as { next: number };
        const row = db
          .prepare(
            `INSERT INTO experiments (study_id, number, baseline, status, parent_commit, proposer,
               attempts, started_at, host, lease_until)
             VALUES (?, ?, ?, 'running', ?, ?, 1, ?, ?, ?)
             RETURNING *`,
          )
          .get(
            studyId,
            next,
            e.baseline ? 1 : 0,
            e.parentCommit,
            e.proposer,
            e.startedAt ?? Date.now(),
            e.lease?.host ?? null,
            e.lease ? Date.now() + e.lease.ms : null,
          ) as Row;
        const { sets, values } = patchSql({ ...e, parentCommit: undefined });
        if (sets.length === 0) return row;
        return db
          .prepare(`UPDATE experiments SET ${sets.join(', ')} WHERE id = ? RETURNING *`)
          .get(...values, row.id) as Row;
      });
      return rowToExperiment(tx.immediate());
    });
  }

  async updateExperiment(id: number, patch: ExperimentPatch): Promise<Experiment> {
    return this.guard('updateExperiment', (db) => {
      const { sets, values } = patchSql(patch);
      const row = (
        sets.length === 0
          ? db.prepare('SELECT * FROM experiments WHERE id = ?').get(id)
          : db.prepare(`UPDATE experiments SET ${sets.join(', ')} WHERE id = ? RETURNING *`).get(...values, id)
      ) as Row | undefined;
      if (!row) throw new LedgerError(`unknown experiment id ${id}`);
      return rowToExperiment(row);
    });
  }

  async finishExperiment(id: number, result: ExperimentResult, holder?: string): Promise<Experiment> {
    return this.guard('finishExperiment', (db) => {
      if (!FINAL_STATUSES.has(result.status)) {
        throw new LedgerError(`invalid final status ${JSON.stringify(result.status)}`);
      }
      return rowToExperiment(db.transaction(() => finishRow(db, id, result, holder)).immediate());
    });
  }

  async keepIfBest(
    id: number,
    result: Omit<ExperimentResult, 'status'>,
    expectBest: string | null,
    holder?: string,
  ): Promise<KeepOutcome> {
    return this.guard('keepIfBest', (db) => {
      const tx = db.transaction((): KeepOutcome => {
        const cur = db.prepare('SELECT study_id, host FROM experiments WHERE id = ?').get(id) as Row | undefined;
        if (!cur) throw new LedgerError(`unknown experiment id ${id}`);
        if (holder !== undefined && cur.host !== holder)
          return { kind: 'lease-lost', holder: (cur.host as string | null) ?? null };
        const study = () => rowToStudy(db.prepare('SELECT * FROM studies WHERE id = ?').get(cur.study_id) as Row);
        const before = study();
        if (before.bestCommit !== expectBest) return { kind: 'best-moved', study: before };
        const row = finishRow(db, id, { ...result, status: 'keep' });
        return { kind: 'kept', experiment: rowToExperiment(row), study: study() };
      });
      return tx.immediate();
    });
  }

  async claimExperiment(id: number, host: string, leaseMs: number): Promise<Experiment | null> {
    return this.guard('claimExperiment', (db) => {
      const now = Date.now();
      const row = db
        .prepare(
          `UPDATE experiments SET host = ?, lease_until = ?
           WHERE id = ? AND status = 'running'
             AND (host IS NULL OR host = ? OR lease_until IS NULL OR lease_until < ?)
           RETURNING *`,
        )
        .get(host, now + leaseMs, id, host, now) as Row | undefined;
      if (row) return rowToExperiment(row);
      if (!db.prepare('SELECT 1 FROM experiments WHERE id = ?').get(id)) {
        throw new LedgerError(`unknown experiment id ${id}`);
      }
      return null;
    });
  }

  async renewLeases(studyId: number, host: string, leaseMs: number): Promise<number[]> {
    return this.guard('renewLeases', (db) =>
      (
        db
          .prepare(
            `UPDATE experiments SET lease_until = ? WHERE study_id = ? AND host = ? AND status = 'running'
             RETURNING id`,
          )
          .all(Date.now() + leaseMs, studyId, host) as Array<{ id: number }>
      )
        .map((r) => Number(r.id))
        .sort((a, b) => a - b),
    );
  }

  async getExperiment(id: number): Promise<Experiment | null> {
    return this.guard('getExperiment', (db) => {
      const row = db.prepare('SELECT * FROM experiments WHERE id = ?').get(id) as Row | undefined;
      return row ? rowToExperiment(row) : null;
    });
  }

  async listExperiments(studyId: number): Promise<Experiment[]> {
    return this.guard('listExperiments', (db) =>
      (db.prepare('SELECT * FROM experiments WHERE study_id = ? ORDER BY number').all(studyId) as Row[]).map(
        rowToExperiment,
      ),
    );
  }

  /** Closes the connection (checkpointing the WAL); idempotent. Later calls reject. */
  async putRecord(studyId: number, kind: string, key: string, value: unknown): Promise<StudyRecord> {
    const json = recordJson(value);
    return this.guard('putRecord', (db) => {
      if (!db.prepare('SELECT 1 FROM studies WHERE id = ?').get(studyId)) {
        throw new LedgerError(`unknown study id ${studyId}`);
      }
      const row = db
        .prepare(
          `INSERT INTO records (study_id, kind, key, value, updated_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (study_id, kind, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
           RETURNING *`,
        )
        .get(studyId, kind, key, json, Date.now()) as Row;
      return rowToRecord(row);
    });
  }

  async getRecord(studyId: number, kind: string, key: string): Promise<StudyRecord | null> {
    return this.guard('getRecord', (db) => {
      const row = db
        .prepare('SELECT * FROM records WHERE study_id = ? AND kind = ? AND key = ?')
        .get(studyId, kind, key) as Row | undefined;
      return row ? rowToRecord(row) : null;
    });
  }

  async listRecords(studyId: number, kind: string): Promise<StudyRecord[]> {
    return this.guard('listRecords', (db) =>
      (
        db.prepare('SELECT * FROM records WHERE study_id = ? AND kind = ? ORDER BY key').all(studyId, kind) as Row[]
      ).map(rowToRecord),
    );
  }

  async deleteRecord(studyId: number, kind: string, key: string): Promise<boolean> {
    return this.guard(
      'deleteRecord',
      (db) =>
        db.prepare('DELETE FROM records WHERE study_id = ? AND kind = ? AND key = ?').run(studyId, kind, key).changes >
        0,
    );
  }

  async close(): Promise<void> {
    const db = this.conn;
    this.conn = null;
    db?.close();
  }

  /** Runs `fn` on the open connection; driver errors become LedgerErrors naming the operation. */
  private guard<T>(op: string, fn: (db: BetterSqlite3.Database) => T): T {
    if (!this.conn) throw new LedgerError(`${op}: the ledger is closed`);
    try {
      return fn(this.conn);
    } catch (err) {
      if (err instanceof LedgerError) throw err;
      throw new LedgerError(`${op} failed: ${(err as Error).message}`, { cause: err });
    }
  }
}

/**
 * Records `result` on the running experiment `id` and, for a keep, moves the study's best.
 * Runs inside the caller's IMMEDIATE transaction.
 */
function finishRow(db: BetterSqlite3.Database, id: number, result: ExperimentResult, holder?: string): Row {
  const cur = db.prepare('SELECT * FROM experiments WHERE id = ?').get(id) as Row | undefined;
  if (!cur) throw new LedgerError(`unknown experiment id ${id}`);
  // the lease first: an experiment another host took over and finished is that host's, not a misuse
  if (holder !== undefined && cur.host !== holder) throw leaseLost(cur, holder);
  if (cur.status !== 'running') {
    throw new LedgerError(`experiment ${id} (#${String(cur.number)}) is already finished (${String(cur.status)})`);
  }
  const value = finiteOrNull(result.value);
  const row = db
    .prepare(
      `UPDATE experiments SET status = ?, value = ?, metrics = ?, reason = ?, log_tail = ?,
         exit_code = ?, run_ms = ?, ended_at = ?, env = ?, evidence = ?
       WHERE id = ? RETURNING *`,
    )
    .get(
      result.status,
      value,
      JSON.stringify(finiteMetrics(result.metrics)),
      result.reason ?? cur.reason,
      result.logTail ?? cur.log_tail,
      result.exitCode === undefined ? cur.exit_code : result.exitCode,
      result.runMs === undefined ? cur.run_ms : finiteOrNull(result.runMs),
      result.endedAt ?? Date.now(),
      result.env === undefined ? cur.env : JSON.stringify(result.env),
      result.evidence === undefined ? cur.evidence : toJson(result.evidence),
      id,
    ) as Row;
  if (result.status === 'keep') {
    db.prepare('UPDATE studies SET best_commit = ?, best_value = ?, best_number = ? WHERE id = ?').run(
      row.commit ?? row.parent_commit,
      value,
      row.number,
      row.study_id,
    );
  }
  return row;
}

/**
 * Switches to WAL. Converting a fresh file needs an exclusive lock, and SQLite may answer
 * SQLITE_BUSY without waiting when another process converts it at the same moment: retry briefly.
 */
function setWal(db: BetterSqlite3.Database, memory: boolean): void {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (let attempt = 0; ; attempt++) {
    try {
      const mode = String(db.pragma('journal_mode = WAL', { simple: true })).toLowerCase();
      if (mode === 'wal' || memory) return;
      throw new LedgerError(`SQLite refused WAL mode (journal_mode is ${mode})`);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (attempt >= 100 || typeof code !== 'string' || !code.startsWith('SQLITE_BUSY')) throw err;
      Atomics.wait(sleeper, 0, 0, 20);
    }
  }
}

/** SET clauses and bind values for the defined fields of a patch. */
function patchSql(patch: ExperimentPatch): { sets: string[]; values: unknown[] } {
  const sets: string[] = [];
  const values: unknown[] = [];
  for (const [key, column, bind] of PATCH_COLUMNS) {
    const v = patch[key];
    if (v === undefined) continue;
    sets.push(`${column} = ?`);
    values.push(bind(v));
  }
  return { sets, values };
}
