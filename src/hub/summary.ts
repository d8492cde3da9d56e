/**
 * The study across contributors, in one read (`GET /studies/:id/summary`): per platform its
 * verified best, the chain of verified moves with when each was verified, and for each kept change
 * whether the same change held on other platforms; the recent results; the contributors; how much
 * work waits; how many notes. What `status --hub` prints and the dashboard's hub page draws.
 *
 * "The same change" on another platform: a result there with the same commit or the same diff
 * (contributors' commit hashes differ, a change's diff does not). Values follow ./recent.ts: a
 * provisional claim's value is never in the summary.
 */
import type pg from 'pg';
import { contributors, frontier, type NodeView } from './reads.js';
import { type HubResultRow, recentResults } from './recent.js';
import type { StudyRow } from './studies.js';

/** Whether a kept change held on another platform: verified keep, claimed keep (unverified), or not kept. */
export type Held = 'held' | 'pending' | 'not held';

export interface KeptChange {
  resultId: string;
  commit: string;
  contributor: string;
  description: string;
  status: string;
  value: number | null;
  /** When the verification that confirmed it was posted (ms); the claim's time when unknown. */
  verifiedAt: number;
  elsewhere: Array<{ platformKey: string; label: string; held: Held; value: number | null; contributor: string }>;
}

export interface PlatformSummary {
  platformKey: string;
  platform: unknown;
  label: string;
  best: { commit: string; value: number; resultId: string };
  moves: number;
  /** Verified nodes from the baseline to the best. */
  chainLength: number;
  updatedAt: number;
  /** The chain, baseline first: each verified move with its time (the frontier over time). */
  chain: KeptChange[];
}

export interface HubSummary {
  study: {
    id: string;
    name: string;
    metric: string;
    direction: 'minimize' | 'maximize';
    tolerance: number;
    baselineCommit: string;
    createdAt: number;
  };
  platforms: PlatformSummary[];
  recent: HubResultRow[];
  contributors: Array<{
    name: string;
    flagged: boolean;
    flagReason: string | null;
    results: number;
    verifiedKeeps: number;
    verifications: number;
  }>;
  counts: {
    results: number;
    experiments: number;
    verifications: number;
    /** Claims waiting for a verification (provisional). */
    provisional: number;
    notes: number;
  };
  work: {
    verificationsQueued: number;
    verificationsLeased: number;
    experimentsQueued: number;
    experimentsLeased: number;
  };
  /** The hub's clock when this was read (ms). */
  now: number;
}

