/**
 * Posting a result: one transaction that checks the work it answers (handed out, to this token),
 * records the node (idempotent on the client's result id), queues a verification for a claimed
 * keep or baseline, or applies a verification to its claim. Expected refusals are values.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { StudyRow } from './studies.js';
import type { Contributor } from './tokens.js';
import { applyVerification, queueVerification, requeueVerification, type VerificationOutcome } from './verify.js';
import { platformKey, type ResultBody } from './wire.js';

export interface Accepted {
  kind: 'accepted';
  id: string;
  duplicate: boolean;
  /** provisional: waits for a verification; untrusted: the poster is flagged; null: nothing to verify. */
  verification: 'provisional' | 'untrusted' | 'verified' | 'failed' | null;
  outcome?: VerificationOutcome;
}

export type PostResult =
  | Accepted
  | { kind: 'id-reused' }
  | { kind: 'work-not-yours'; message: string }
  | { kind: 'work-done' }
  | { kind: 'work-mismatch'; message: string };

export async function postResult(
  pool: pg.Pool,
  study: StudyRow,
  who: Contributor,
  body: ResultBody,
  now: number,
): Promise<PostResult> {
  const bodyHash = createHash('sha256').update(JSON.stringify(body)).digest('hex');
  const pk = platformKey(body.platform);
  const claimsKeep = body.status === 'keep' || body.status === 'baseline';
  const row = (kind: string, verification: Accepted['verification'], claimId: string | null) => [
    body.id,
    study.id,
    who.id,
    bodyHash,
    body.workId ?? null,
    kind,
    body.parent,
    body.commit,
    body.diff,
    body.value,
    body.status,
    body.description,
    pk,
    JSON.stringify(body.platform),
    verification,
    claimId,
    now,
  ];
  // The common case, a result of one's own exploration that claims nothing: one statement.
  if (body.workId === undefined && (!claimsKeep || who.flagged)) {
    const ins = await pool.query(INSERT, row('experiment', claimsKeep ? 'untrusted' : null, null));
    if (ins.rowCount === 0) return duplicate(await pool.query(SEEN, [body.id]), body.id, who, bodyHash);
    return { kind: 'accepted', id: body.id, duplicate: false, verification: claimsKeep ? 'untrusted' : null };
  }
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    let kind: 'experiment' | 'verification' = 'experiment';
    let claimId: string | null = null;
    if (body.workId !== undefined) {
      const w = await c.query(
        `UPDATE hub_work SET state = 'done' WHERE id = $1 AND study_id = $2 AND holder_id = $3 AND state = 'leased'
           AND payload->>'parent' = $4 RETURNING kind, claim_id`,
        [body.workId, study.id, who.id, body.parent],
      );
      if (!w.rows[0]) {
        await c.query('ROLLBACK');
        return await whyNot(c, study, who, body, bodyHash);
      }
      if (w.rows[0].kind === 'verification') {
        kind = 'verification';
        claimId = w.rows[0].claim_id;
      }
    }
    const claims = kind === 'experiment' && claimsKeep;
    let verification: Accepted['verification'] = claims ? (who.flagged ? 'untrusted' : 'provisional') : null;
    if (verification === 'provisional' && (await baselineAlreadyClaimed(c, study.id, body, pk))) verification = null;
    const ins = await c.query(INSERT, row(kind, verification, claimId));
    if (ins.rowCount === 0) {
      // This id exists (a retry, or a concurrent twin that committed first): undo, answer as a duplicate.
      await c.query('ROLLBACK');
      return duplicate(await c.query(SEEN, [body.id]), body.id, who, bodyHash);
    }
    if (verification === 'provisional')
      await queueVerification(c, study.id, { ...body, platformKey: pk }, [who.id], now);
    let outcome: VerificationOutcome | undefined;
    if (claimId && !who.flagged)
      outcome = await applyVerification(c, study, claimId, { id: who.id, resultId: body.id }, body.value, now);
    else if (claimId) await requeueVerification(c, study.id, claimId, now); // a flagged verifier's run does not count
    await c.query('COMMIT');
    return { kind: 'accepted', id: body.id, duplicate: false, verification, outcome };
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    c.release();
  }
}

const INSERT = `INSERT INTO hub_results (id, study_id, contributor_id, body_hash, work_id, kind, parent_commit, commit, diff,
    value, status, description, platform_key, platform, verification, verifies, created_at)
  VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17) ON CONFLICT (id) DO NOTHING`;
const SEEN = 'SELECT contributor_id, body_hash, verification FROM hub_results WHERE id = $1';

/** Why a result for `workId` was not taken (a retry of an accepted one is a duplicate, not a refusal). */
async function whyNot(
  c: pg.PoolClient,
  study: StudyRow,
  who: Contributor,
  body: ResultBody,
  bodyHash: string,
): Promise<PostResult> {
  const seen = await c.query(SEEN, [body.id]);
  if (seen.rows[0]) return duplicate(seen, body.id, who, bodyHash);
  const w = await c.query('SELECT state, holder_id, payload FROM hub_work WHERE id = $1 AND study_id = $2', [
    body.workId,
    study.id,
  ]);
  const work = w.rows[0];
  if (!work || work.holder_id === null)
    return { kind: 'work-not-yours', message: `work ${body.workId} was never handed out to you` };
  if (Number(work.holder_id) !== who.id)
    return { kind: 'work-not-yours', message: `work ${body.workId} is leased to another contributor` };
  if (work.state === 'done') return { kind: 'work-done' };
  return {
    kind: 'work-mismatch',
    message: `work ${body.workId} starts from ${work.payload.parent}, not ${body.parent}`,
  };
}

function duplicate(seen: pg.QueryResult, id: string, who: Contributor, bodyHash: string): PostResult {
  const row = seen.rows[0] as { contributor_id: string; body_hash: string; verification: Accepted['verification'] };
  if (!row) throw new Error(`result ${id} conflicted but cannot be read back`);
  if (Number(row.contributor_id) !== who.id || row.body_hash !== bodyHash) return { kind: 'id-reused' };
  return { kind: 'accepted', id, duplicate: true, verification: row.verification };
}

/** One baseline claim per platform is verified at a time; later ones are recorded, not re-verified. */
async function baselineAlreadyClaimed(
  c: pg.PoolClient,
  studyId: string,
  body: ResultBody,
  pk: string,
): Promise<boolean> {
  if (body.status !== 'baseline') return false;
  const r = await c.query(
    `SELECT 1 FROM hub_results WHERE study_id = $1 AND platform_key = $2 AND status = 'baseline' AND kind = 'experiment'
       AND verification IN ('provisional','verified') AND id <> $3
     UNION ALL SELECT 1 FROM hub_frontier WHERE study_id = $1 AND platform_key = $2 LIMIT 1`,
    [studyId, pk, body.id],
  );
  return (r.rowCount ?? 0) > 0;
}
