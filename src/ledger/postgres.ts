/**
 * PostgreSQL ledger (several hosts, one study), on a node-postgres pool.
 */
import type pg from 'pg';
import {
  applyPostgresMigrations,
  describeDriverError,
  isUnreachable,
  openPool,
  type PostgresOptions,
} from './postgres-connect.js';
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
import { LedgerError, LedgerUnreachableError } from './types.js';

type Db = pg.Pool | pg.PoolClient;

/** Now, in epoch ms, on the server's clock: leases are compared on one clock whatever the hosts' say. */
const NOW_MS = '(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint';

/**
 * `Ledger` on one PostgreSQL database, shared by every host of a study.
 *
 * Contract (beyond `Ledger`): `open` connects (a LedgerError "could not connect to PostgreSQL at
 * host:port: ...; is it running?" when it can't) and migrates in one transaction under an
 * advisory lock. Every write that must be atomic with a read runs in one transaction that locks
 * the row it depends on first: numbering locks the study row (`FOR UPDATE`), so callers in any
 * number of processes and hosts are served one at a time and read the max(number) the previous
 * one committed (READ COMMITTED takes a fresh snapshot per statement); finishing locks the
 * experiment row, then the study row for a keep. UNIQUE(study_id, number) backs the numbering.
 * Same choices as SqliteLedger where the interface leaves them open.
 */
export class PostgresLedger implements Ledger {
  private pool: pg.Pool | null;

  private constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  /** Connects to `url` and migrates the database. */
  static async open(url: string, opts: PostgresOptions = {}): Promise<PostgresLedger> {
    const pool = await openPool(url, opts);
    try {
      await applyPostgresMigrations(pool);
    } catch (err) {
      await pool.end().catch(() => {});
      throw err;
    }
    return new PostgresLedger(pool);
  }

  async openStudy(spec: StudySpec): Promise<Study> {
    return this.guard('openStudy', async (db) => {
      await db.query(
        `INSERT INTO studies (tag, branch, metric, direction, base_commit, protected_hashes, config, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (tag) DO NOTHING`,
        [
          spec.tag,
          spec.branch,
          spec.metric,
          spec.direction,
          spec.baseCommit,
          JSON.stringify(spec.protectedHashes ?? {}),
          JSON.stringify(spec.config ?? null),
          Date.now(),
        ],
      );
      return rowToStudy(await one(db, 'SELECT * FROM studies WHERE tag = $1', [spec.tag]));
    });
  }

  async getStudy(tag: string): Promise<Study | null> {
    return this.guard('getStudy', async (db) => {
      const row = await maybe(db, 'SELECT * FROM studies WHERE tag = $1', [tag]);
      return row ? rowToStudy(row) : null;
    });
  }

  async setStudyNoise(studyId: number, noise: NoiseFloor): Promise<Study> {
    return this.guard('setStudyNoise', async (db) => {
      const row = await maybe(db, 'UPDATE studies SET noise = $1 WHERE id = $2 RETURNING *', [
        JSON.stringify(noise),
        studyId,
      ]);
      if (!row) throw new LedgerError(`unknown study id ${studyId}`);
      return rowToStudy(row);
    });
  }

  async listStudies(): Promise<Study[]> {
    return this.guard('listStudies', async (db) =>
      (await db.query('SELECT * FROM studies ORDER BY id')).rows.map(rowToStudy),
    );
  }

  async createExperiment(studyId: number, e: NewExperiment): Promise<Experiment> {
    return this.transaction('createExperiment', async (c) => {
      // The study row lock serialises numbering across every process and host.
      if (!(await maybe(c, 'SELECT id FROM studies WHERE id = $1 FOR UPDATE', [studyId]))) {
        throw new LedgerError(`unknown study id ${studyId}`);
      }
      const { next } = (await one(
        c,
        'SELECT COALESCE(MAX(number), -1) + 1 AS next FROM experiments WHERE study_id = $1',
        [studyId],
      )) as { next: number };
      const { sets, values } = patchSql({ ...e, parentCommit: undefined }, 9);
      const cols = sets.map((s) => s.split(' = ')[0]);
      const row = await one(
        c,
        `INSERT INTO experiments (study_id, number, baseline, status, parent_commit, proposer, attempts, started_at,
           host, lease_until ${cols.map((x) => `, ${x}`).join('')})
         VALUES ($1, $2, $3, 'running', $4, $5, 1, $6, $7, ${NOW_MS} + $8::bigint
           ${sets.map((_, i) => `, $${9 + i}`).join('')})
         RETURNING *`,
        [
          studyId,
          Number(next),
          e.baseline ? 1 : 0,
          e.parentCommit,
          e.proposer,
          e.startedAt ?? Date.now(),
          e.lease?.host ?? null,
          e.lease ? Math.round(e.lease.ms) : null,
          ...values,
        ],
      );
      return rowToExperiment(row);
    });
  }