/** "1x H200 (torch 2.11)" / "AMD EPYC x2 (node 20)": a platform in a few words. */
export function platformLabel(p: unknown): string {
  const x = (p ?? {}) as { gpu?: { model: string; count: number }; cpu?: { model: string }; frameworks?: object };
  const hw = x.gpu ? `${x.gpu.count}x ${x.gpu.model}` : (x.cpu?.model ?? 'unknown platform');
  const fw = Object.entries(x.frameworks ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return fw ? `${hw} (${fw})` : hw;
}

export async function studySummary(
  pool: pg.Pool,
  study: StudyRow,
  opts: { recent: number; now: number },
): Promise<HubSummary> {
  const [fr, recent, people, counts, work] = await Promise.all([
    frontier(pool, study.id),
    recentResults(pool, study.id, { limit: opts.recent }),
    contributors(pool, study.id),
    pool.query(
      `SELECT count(*)::int AS results, count(*) FILTER (WHERE kind = 'experiment')::int AS experiments,
         count(*) FILTER (WHERE kind = 'verification')::int AS verifications,
         count(*) FILTER (WHERE verification = 'provisional')::int AS provisional,
         (SELECT count(*)::int FROM hub_notes WHERE study_id = $1) AS notes
       FROM hub_results WHERE study_id = $1`,
      [study.id],
    ),
    pool.query(
      `SELECT kind, state, count(*)::int AS n FROM hub_work WHERE study_id = $1 AND state <> 'done' GROUP BY kind, state`,
      [study.id],
    ),
  ]);
  const n = (kind: string, state: string) =>
    work.rows.find((w) => w.kind === kind && w.state === state)?.n ?? (0 as number);
  const chains = fr.flatMap((p) => p.chain);
  const verifiedAt = await verificationTimes(
    pool,
    chains.map((c) => c.id),
  );
  const elsewhere = await sameChangeElsewhere(pool, study.id, chains);
  return {
    study: {
      id: study.id,
      name: study.name,
      metric: study.metric,
      direction: study.direction,
      tolerance: study.tolerance,
      baselineCommit: study.baselineCommit,
      createdAt: study.createdAt,
    },
    platforms: fr.map((p) => ({
      platformKey: p.platformKey,
      platform: p.platform,
      label: platformLabel(p.platform),
      best: p.best,
      moves: p.moves,
      chainLength: p.chain.length,
      updatedAt: p.updatedAt,
      chain: p.chain.map((c) => ({
        resultId: c.id,
        commit: c.commit,
        contributor: c.contributor,
        description: c.description,
        status: c.status,
        value: c.verifiedValue ?? c.value,
        verifiedAt: verifiedAt.get(c.id) ?? c.createdAt,
        elsewhere: c.status === 'baseline' ? [] : (elsewhere.get(c.id) ?? []),
      })),
    })),
    recent,
    contributors: people,
    counts: counts.rows[0],
    work: {
      verificationsQueued: n('verification', 'queued'),
      verificationsLeased: n('verification', 'leased'),
      experimentsQueued: n('experiment', 'queued'),
      experimentsLeased: n('experiment', 'leased'),
    },
    now: opts.now,
  };
}

/** For each verified claim: when the first agreeing verification was posted. */
async function verificationTimes(pool: pg.Pool, claimIds: string[]): Promise<Map<string, number>> {
  if (claimIds.length === 0) return new Map();
  const r = await pool.query(
    `SELECT verifies, min(created_at) AS at FROM hub_results
     WHERE verifies = ANY($1) AND kind = 'verification' AND verification = 'verified' GROUP BY verifies`,
    [claimIds],
  );
  return new Map(r.rows.map((x) => [x.verifies as string, Number(x.at)]));
}

/** Results on other platforms with the same commit or diff as a chain node, summed up per platform. */
async function sameChangeElsewhere(
  pool: pg.Pool,
  studyId: string,
  chain: NodeView[],
): Promise<Map<string, KeptChange['elsewhere']>> {
  const kept = chain.filter((c) => c.status !== 'baseline');
  if (kept.length === 0) return new Map();
  // Same diff: candidates by length first (one scan; octet_length reads the stored size without
  // detoasting), md5 only on those; same commit: the (study, commit) index.
  const cols = `k.id AS kept_id, o.id, o.seq, o.platform_key, o.platform, o.status, o.verification, o.verified_value,
    (SELECT name FROM hub_contributors c WHERE c.id = o.contributor_id) AS name,
    CASE WHEN o.verification = 'provisional' THEN NULL ELSE o.value END AS value`;
  const r = await pool.query(
    `WITH k AS MATERIALIZED (SELECT id, commit, platform_key, octet_length(diff) AS len, md5(diff) AS dh
                            FROM hub_results WHERE id = ANY($2)),
       cand AS MATERIALIZED (SELECT id, platform_key, md5(diff) AS dh FROM hub_results
                            WHERE study_id = $1 AND kind = 'experiment' AND octet_length(diff) IN (SELECT len FROM k))
     SELECT * FROM (
       SELECT ${cols} FROM cand JOIN k ON cand.dh = k.dh AND cand.platform_key <> k.platform_key
         JOIN hub_results o ON o.id = cand.id
       UNION
       SELECT ${cols} FROM k JOIN hub_results o ON o.study_id = $1 AND o.kind = 'experiment'
         AND o.platform_key <> k.platform_key AND o.commit = k.commit
     ) x ORDER BY seq LIMIT 5000`,
    [studyId, kept.map((k) => k.id)],
  );
  const rank: Record<Held, number> = { 'not held': 0, pending: 1, held: 2 };
  const out = new Map<string, Map<string, KeptChange['elsewhere'][number]>>();
  for (const x of r.rows) {
    if (x.verification === 'untrusted') continue; // a flagged contributor's claim is no evidence either way
    const held: Held =
      x.status === 'keep' && x.verification === 'verified'
        ? 'held'
        : x.status === 'keep' && x.verification === 'provisional'
          ? 'pending'
          : 'not held';
    const per = out.get(x.kept_id) ?? new Map();
    out.set(x.kept_id, per);
    const prev: KeptChange['elsewhere'][number] | undefined = per.get(x.platform_key);
    if (prev && rank[prev.held] >= rank[held]) continue;
    per.set(x.platform_key, {
      platformKey: x.platform_key,
      label: platformLabel(x.platform),
      held,
      value: x.verified_value ?? x.value,
      contributor: x.name,
    });
  }
  return new Map([...out].map(([k, v]) => [k, [...v.values()]]));
}
