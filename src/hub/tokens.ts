/**
 * Contributor tokens: 32 random bytes (`arh_` + base64url), shown once, stored only as a sha256
 * hash. Revoking keeps the row (results stay attributed) and makes the token fail from then on.
 */
import { hash, randomBytes } from 'node:crypto';
import type pg from 'pg';

export interface Contributor {
  id: number;
  name: string;
  flagged: boolean;
}

export type Authenticated = { kind: 'ok'; contributor: Contributor } | { kind: 'unknown' } | { kind: 'revoked' };

export function hashToken(token: string): string {
  return hash('sha256', token, 'hex');
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
  return authenticateHash(pool, hashToken(token));
}

/** `authenticate` for a token already hashed (`hashToken`). */
export async function authenticateHash(pool: pg.Pool, tokenHash: string): Promise<Authenticated> {
  const r = await pool.query<{ id: string; name: string; revoked_at: string | null; flagged_at: string | null }>({
    name: 'hub_authenticate',
    text: 'SELECT id, name, revoked_at, flagged_at FROM hub_contributors WHERE token_hash = $1',
    values: [tokenHash],
  });
  const row = r.rows[0];
  if (!row) return { kind: 'unknown' };
  if (row.revoked_at !== null) return { kind: 'revoked' };
  return { kind: 'ok', contributor: { id: Number(row.id), name: row.name, flagged: row.flagged_at !== null } };
}

/** Who a token belongs to, without its mutable state (revoked, flagged): what never changes for a token. */
export type TokenOwner = Pick<Contributor, 'id' | 'name'>;

/**
 * Token hash -> owner, remembered after a successful lookup. Safe to keep without expiry: a
 * token's owner never changes (rows are never deleted, hashes are unique). It does NOT say the
 * token is still valid: a route served from it must check `revoked_at` (and read `flagged_at`)
 * in the very statement that does its work, so a revocation takes effect on the next request.
 * Bounded: cleared when `max` owners are held.
 */
export interface TokenOwners {
  get(tokenHash: string): TokenOwner | undefined;
  remember(tokenHash: string, owner: TokenOwner): void;
}

export function tokenOwners(max = 100_000): TokenOwners {
  const owners = new Map<string, TokenOwner>();
  return {
    get: (tokenHash) => owners.get(tokenHash),
    remember(tokenHash, owner) {
      if (owners.size >= max) owners.clear();
      owners.set(tokenHash, { id: owner.id, name: owner.name });
    },
  };
}
