/**
 * The verification rule (BOINC style). A claimed keep (or a platform's baseline) is provisional.
 * The hub hands a verification run of it, blind (the verifier is not told the claimed value), to
 * another, unflagged contributor on the same platform:
 * - the reproduction AGREES when both values are finite and |reproduced - claimed| <= the study's
 *   tolerance; the claim is then verified with the worse of the two values (a claimer gains
 *   nothing by inflating within the noise), and it moves its platform's best only when its parent
 *   is that platform's best now and the verified value is strictly better (compare-and-set, in the
 *   same transaction);
 * - a first disagreement disputes the claim: a second verification goes to a third contributor.
 *   Two disagreements fail the claim and flag the claimer (their pending claims become untrusted
 *   and never move anything); an agreement after a disagreement verifies the claim and flags the
 *   verifier who disagreed.
 * So a forged result can delay the frontier, never move it.
 */
import type pg from 'pg';
import type { StudyRow } from './studies.js';

export function reproduces(claimed: number | null, reproduced: number | null, tolerance: number): boolean {
  if (claimed === null || reproduced === null || !Number.isFinite(claimed) || !Number.isFinite(reproduced))
    return false;
  return Math.abs(reproduced - claimed) <= tolerance;
}

export function worse(a: number, b: number, direction: StudyRow['direction']): number {
  return direction === 'minimize' ? Math.max(a, b) : Math.min(a, b);
}

export function better(a: number, b: number, direction: StudyRow['direction']): boolean {
  return direction === 'minimize' ? a < b : a > b;
}

export interface ClaimRow {
  id: string;
  contributorId: number;
  parent: string;
  commit: string;
  value: number | null;
  status: string;
  platformKey: string;
  platform: unknown;
  verification: string | null;
}

export async function queueVerification(
  c: pg.PoolClient,
  studyId: string,
  claim: Pick<ClaimRow, 'id' | 'parent' | 'commit' | 'platformKey' | 'status'> & { diff: string; description: string },
  excluded: number[],
  now: number,
): Promise<void> {
  const payload = {
    claimId: claim.id,
    parent: claim.parent,
    commit: claim.commit,
    diff: claim.diff,
    description: claim.description,
    status: claim.status,
  };
  await c.query(
    `INSERT INTO hub_work (study_id, kind, priority, platform_key, claim_id, excluded, payload, state, created_at)
     VALUES ($1, 'verification', 0, $2, $3, $4, $5, 'queued', $6)`,
    [studyId, claim.platformKey, claim.id, excluded, JSON.stringify(payload), now],
  );
}

/** Flags a contributor: its provisional claims become untrusted and their verification work is dropped. */
export async function flagContributor(c: pg.PoolClient, id: number, reason: string, now: number): Promise<void> {
  await c.query('UPDATE hub_contributors SET flagged_at = COALESCE(flagged_at, $2), flag_reason = $3 WHERE id = $1', [
    id,
    now,
    reason,
  ]);
  await c.query(
    `UPDATE hub_work SET state = 'done' WHERE state <> 'done' AND claim_id IN
       (SELECT id FROM hub_results WHERE contributor_id = $1 AND verification = 'provisional')`,
    [id],
  );
  await c.query(
    `UPDATE hub_results SET verification = 'untrusted' WHERE contributor_id = $1 AND verification = 'provisional'`,
    [id],
  );
}

export type VerificationOutcome =
  | { kind: 'verified'; frontierMoved: boolean }
  | { kind: 'disputed' }
  | { kind: 'failed' }
  | { kind: 'already-decided' };

/**
 * Applies one verification result (already inserted, row `verifierResultId`) to its claim. Runs
 * inside the poster's transaction; locks the claim row so concurrent verifications serialise.
 */
