/**
 * Reading the exploration tree. The value of a claim still being verified is hidden from every
 * reader (verification is blind: a lazy verifier cannot copy the claimed number).
 */
import type pg from 'pg';

export interface NodeView {
  id: string;
  kind: 'experiment' | 'verification';
  contributor: string;
  parent: string;
  commit: string;
  status: string;
  value: number | null;
  verification: string | null;
  verifiedValue: number | null;
  description: string;
  platformKey: string;
  platform: unknown;
  createdAt: number;
  diff?: string;
}

const COLS = `r.id, r.kind, c.name AS contributor, r.parent_commit, r.commit, r.status, r.value, r.verification,
  r.verified_value, r.description, r.platform_key, r.platform, r.created_at`;

type Row = Record<string, unknown>;

function view(r: Row, withDiff = false): NodeView {
  const hidden = r.verification === 'provisional';
  const v: NodeView = {
    id: r.id as string,
    kind: r.kind as NodeView['kind'],
    contributor: r.contributor as string,
    parent: r.parent_commit as string,
    commit: r.commit as string,
    status: r.status as string,
    value: hidden ? null : (r.value as number | null),
    verification: r.verification as string | null,
    verifiedValue: r.verified_value as number | null,
    description: r.description as string,
    platformKey: r.platform_key as string,
    platform: r.platform,
    createdAt: Number(r.created_at),
  };
  if (withDiff) v.diff = r.diff as string;
  return v;
}

/** Every result whose commit is `sha` (with its diff, to materialise it) or whose parent is `sha`. */
export async function nodesAt(
  pool: pg.Pool,
  studyId: string,
  sha: string,
  which: 'commit' | 'parent',
): Promise<NodeView[]> {
  const col = which === 'commit' ? 'r.commit' : 'r.parent_commit';
  const r = await pool.query(
    `SELECT ${COLS}, r.diff FROM hub_results r JOIN hub_contributors c ON c.id = r.contributor_id
     WHERE r.study_id = $1 AND ${col} = $2 AND r.kind = 'experiment' ${which === 'parent' ? 'AND r.commit <> r.parent_commit' : ''}
     ORDER BY r.seq LIMIT 1000`,
    [studyId, sha],
  );
  return r.rows.map((row) => view(row, which === 'commit'));
}

/** Kept nodes (claimed or verified, not failed or untrusted) with no kept child yet: the tips to build on. */
export async function leaves(pool: pg.Pool, studyId: string): Promise<NodeView[]> {
  const r = await pool.query(
    `SELECT ${COLS} FROM hub_results r JOIN hub_contributors c ON c.id = r.contributor_id
     WHERE r.study_id = $1 AND r.kind = 'experiment' AND r.status IN ('keep','baseline')
       AND r.verification IN ('provisional','verified')
       AND NOT EXISTS (SELECT 1 FROM hub_results k WHERE k.study_id = r.study_id AND k.parent_commit = r.commit
                       AND k.kind = 'experiment' AND k.commit <> r.commit AND k.status = 'keep'
                       AND k.verification IN ('provisional','verified'))
     ORDER BY r.seq DESC LIMIT 500`,
    [studyId],
  );
  return r.rows.map((row) => view(row));
}

/** What was tried from `sha` (results) and what is queued or running from it now (work). */
export async function triedFrom(pool: pg.Pool, studyId: string, sha: string) {
  const results = await nodesAt(pool, studyId, sha, 'parent');
  const w = await pool.query(
    `SELECT id, kind, state, payload->>'description' AS description FROM hub_work
     WHERE study_id = $1 AND state <> 'done' AND payload->>'parent' = $2 ORDER BY id LIMIT 500`,
    [studyId, sha],
  );
  return {
    results: results.map(({ diff: _d, ...rest }) => rest),
    pending: w.rows.map((r) => ({ workId: Number(r.id), kind: r.kind, state: r.state, description: r.description })),
  };
}

/** Each platform's verified best and its chain of verified moves (baseline first). */
export async function frontier(pool: pg.Pool, studyId: string) {
  const f = await pool.query(
    `SELECT platform_key, platform, best_commit, best_value, best_result_id, moves, updated_at FROM hub_frontier
     WHERE study_id = $1 ORDER BY platform_key`,
    [studyId],
  );
  const out = [];
  for (const p of f.rows) {
    const verified = await pool.query(
      `SELECT ${COLS} FROM hub_results r JOIN hub_contributors c ON c.id = r.contributor_id
       WHERE r.study_id = $1 AND r.platform_key = $2 AND r.kind = 'experiment' AND r.verification = 'verified'`,
      [studyId, p.platform_key],
    );
    const byCommit = new Map(verified.rows.map((r) => [r.commit as string, view(r)]));
    const chain: NodeView[] = [];
    let at = byCommit.get(p.best_commit);
    while (at && chain.length < 10_000) {
      chain.unshift(at);
      at = at.status === 'baseline' ? undefined : byCommit.get(at.parent);
    }
    out.push({
      platformKey: p.platform_key,
      platform: p.platform,
      best: { commit: p.best_commit, value: p.best_value, resultId: p.best_result_id },
      moves: p.moves,
      updatedAt: Number(p.updated_at),
      chain,
    });
  }
  return out;
}

/** Contributors who posted to this study, with their verified keeps (and whether they are flagged). */
export async function contributors(pool: pg.Pool, studyId: string) {
  const r = await pool.query(
    `SELECT c.name, c.flagged_at IS NOT NULL AS flagged, c.flag_reason,
       count(*) FILTER (WHERE r.kind = 'experiment')::int AS results,
       count(*) FILTER (WHERE r.kind = 'experiment' AND r.status = 'keep' AND r.verification = 'verified')::int AS verified_keeps,
       count(*) FILTER (WHERE r.kind = 'verification')::int AS verifications
     FROM hub_results r JOIN hub_contributors c ON c.id = r.contributor_id
     WHERE r.study_id = $1 GROUP BY c.id ORDER BY verified_keeps DESC, c.name`,
    [studyId],
  );
  return r.rows.map((x) => ({
    name: x.name,
    flagged: x.flagged,
    flagReason: x.flag_reason,
    results: x.results,
    verifiedKeeps: x.verified_keeps,
    verifications: x.verifications,
  }));
}
