/**
 * Contributor tokens: 32 random bytes (`arh_` + base64url), shown once, stored only as a sha256
 * hash. Revoking keeps the row (results stay attributed) and makes the token fail from then on.
 */
import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';

export interface Contributor {
  id: number;
  name: string;
  flagged: boolean;
}

export type Authenticated = { kind: 'ok'; contributor: Contributor } | { kind: 'unknown' } | { kind: 'revoked' };

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function newToken(): string {
  return `arh_${randomBytes(32).toString('base64url')}`;
}

export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export type CreateTokenResult =
  | { kind: 'created'; token: string; id: number }
  | { kind: 'exists' }
  | { kind: 'bad-name' };

/** Creates a contributor and returns its token (the only time it is visible). */
export async function createContributor(pool: pg.Pool, name: string, now: number): Promise<CreateTokenResult> {
  if (!NAME_RE.test(name)) return { kind: 'bad-name' };
  const token = newToken();
  const r = await pool.query<{ id: string }>(
    `INSERT INTO hub_contributors (name, token_hash, created_at) VALUES ($1, $2, $3)
     ON CONFLICT (name) DO NOTHING RETURNING id`,
    [name, hashToken(token), now],
  );
  if (r.rowCount === 0) return { kind: 'exists' };
  return { kind: 'created', token, id: Number(r.rows[0]!.id) };
}

/** Revokes a contributor's token; `false` when there is no such contributor. */
export async function revokeContributor(pool: pg.Pool, name: string, now: number): Promise<boolean> {
  const r = await pool.query('UPDATE hub_contributors SET revoked_at = COALESCE(revoked_at, $2) WHERE name = $1', [
    name,
    now,
  ]);
  return (r.rowCount ?? 0) > 0;
}

export async function authenticate(pool: pg.Pool, token: string): Promise<Authenticated> {
  const r = await pool.query<{ id: string; name: string; revoked_at: string | null; flagged_at: string | null }>(
    'SELECT id, name, revoked_at, flagged_at FROM hub_contributors WHERE token_hash = $1',
    [hashToken(token)],
  );
  const row = r.rows[0];
  if (!row) return { kind: 'unknown' };
  if (row.revoked_at !== null) return { kind: 'revoked' };
  return { kind: 'ok', contributor: { id: Number(row.id), name: row.name, flagged: row.flagged_at !== null } };
}