export async function applyVerification(
  c: pg.PoolClient,
  study: StudyRow,
  claimId: string,
  verifier: { id: number; resultId: string },
  reproduced: number | null,
  now: number,
): Promise<VerificationOutcome> {
  const r = await c.query(
    `SELECT id, contributor_id, parent_commit, commit, diff, description, value, status, platform_key, platform, verification
     FROM hub_results WHERE id = $1 FOR UPDATE`,
    [claimId],
  );
  const row = r.rows[0];
  const claim: ClaimRow = {
    id: row.id,
    contributorId: Number(row.contributor_id),
    parent: row.parent_commit,
    commit: row.commit,
    value: row.value,
    status: row.status,
    platformKey: row.platform_key,
    platform: row.platform,
    verification: row.verification,
  };
  const agrees = reproduces(claim.value, reproduced, study.tolerance);
  // On the verifier's own row, `verified` / `failed` records whether it agreed with the claim.
  await c.query('UPDATE hub_results SET verification = $2 WHERE id = $1', [
    verifier.resultId,
    agrees ? 'verified' : 'failed',
  ]);
  if (claim.verification !== 'provisional') return { kind: 'already-decided' };
  const prior = await c.query<{ contributor_id: string; verification: string }>(
    `SELECT contributor_id, verification FROM hub_results WHERE verifies = $1 AND contributor_id <> $2`,
    [claimId, verifier.id],
  );
  const disagreed = prior.rows.filter((p) => p.verification === 'failed').map((p) => Number(p.contributor_id));
  if (agrees) {
    const value = worse(claim.value!, reproduced!, study.direction);
    await c.query(`UPDATE hub_results SET verification = 'verified', verified_value = $2 WHERE id = $1`, [
      claimId,
      value,
    ]);
    for (const d of disagreed)
      await flagContributor(c, d, `its verification of ${claimId} disagreed with the claim and another verifier`, now);
    return { kind: 'verified', frontierMoved: await moveFrontier(c, study, claim, value, now) };
  }
  if (disagreed.length === 0) {
    const everyone = [claim.contributorId, verifier.id, ...prior.rows.map((p) => Number(p.contributor_id))];
    await queueVerification(c, study.id, { ...claim, diff: row.diff, description: row.description }, everyone, now);
    return { kind: 'disputed' };
  }
  await c.query(`UPDATE hub_results SET verification = 'failed' WHERE id = $1`, [claimId]);
  await flagContributor(c, claim.contributorId, `claim ${claimId} failed verification by two contributors`, now);
  return { kind: 'failed' };
}

/** Compare-and-set of one platform's best; the caller's transaction holds the row lock. */
async function moveFrontier(
  c: pg.PoolClient,
  study: StudyRow,
  claim: ClaimRow,
  value: number,
  now: number,
): Promise<boolean> {
  const f = await c.query<{ best_commit: string; best_value: number }>(
    'SELECT best_commit, best_value FROM hub_frontier WHERE study_id = $1 AND platform_key = $2 FOR UPDATE',
    [study.id, claim.platformKey],
  );
  const cur = f.rows[0];
  if (claim.status === 'baseline') {
    if (cur || claim.commit !== study.baselineCommit) return false;
    const ins = await c.query(
      `INSERT INTO hub_frontier (study_id, platform_key, platform, best_commit, best_value, best_result_id, updated_at)
       VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING`,
      [study.id, claim.platformKey, JSON.stringify(claim.platform), claim.commit, value, claim.id, now],
    );
    return (ins.rowCount ?? 0) > 0;
  }
  if (!cur || cur.best_commit !== claim.parent || !better(value, cur.best_value, study.direction)) return false;
  await c.query(
    `UPDATE hub_frontier SET best_commit = $3, best_value = $4, best_result_id = $5, moves = moves + 1, updated_at = $6
     WHERE study_id = $1 AND platform_key = $2`,
    [study.id, claim.platformKey, claim.commit, value, claim.id, now],
  );
  return true;
}

/**
 * A verification whose result does not count (its verifier was flagged meanwhile) is handed out
 * again, to someone other than the claimer and everyone who verified it so far.
 */
export async function requeueVerification(
  c: pg.PoolClient,
  studyId: string,
  claimId: string,
  now: number,
): Promise<void> {
  const r = await c.query(
    `SELECT id, contributor_id, parent_commit, commit, diff, description, status, platform_key, verification
     FROM hub_results WHERE id = $1 FOR UPDATE`,
    [claimId],
  );
  const row = r.rows[0];
  if (row?.verification !== 'provisional') return;
  const prior = await c.query<{ contributor_id: string }>(
    'SELECT contributor_id FROM hub_results WHERE verifies = $1',
    [claimId],
  );
  const excluded = [Number(row.contributor_id), ...prior.rows.map((p) => Number(p.contributor_id))];
  await queueVerification(
    c,
    studyId,
    {
      id: row.id,
      parent: row.parent_commit,
      commit: row.commit,
      diff: row.diff,
      description: row.description,
      status: row.status,
      platformKey: row.platform_key,
    },
    excluded,
    now,
  );
}
