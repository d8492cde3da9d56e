/**
 * Handed-out work with leases, by hand with `FOR UPDATE SKIP LOCKED` (README says why not a job
 * library): verification runs first, then experiments the study owner queued. A verification
 * goes only to an unflagged contributor on the claim's platform who is not in its excluded list
 * (the claimer and earlier verifiers). A lease expires unless heartbeats extend it; expired work
 * is handed out again, and the result of the earlier holder is then refused.
 */
import type pg from 'pg';
import type { Contributor } from './tokens.js';
import { type Platform, platformKey } from './wire.js';

// $3: the asking contributor; `who` (a CTE of the hand-out statement) is that contributor when
// their token is not revoked, with whether they are flagged (a flagged one gets no verification).
const MATCH = `AND (platform_key IS NULL OR platform_key = $2) AND NOT ($3::bigint = ANY(excluded))
  AND (kind <> 'verification' OR NOT (SELECT flagged FROM who))`;
const EXPIRED = `SELECT id FROM hub_work WHERE study_id = $1 AND state = 'leased' AND lease_expires_at < $4 ${MATCH}
  ORDER BY lease_expires_at FOR UPDATE SKIP LOCKED LIMIT 1`;
const QUEUED = `SELECT id FROM hub_work WHERE study_id = $1 AND state = 'queued' ${MATCH}
  ORDER BY priority, id FOR UPDATE SKIP LOCKED LIMIT 1`;
// Expired leases first (handed out again), then queued work by priority (verification first).
// One statement; each branch is an ordered scan of its own partial index (COALESCE runs the
// second only when the first finds nothing), so a hand-out costs the same with 10 or 100,000
// open items. It checks the token in the same statement (no row: revoked), so a caller may have
// taken the contributor's id from a cache.
export const HAND_OUT = `WITH who AS (
    SELECT flagged_at IS NOT NULL AS flagged FROM hub_contributors WHERE id = $3 AND revoked_at IS NULL),
  taken AS (
    UPDATE hub_work SET state = 'leased', holder_id = $3, lease_expires_at = $4::bigint + $5::bigint,
      handouts = handouts + 1
    WHERE id = COALESCE((${EXPIRED}), (${QUEUED})) AND EXISTS (SELECT 1 FROM who)
    RETURNING id, kind, lease_expires_at, payload->>'parent' AS parent, payload->>'diff' AS diff,
      payload->>'description' AS description, payload->>'commit' AS commit, payload->>'status' AS status)
  SELECT taken.* FROM who LEFT JOIN taken ON true`;

/**
 * The planner settings "give me work" runs under. Without them, statistics older than the queue
 * (a batch of work queued since the last autoanalyze, which can be a minute or 10 % of the table
 * away) make the planner think the queue holds a row or two and pick a bitmap scan of every
 * queued row plus a sort, per hand-out: measured in bench:hub, 15,700 rows and 1,700 buffers
 * (25 ms) for each hand-out instead of one index probe, which saturated the 2 cores. With bitmap
 * scans off, the only cheap path left is the ordered index scan, whatever the statistics say.
 */
export const HAND_OUT_SETTINGS = { enable_bitmapscan: 'off' } as const;

/** `hub_hand_out(study, platform key, contributor, now, lease ms)`: HAND_OUT under HAND_OUT_SETTINGS. */
export const HAND_OUT_FUNCTION = `CREATE OR REPLACE FUNCTION hub_hand_out(uuid, text, bigint, bigint, bigint)
  RETURNS TABLE (id bigint, kind text, lease_expires_at bigint, parent text, diff text, description text,
    commit text, status text)
  LANGUAGE plpgsql VOLATILE
  ${Object.entries(HAND_OUT_SETTINGS)
    .map(([k, v]) => `SET ${k} = ${v}`)
    .join(' ')}
AS $fn$
#variable_conflict use_column
BEGIN
  RETURN QUERY ${HAND_OUT};
END
$fn$;`;

const HAND_OUT_CALL = `SELECT id, kind, lease_expires_at, parent, diff, description, commit, status
  FROM hub_hand_out($1::uuid, $2::text, $3::bigint, $4::bigint, $5::bigint)`;

export interface WorkItem {
  id: number;
  kind: 'verification' | 'experiment';
  leaseExpiresAt: number;
  /** Commit to start from, the change to apply, its description; `commit` = the claimed commit (verification). */
  parent: string;
  diff: string;
  description: string;
  commit?: string;
  /** `keep` or `baseline` for a verification. */
  status?: string;
}

/** The next work for contributor `whoId` on `platform`; `null` when there is none; `revoked` when the token is. */
export async function handOutWork(
  pool: pg.Pool,
  studyId: string,
  whoId: number,
  platform: Platform,
  now: number,
  leaseMs: number,
): Promise<WorkItem | null | { kind: 'revoked' }> {
  const r = await pool.query({
    name: 'hub_hand_out',
    text: HAND_OUT_CALL,
    values: [studyId, platformKey(platform), whoId, now, leaseMs],
  });
  const row: Record<string, string | null> | undefined = r.rows[0];
  if (!row) return { kind: 'revoked' };
  if (row.id === null) return null;
  const item: WorkItem = {
    id: Number(row.id),
    kind: row.kind as WorkItem['kind'],
    leaseExpiresAt: Number(row.lease_expires_at),
    parent: row.parent!,
    diff: row.diff!,
    description: row.description ?? '',
  };
  if (row.kind === 'verification') {
    item.commit = row.commit!;
    item.status = row.status!;
  }
  return item;
}

export type HeartbeatResult = { kind: 'extended'; leaseExpiresAt: number } | { kind: 'lost'; message: string };

/** Extends a lease held by `who` (even one just expired, as long as nobody else took it). */
export async function heartbeat(
  pool: pg.Pool,
  studyId: string,
  workId: number,
  who: Contributor,
  now: number,
  leaseMs: number,
): Promise<HeartbeatResult> {
  const r = await pool.query(
    `UPDATE hub_work SET lease_expires_at = $4::bigint + $5::bigint
     WHERE id = $1 AND study_id = $2 AND holder_id = $3 AND state = 'leased' RETURNING lease_expires_at`,
    [workId, studyId, who.id, now, leaseMs],
  );
  if (r.rows[0]) return { kind: 'extended', leaseExpiresAt: Number(r.rows[0].lease_expires_at) };
  return { kind: 'lost', message: `work ${workId} is not leased to you (done, handed to another, or never yours)` };
}

/** The study owner queues an experiment (a change on a parent) for any contributor, or one platform. */
export async function queueExperiment(
  pool: pg.Pool,
  studyId: string,
  body: { parent: string; diff: string; description: string; platform?: Platform },
  now: number,
): Promise<number> {
  const r = await pool.query(
    `INSERT INTO hub_work (study_id, kind, priority, platform_key, payload, state, created_at)
     VALUES ($1, 'experiment', 1, $2, $3, 'queued', $4) RETURNING id`,
    [
      studyId,
      body.platform ? platformKey(body.platform) : null,
      JSON.stringify({ parent: body.parent, diff: body.diff, description: body.description }),
      now,
    ],
  );
  return Number(r.rows[0].id);
}
