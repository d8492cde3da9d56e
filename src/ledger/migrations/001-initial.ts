/**
 * Migration 1: studies and experiments.
 *
 * Written to be shared with a PostgreSQL backend:
 * - `{{AUTO_ID}}` is the only dialect-specific token (see `renderMigrationSql`): SQLite's
 *   `INTEGER PRIMARY KEY` (rowid alias) vs PostgreSQL's identity column.
 * - Epoch-ms timestamps and durations are BIGINT (PostgreSQL's INTEGER is 32-bit and would
 *   overflow; SQLite gives any *INT* type 64-bit INTEGER affinity).
 * - Floating values are DOUBLE PRECISION, not REAL: PostgreSQL's REAL is 4-byte and would round
 *   0.997900 to 0.99790001; SQLite maps DOUBLE PRECISION to its 8-byte REAL.
 * - JSON is TEXT here; PostgreSQL may keep TEXT (same code) or switch to JSONB later.
 * - Booleans are INTEGER 0/1 so the same bind values work on both.
 * - `"commit"` is quoted: COMMIT is a keyword in both dialects.
 */
import type { Migration } from './types.js';

export const migration001Initial: Migration = {
  version: 1,
  name: 'initial',
  up: `
CREATE TABLE studies (
  id {{AUTO_ID}},
  tag TEXT NOT NULL UNIQUE,
  branch TEXT NOT NULL,
  metric TEXT NOT NULL,
  direction TEXT NOT NULL CHECK (direction IN ('minimize', 'maximize')),
  base_commit TEXT NOT NULL,
  protected_hashes TEXT NOT NULL,
  config TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  best_commit TEXT,
  best_value DOUBLE PRECISION,
  best_number INTEGER,
  noise TEXT
);

CREATE TABLE experiments (
  id {{AUTO_ID}},
  study_id BIGINT NOT NULL REFERENCES studies (id),
  number INTEGER NOT NULL,
  baseline INTEGER NOT NULL DEFAULT 0 CHECK (baseline IN (0, 1)),
  status TEXT NOT NULL
    CHECK (status IN ('running', 'keep', 'discard', 'crash', 'timeout', 'rejected', 'conflict')),
  parent_commit TEXT NOT NULL,
  "commit" TEXT,
  description TEXT NOT NULL DEFAULT '',
  diff TEXT NOT NULL DEFAULT '',
  change TEXT,
  proposer TEXT NOT NULL,
  value DOUBLE PRECISION,
  metrics TEXT NOT NULL DEFAULT '{}',
  reason TEXT NOT NULL DEFAULT '',
  log_path TEXT,
  log_tail TEXT NOT NULL DEFAULT '',
  exit_code INTEGER,
  pgid INTEGER,
  attempts INTEGER NOT NULL DEFAULT 1,
  usage TEXT,
  env TEXT NOT NULL DEFAULT '{}',
  started_at BIGINT NOT NULL,
  ended_at BIGINT,
  propose_ms BIGINT,
  run_ms BIGINT,
  slot INTEGER,
  evidence TEXT,
  repairs TEXT NOT NULL DEFAULT '[]',
  UNIQUE (study_id, number)
);

CREATE INDEX experiments_study_status ON experiments (study_id, status);
`,
};
