/**
 * Migration 2: study records, one table for the study-scoped documents that are not experiments
 * (journal notes, ablation and transfer runs, plateau state, ...): `(study, kind, key) -> JSON`.
 * Same portability rules as migration 1 (TEXT JSON, BIGINT epoch ms).
 */
import type { Migration } from './types.js';

export const migration002Records: Migration = {
  version: 2,
  name: 'records',
  up: `
CREATE TABLE records (
  study_id BIGINT NOT NULL REFERENCES studies(id),
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (study_id, kind, key)
);
`,
};
