/**
 * Published studies: name, objective, tolerance (the study's noise), the baseline commit as a git
 * bundle, the config (TOML text) and program.md. Only a contributor with a token publishes; the
 * publisher owns the study (may queue experiments on it).
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { PublishBody } from './wire.js';

export interface StudyRow {
  id: string;
  name: string;
  ownerId: number;
  metric: string;
  direction: 'minimize' | 'maximize';
  tolerance: number;
  baselineCommit: string;
  config: string;
  program: string;
  bundleBytes: number;
  createdAt: number;
}

export type PublishResult = { kind: 'published'; id: string } | { kind: 'bad-bundle'; message: string };

/** A git bundle starts with "# v2 git bundle" (or v3) and lists the commits it carries in its header. */
export function checkBundle(bytes: Buffer, commit: string): string | null {
  const head = bytes.subarray(0, Math.min(bytes.length, 64 * 1024)).toString('latin1');
  if (!/^# v[23] git bundle\n/.test(head))
    return 'bundleBase64 is not a git bundle (make one with `git bundle create`)';
  const headerEnd = head.indexOf('\n\n');
  const header = headerEnd >= 0 ? head.slice(0, headerEnd) : head;
  if (!header.split('\n').some((l) => l.startsWith(commit)))
    return `the bundle does not carry the baseline commit ${commit.slice(0, 12)} as a ref`;
  return null;
}

export async function publishStudy(pool: pg.Pool, owner: number, b: PublishBody, now: number): Promise<PublishResult> {
  const bundle = Buffer.from(b.bundleBase64, 'base64');
  const bad = checkBundle(bundle, b.baselineCommit);
  if (bad) return { kind: 'bad-bundle', message: bad };
  const id = randomUUID();
  await pool.query(
    `INSERT INTO hub_studies (id, name, owner_id, metric, direction, tolerance, baseline_commit, bundle, config_toml, program_md, created_at)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
    [id, b.name, owner, b.metric, b.direction, b.tolerance, b.baselineCommit, bundle, b.config, b.program, now],
  );
  return { kind: 'published', id };
}

export async function getStudy(db: pg.Pool | pg.PoolClient, id: string): Promise<StudyRow | null> {
  const r = await db.query(
    `SELECT id, name, owner_id, metric, direction, tolerance, baseline_commit, config_toml, program_md,
            octet_length(bundle) AS bundle_bytes, created_at FROM hub_studies WHERE id = $1`,
    [id],
  );
  const s = r.rows[0];
  if (!s) return null;
  return {
    id: s.id,
    name: s.name,
    ownerId: Number(s.owner_id),
    metric: s.metric,
    direction: s.direction,
    tolerance: s.tolerance,
    baselineCommit: s.baseline_commit,
    config: s.config_toml,
    program: s.program_md,
    bundleBytes: Number(s.bundle_bytes),
    createdAt: Number(s.created_at),
  };
}

export async function getBundle(pool: pg.Pool, id: string): Promise<Buffer | null> {
  const r = await pool.query<{ bundle: Buffer }>('SELECT bundle FROM hub_studies WHERE id = $1', [id]);
  return r.rows[0]?.bundle ?? null;
}