  async updateExperiment(id: number, patch: ExperimentPatch): Promise<Experiment> {
    return this.guard('updateExperiment', async (db) => {
      const { sets, values } = patchSql(patch, 2);
      const row =
        sets.length === 0
          ? await maybe(db, 'SELECT * FROM experiments WHERE id = $1', [id])
          : await maybe(db, `UPDATE experiments SET ${sets.join(', ')} WHERE id = $1 RETURNING *`, [id, ...values]);
      if (!row) throw new LedgerError(`unknown experiment id ${id}`);
      return rowToExperiment(row);
    });
  }

  async finishExperiment(id: number, result: ExperimentResult, holder?: string): Promise<Experiment> {
    if (!FINAL_STATUSES.has(result.status)) {
      throw new LedgerError(`invalid final status ${JSON.stringify(result.status)}`);
    }
    return this.transaction('finishExperiment', async (c) => rowToExperiment(await finishRow(c, id, result, holder)));
  }

  async keepIfBest(
    id: number,
    result: Omit<ExperimentResult, 'status'>,
    expectBest: string | null,
    holder?: string,
  ): Promise<KeepOutcome> {
    return this.transaction('keepIfBest', async (c): Promise<KeepOutcome> => {
      // The row lock orders this against a takeover (claimExperiment updates the same row).
      const cur = await maybe(c, 'SELECT study_id, host FROM experiments WHERE id = $1 FOR UPDATE', [id]);
      if (!cur) throw new LedgerError(`unknown experiment id ${id}`);
      if (holder !== undefined && cur.host !== holder)
        return { kind: 'lease-lost', holder: (cur.host as string | null) ?? null };
      // The study row lock orders concurrent keepers: each one reads the best its predecessor wrote.
      const before = rowToStudy(await one(c, 'SELECT * FROM studies WHERE id = $1 FOR UPDATE', [cur.study_id]));
      if (before.bestCommit !== expectBest) return { kind: 'best-moved', study: before };
      const row = await finishRow(c, id, { ...result, status: 'keep' });
      const study = rowToStudy(await one(c, 'SELECT * FROM studies WHERE id = $1', [row.study_id]));
      return { kind: 'kept', experiment: rowToExperiment(row), study };
    });
  }

  async claimExperiment(id: number, host: string, leaseMs: number): Promise<Experiment | null> {
    return this.guard('claimExperiment', async (db) => {
      const row = await maybe(
        db,
        `UPDATE experiments SET host = $1, lease_until = ${NOW_MS} + $2::bigint
         WHERE id = $3 AND status = 'running'
           AND (host IS NULL OR host = $1 OR lease_until IS NULL OR lease_until < ${NOW_MS})
         RETURNING *`,
        [host, Math.round(leaseMs), id],
      );
      if (row) return rowToExperiment(row);
      if (!(await maybe(db, 'SELECT 1 FROM experiments WHERE id = $1', [id]))) {
        throw new LedgerError(`unknown experiment id ${id}`);
      }
      return null;
    });
  }

  async renewLeases(studyId: number, host: string, leaseMs: number): Promise<number[]> {
    return this.guard('renewLeases', async (db) =>
      (
        await db.query(
          `UPDATE experiments SET lease_until = ${NOW_MS} + $1::bigint
           WHERE study_id = $2 AND host = $3 AND status = 'running' RETURNING id`,
          [Math.round(leaseMs), studyId, host],
        )
      ).rows
        .map((r) => Number(r.id))
        .sort((a, b) => a - b),
    );
  }

  async getExperiment(id: number): Promise<Experiment | null> {
    return this.guard('getExperiment', async (db) => {
      const row = await maybe(db, 'SELECT * FROM experiments WHERE id = $1', [id]);
      return row ? rowToExperiment(row) : null;
    });
  }

  async listExperiments(studyId: number): Promise<Experiment[]> {
    return this.guard('listExperiments', async (db) =>
      (await db.query('SELECT * FROM experiments WHERE study_id = $1 ORDER BY number', [studyId])).rows.map(
        rowToExperiment,
      ),
    );
  }

  async putRecord(studyId: number, kind: string, key: string, value: unknown): Promise<StudyRecord> {
    const json = recordJson(value);
    return this.guard('putRecord', async (db) => {
      if (!(await maybe(db, 'SELECT 1 FROM studies WHERE id = $1', [studyId]))) {
        throw new LedgerError(`unknown study id ${studyId}`);
      }
      const row = await one(
        db,
        `INSERT INTO records (study_id, kind, key, value, updated_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (study_id, kind, key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at
         RETURNING *`,
        [studyId, kind, key, json, Date.now()],
      );
      return rowToRecord(row);
    });
  }

