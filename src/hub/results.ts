/**
 * Posting a result: one transaction that checks the work it answers (handed out, to this token),
 * records the node (idempotent on the client's result id), queues a verification for a claimed
 * keep or baseline, or applies a verification to its claim. Expected refusals are values.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { inTransaction } from './schema.js';
import type { StudyRow } from './studies.js';
import type { Contributor } from './tokens.js';
import { applyVerification, queueVerification, type VerificationOutcome } from './verify.js';
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
  return inTransaction(pool, async (c) => {
    const seen = await c.query('SELECT contributor_id, body_hash, verification FROM hub_results WHERE id = $1', [
      body.id,
    ]);
    if (seen.rows[0]) return duplicate(seen.rows[0], body.id, who, bodyHash);
    let kind: 'experiment' | 'verification' = 'experiment';
    let claimId: string | null = null;
    if (body.workId !== undefined) {
      const w = await c.query(
        'SELECT id, kind, state, holder_id, claim_id, payload FROM hub_work WHERE id = $1 AND study_id = $2 FOR UPDATE',
        [body.workId, study.id],
      );
      const work = w.rows[0];
      if (!work || work.holder_id === null)
        return { kind: 'work-not-yours', message: `work ${body.workId} was never handed out to you` };
      if (Number(work.holder_id) !== who.id)
        return { kind: 'work-not-yours', message: `work ${body.workId} is leased to another contributor` };
      if (work.state === 'done') {
        // A concurrent twin of this very post may have completed it: that is a duplicate, not a refusal.
        const twin = await c.query('SELECT contributor_id, body_hash, verification FROM hub_results WHERE id = $1', [
          body.id,
        ]);
        return twin.rows[0] ? duplicate(twin.rows[0], body.id, who, bodyHash) : { kind: 'work-done' };
      }
      if (work.payload.parent !== body.parent)
        return {
          kind: 'work-mismatch',
          message: `work ${body.workId} starts from ${work.payload.parent}, not ${body.parent}`,
        };
      if (work.kind === 'verification') {
        kind = 'verification';
        claimId = work.claim_id;
      }
      await c.query(`UPDATE hub_work SET state = 'done' WHERE id = $1`, [body.workId]);
    }
    const claims = kind === 'experiment' && (body.status === 'keep' || body.status === 'baseline');
    const pk = platformKey(body.platform);
    let verification: Accepted['verification'] = claims ? (who.flagged ? 'untrusted' : 'provisional') : null;
    if (verification === 'provisional' && (await baselineAlreadyClaimed(c, study.id, body, pk))) verification = null;
    const ins = await c.query(
      `INSERT INTO hub_results (id, study_id, contributor_id, body_hash, work_id, kind, parent_commit, commit, diff, value,
         status, description, platform_key, platform, verification, verifies, created_at)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17) ON CONFLICT (id) DO NOTHING`,
      [
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
      ],
    );
    if (ins.rowCount === 0) {
      // A concurrent twin committed first (we waited on its unique key): answer as its duplicate.
      const twin = await c.query('SELECT contributor_id, body_hash, verification FROM hub_results WHERE id = $1', [
        body.id,
      ]);
      return duplicate(twin.rows[0], body.id, who, bodyHash);
    }
    if (verification === 'provisional')
      await queueVerification(c, study.id, { ...body, platformKey: pk }, [who.id], now);
    let outcome: VerificationOutcome | undefined;
    if (claimId && !who.flagged)
      outcome = await applyVerification(c, study, claimId, { id: who.id, resultId: body.id }, body.value, now);
    return { kind: 'accepted', id: body.id, duplicate: false, verification, outcome };
  });
}

function duplicate(
  row: { contributor_id: string; body_hash: string; verification: Accepted['verification'] },
  id: string,
  who: Contributor,
  bodyHash: string,
): PostResult {
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
