/**
 * The hub's own PostgreSQL schema (tables prefixed `hub_`, never shared with the lab ledger).
 * Migrations are applied in order, each once, inside one transaction holding
 * `pg_advisory_xact_lock`, so two hub processes starting together never race.
 */
import type pg from 'pg';
import { HAND_OUT_FUNCTION } from './work.js';

const MIGRATIONS: Array<{ version: number; sql: string }> = [
  {
    version: 1,
    sql: `
CREATE TABLE hub_contributors (
  id BIGSERIAL PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  token_hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT,
  flagged_at BIGINT,
  flag_reason TEXT
);
CREATE TABLE hub_studies (
  id UUID PRIMARY KEY,
  name TEXT NOT NULL,
  owner_id BIGINT NOT NULL REFERENCES hub_contributors(id),
  metric TEXT NOT NULL,
  direction TEXT NOT NULL CHECK (direction IN ('minimize','maximize')),
  tolerance DOUBLE PRECISION NOT NULL,
  baseline_commit TEXT NOT NULL,
  bundle BYTEA NOT NULL,
  config_toml TEXT NOT NULL,
  program_md TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE hub_results (
  id TEXT PRIMARY KEY,
  seq BIGSERIAL NOT NULL,
  study_id UUID NOT NULL REFERENCES hub_studies(id),
  contributor_id BIGINT NOT NULL REFERENCES hub_contributors(id),
  body_hash TEXT NOT NULL,
  work_id BIGINT,
  kind TEXT NOT NULL CHECK (kind IN ('experiment','verification')),
  parent_commit TEXT NOT NULL,
  commit TEXT NOT NULL,
  diff TEXT NOT NULL,
  value DOUBLE PRECISION,
  status TEXT NOT NULL,
  description TEXT NOT NULL,
  platform_key TEXT NOT NULL,
  platform JSONB NOT NULL,
  verification TEXT CHECK (verification IN ('provisional','verified','failed','untrusted')),
  verified_value DOUBLE PRECISION,
  verifies TEXT REFERENCES hub_results(id),
  created_at BIGINT NOT NULL
);
CREATE INDEX hub_results_parent ON hub_results (study_id, parent_commit);
CREATE INDEX hub_results_commit ON hub_results (study_id, commit);
CREATE TABLE hub_frontier (
  study_id UUID NOT NULL REFERENCES hub_studies(id),
  platform_key TEXT NOT NULL,
  platform JSONB NOT NULL,
  best_commit TEXT NOT NULL,
  best_value DOUBLE PRECISION NOT NULL,
  best_result_id TEXT NOT NULL REFERENCES hub_results(id),
  moves INTEGER NOT NULL DEFAULT 1,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (study_id, platform_key)
);
CREATE TABLE hub_work (
  id BIGSERIAL PRIMARY KEY,
  study_id UUID NOT NULL REFERENCES hub_studies(id),
  kind TEXT NOT NULL CHECK (kind IN ('verification','experiment')),
  priority INTEGER NOT NULL,
  platform_key TEXT,
  claim_id TEXT REFERENCES hub_results(id),
  excluded BIGINT[] NOT NULL DEFAULT '{}',
  payload JSONB NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued','leased','done')),
  holder_id BIGINT REFERENCES hub_contributors(id),
  lease_expires_at BIGINT,
  handouts INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL
);
CREATE INDEX hub_work_queued ON hub_work (study_id, priority, id) WHERE state = 'queued';
CREATE INDEX hub_work_leased ON hub_work (study_id, lease_expires_at) WHERE state = 'leased';
CREATE TABLE hub_notes (
  id BIGSERIAL PRIMARY KEY,
  study_id UUID NOT NULL REFERENCES hub_studies(id),
  contributor_id BIGINT NOT NULL REFERENCES hub_contributors(id),
  client_key TEXT,
  commit TEXT,
  text TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (contributor_id, client_key)
);
CREATE INDEX hub_notes_study ON hub_notes (study_id, id);
`,
  },
  {
    // The newest results of a study (results --hub, status --hub, the dashboard's hub page).
    version: 2,
    sql: 'CREATE INDEX IF NOT EXISTS hub_results_study_seq ON hub_results (study_id, seq)',
  },
  {
    // "Give me work" as a function whose plan does not depend on how fresh the statistics are
    // (./work.ts says why), and the verifications of a claim by index (read on every verification).
    version: 3,
    sql: `${HAND_OUT_FUNCTION}
CREATE INDEX IF NOT EXISTS hub_results_verifies ON hub_results (verifies) WHERE verifies IS NOT NULL;`,
  },
];

/** Applies every migration not applied yet (idempotent; safe from several processes at once). */
export async function migrateHub(pool: pg.Pool): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query(`SELECT pg_advisory_xact_lock(hashtext('autoresearch-hub-migrations'))`);
    await c.query(
      'CREATE TABLE IF NOT EXISTS hub_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)',
    );
    const done = new Set(
      (await c.query<{ version: number }>('SELECT version FROM hub_migrations')).rows.map((r) => r.version),
    );
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await c.query(m.sql);
      await c.query('INSERT INTO hub_migrations (version, applied_at) VALUES ($1, $2)', [m.version, Date.now()]);
    }
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    c.release();
  }
}

/** Runs `fn` in one transaction on one connection; rolls back on any throw. */
export async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const r = await fn(c);
    await c.query('COMMIT');
    return r;
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    c.release();
  }
}