  async getRecord(studyId: number, kind: string, key: string): Promise<StudyRecord | null> {
    return this.guard('getRecord', async (db) => {
      const row = await maybe(db, 'SELECT * FROM records WHERE study_id = $1 AND kind = $2 AND key = $3', [
        studyId,
        kind,
        key,
      ]);
      return row ? rowToRecord(row) : null;
    });
  }

  async listRecords(studyId: number, kind: string): Promise<StudyRecord[]> {
    return this.guard('listRecords', async (db) =>
      (
        await db.query('SELECT * FROM records WHERE study_id = $1 AND kind = $2 ORDER BY key', [studyId, kind])
      ).rows.map(rowToRecord),
    );
  }

  async deleteRecord(studyId: number, kind: string, key: string): Promise<boolean> {
    return this.guard('deleteRecord', async (db) => {
      const r = await db.query('DELETE FROM records WHERE study_id = $1 AND kind = $2 AND key = $3', [
        studyId,
        kind,
        key,
      ]);
      return (r.rowCount ?? 0) > 0;
    });
  }

  /** Closes the pool; idempotent. Later calls reject. */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    await pool?.end();
  }

  /** Runs `fn` on the pool; driver errors become LedgerErrors naming the operation. */
  private async guard<T>(op: string, fn: (db: pg.Pool) => Promise<T>): Promise<T> {
    if (!this.pool) throw new LedgerError(`${op}: the ledger is closed`);
    try {
      return await fn(this.pool);
    } catch (err) {
      if (err instanceof LedgerError) throw err;
      if (isUnreachable(err))
        throw new LedgerUnreachableError(
          `${op} failed: the PostgreSQL server is unreachable (${describeDriverError(err)})`,
          {
            cause: err,
          },
        );
      throw new LedgerError(`${op} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Runs `fn` in one transaction on one connection (rolled back when it throws). */
  private async transaction<T>(op: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.guard(op, async (pool) => {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        const out = await fn(c);
        await c.query('COMMIT');
        return out;
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        c.release();
      }
    });
  }
}

/**
 * Records `result` on the running experiment `id` (locked), and for a keep moves the study's best.
 * Runs inside the caller's transaction.
 */
async function finishRow(c: pg.PoolClient, id: number, result: ExperimentResult, holder?: string): Promise<Row> {
  const cur = await maybe(c, 'SELECT * FROM experiments WHERE id = $1 FOR UPDATE', [id]);
  if (!cur) throw new LedgerError(`unknown experiment id ${id}`);
  // the lease first: an experiment another host took over and finished is that host's, not a misuse
  if (holder !== undefined && cur.host !== holder) throw leaseLost(cur, holder);
  if (cur.status !== 'running') {
    throw new LedgerError(`experiment ${id} (#${String(cur.number)}) is already finished (${String(cur.status)})`);
  }
  const value = finiteOrNull(result.value);
  const row = await one(
    c,
    `UPDATE experiments SET status = $1, value = $2, metrics = $3, reason = $4, log_tail = $5,
       exit_code = $6, run_ms = $7, ended_at = $8, env = $9, evidence = $10
     WHERE id = $11 RETURNING *`,
    [
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
    ],
  );
  if (result.status === 'keep') {
    await c.query('UPDATE studies SET best_commit = $1, best_value = $2, best_number = $3 WHERE id = $4', [
      row.commit ?? row.parent_commit,
      value,
      row.number,
      row.study_id,
    ]);
  }
  return row;
}

async function maybe(db: Db, sql: string, params: unknown[]): Promise<Row | null> {
  const r = await db.query(sql, params);
  return (r.rows[0] as Row | undefined) ?? null;
}

async function one(db: Db, sql: string, params: unknown[]): Promise<Row> {
  const row = await maybe(db, sql, params);
  if (!row) throw new LedgerError(`query returned no row: ${sql.split('\n')[0]}`);
  return row;
}

/** SET clauses (`col = $n`, numbered from `first`) and bind values for the defined fields. */
function patchSql(patch: ExperimentPatch, first: number): { sets: string[]; values: unknown[] } {
  const sets: string[] = [];
  const values: unknown[] = [];
  for (const [key, column, bind] of PATCH_COLUMNS) {
    const v = patch[key];
    if (v === undefined) continue;
    sets.push(`${column} = $${first + sets.length}`);
    values.push(bind(v));
  }
  return { sets, values };
}
