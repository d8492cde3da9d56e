/**
 * The hub's results table: experiments and verification runs, newest first, for `results --hub`,
 * `status --hub` and the dashboard.
 *
 * Contract (verification is blind): a value a verifier could copy is never returned while its
 * claim waits for verification: a provisional claim's value is null, and so is the value of every
 * verification run of a claim that is still provisional (a disputed claim's first reproduction
 * would otherwise tell the tie-breaking verifier what to post). Once decided, both are shown.
 */
import type pg from 'pg';

export interface HubResultRow {
  id: string;
  kind: 'experiment' | 'verification';
  contributor: string;
  platformKey: string;
  parent: string;
  commit: string;
  status: string;
  /** null while hidden (see the contract) or when the run produced none. */
  value: number | null;
  /** provisional | verified | failed | untrusted (a claim); verified | failed (a verification: agreed or not); null. */
  verification: string | null;
  verifiedValue: number | null;
  /** For a verification run: the claim it re-ran. */
  verifies: string | null;
  description: string;
  createdAt: number;
}

export const MAX_RESULTS_LIMIT = 1000;

/** Hidden: a provisional claim, or a re-run of a claim still provisional. */
const HIDDEN = `(r.verification = 'provisional' OR (r.kind = 'verification' AND cl.verification = 'provisional'))`;

export async function recentResults(
  pool: pg.Pool,
  studyId: string,
  opts: { limit: number; platformKey?: string },
): Promise<HubResultRow[]> {
  const limit = Math.max(1, Math.min(MAX_RESULTS_LIMIT, Math.floor(opts.limit)));
  const r = await pool.query(
    `SELECT r.id, r.kind, c.name AS contributor, r.platform_key, r.parent_commit, r.commit, r.status,
       CASE WHEN ${HIDDEN} THEN NULL ELSE r.value END AS value, r.verification, r.verified_value, r.verifies,
       r.description, r.created_at
     FROM hub_results r JOIN hub_contributors c ON c.id = r.contributor_id
       LEFT JOIN hub_results cl ON cl.id = r.verifies
     WHERE r.study_id = $1 AND ($2::text IS NULL OR r.platform_key = $2)
     ORDER BY r.seq DESC LIMIT $3`,
    [studyId, opts.platformKey ?? null, limit],
  );
  return r.rows.map((x) => ({
    id: x.id,
    kind: x.kind,
    contributor: x.contributor,
    platformKey: x.platform_key,
    parent: x.parent_commit,
    commit: x.commit,
    status: x.status,
    value: x.value,
    verification: x.verification,
    verifiedValue: x.verified_value,
    verifies: x.verifies,
    description: x.description,
    createdAt: Number(x.created_at),
  }));
}
