/**
 * Test support for contributor end-to-end tests: what a contributor's local ledger decided, the
 * hub's rows for a contributor, and the check that the hub holds exactly one result per decided
 * local experiment (under the id derived from it).
 */
import assert from 'node:assert/strict';
import type pg from 'pg';
import { loadConfig } from '../config/load.ts';
import { resultIdFor } from '../hub/poster.ts';
import { openLedger } from '../ledger/open.ts';

/**
 * Every decided experiment a contributor posts, by number: those with a commit (the baseline
 * included), and owner-queued ones even without (a rejected queued experiment is posted back).
 */
export async function localDecided(ws: string): Promise<Array<{ number: number; commit: string; proposer: string }>> {
  const loaded = loadConfig(ws);
  assert.ok(loaded.ok);
  const ledger = await openLedger(loaded.config.ledger.url, { root: ws });
  try {
    const study = await ledger.getStudy(loaded.config.study.tag);
    assert.ok(study);
    return (await ledger.listExperiments(study.id))
      .filter((e) =>
        e.proposer === 'hub-queued'
          ? e.status !== 'running'
          : e.status !== 'running' && e.status !== 'conflict' && e.proposer !== 'hub' && (e.commit || e.baseline),
      )
      .map((e) => ({ number: e.number, commit: e.commit ?? e.parentCommit, proposer: e.proposer }));
  } finally {
    await ledger.close();
  }
}

export async function hubRows(pool: pg.Pool, studyId: string, who: string) {
  const r = await pool.query(
    `SELECT r.id, r.kind, r.commit, r.status, r.verification, r.work_id FROM hub_results r JOIN hub_contributors c ON c.id = r.contributor_id
     WHERE r.study_id = $1 AND c.name = $2 ORDER BY r.seq`,
    [studyId, who],
  );
  return r.rows as Array<{
    id: string;
    kind: string;
    commit: string;
    status: string;
    verification: string | null;
    work_id: string | null;
  }>;
}

/** The hub holds exactly one result per decided local experiment, under the id derived from it. */
export async function assertMirrored(pool: pg.Pool, studyId: string, who: string, ws: string): Promise<number> {
  const local = await localDecided(ws);
  const rows = (await hubRows(pool, studyId, who)).filter((r) => r.kind === 'experiment');
  const loaded = loadConfig(ws);
  assert.ok(loaded.ok);
  const expected = local.map((e) => resultIdFor(studyId, loaded.config.study.tag, e.number, `host-${who}`)).sort();
  assert.deepEqual(rows.map((r) => r.id).sort(), expected, `${who}: one hub result per local experiment`);
  return rows.length;
}
