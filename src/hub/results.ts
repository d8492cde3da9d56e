/**
 * Posting a result: one transaction that checks the work it answers (handed out, to this token),
 * records the node (idempotent on the client's result id), queues a verification for a claimed
 * keep or baseline, or applies a verification to its claim. Expected refusals are values.
 */
import { hash } from 'node:crypto';
import type pg from 'pg';
import type { StudyRow } from './studies.js';
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
  | { kind: 'work-mismatch'; message: string }
  | { kind: 'revoked' };

/**
 * Records `body` for contributor `who` (whose token is checked here, in the statement that does
 * the work: a caller may take `who` from a cache, and a revoked token is refused at once). The
 * common cases are one statement: a result that claims nothing, of one's own exploration or for
 * handed-out experiment work; everything else (claims, verifications, retries, refusals) is one
 * transaction.
 */
export async function postResult(
  pool: pg.Pool,
  study: StudyRow,
  who: { id: number },
  body: ResultBody,
  now: number,
): Promise<PostResult> {
  const bodyHash = hash('sha256', JSON.stringify(body), 'hex');
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
  if (!claimsKeep) {
    try {
      const one =
        body.workId === undefined
          ? await pool.query({ name: 'hub_result_own', text: INSERT_OWN, values: row('experiment', null, null) })
          : await pool.query({ name: 'hub_result_work', text: INSERT_FOR_WORK, values: row('experiment', null, null) });
      if (one.rowCount === 1) return { kind: 'accepted', id: body.id, duplicate: false, verification: null };
    } catch (err) {
      // A result id taken already (a retry): the statement undid itself; the transaction says why.
      if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
    }
  }
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const me = await c.query<{ flagged: boolean }>({ name: 'hub_result_who', text: WHO, values: [who.id] });
    if (!me.rows[0]) {
      await c.query('ROLLBACK');
      return { kind: 'revoked' };
    }
    const flagged = me.rows[0].flagged;
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
    let verification: Accepted['verification'] = claims ? (flagged ? 'untrusted' : 'provisional') : null;
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
    if (claimId && !flagged)
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

const UNIQUE_VIOLATION = '23505';
const COLUMNS = `id, study_id, contributor_id, body_hash, work_id, kind, parent_commit, commit, diff,
    value, status, description, platform_key, platform, verification, verifies, created_at`;
const VALUES = `$1::text, $2::uuid, $3::bigint, $4::text, $5::bigint, $6::text, $7::text, $8::text, $9::text,
    $10::float8, $11::text, $12::text, $13::text, $14::jsonb, $15::text, $16::text, $17::bigint`;
const INSERT = `INSERT INTO hub_results (${COLUMNS}) VALUES (${VALUES}) ON CONFLICT (id) DO NOTHING`;
/** The contributor, unless revoked, and whether flagged (read in the transaction that acts on it). */
const WHO = 'SELECT flagged_at IS NOT NULL AS flagged FROM hub_contributors WHERE id = $1 AND revoked_at IS NULL';
/** A result of one's own exploration claiming nothing: inserted when the token is not revoked. */
const INSERT_OWN = `INSERT INTO hub_results (${COLUMNS})
  SELECT ${VALUES} FROM hub_contributors WHERE id = $3 AND revoked_at IS NULL`;
/**
 * A result claiming nothing for handed-out experiment work: the lease is closed and the result
 * inserted in one statement (a taken result id raises, undoing both), when the work is leased to
 * this unrevoked token and starts from this parent. No row: a verification, a refusal, a revoked
 * token: the transaction sorts it out.
 */
const INSERT_FOR_WORK = `WITH done AS (
    UPDATE hub_work SET state = 'done' WHERE id = $5 AND study_id = $2 AND holder_id = $3 AND state = 'leased'
      AND kind = 'experiment' AND payload->>'parent' = $7
      AND EXISTS (SELECT 1 FROM hub_contributors WHERE id = $3 AND revoked_at IS NULL)
    RETURNING id)
  INSERT INTO hub_results (${COLUMNS}) SELECT ${VALUES} FROM done`;
const SEEN = 'SELECT contributor_id, body_hash, verification FROM hub_results WHERE id = $1';

/** Why a result for `workId` was not taken (a retry of an accepted one is a duplicate, not a refusal). */
async function whyNot(
  c: pg.PoolClient,
  study: StudyRow,
  who: { id: number },
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

function duplicate(seen: pg.QueryResult, id: string, who: { id: number }, bodyHash: string): PostResult {
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
