/**
 * Opening a PostgreSQL ledger: the pool, the migrations (one transaction under an advisory lock,
 * so two hosts starting at once never race), and connection failures as one clear LedgerError.
 */
import pg from 'pg';
import { MIGRATIONS, SCHEMA_MIGRATIONS_DDL, renderMigrationSql, type Migration } from './migrations/index.js';
import { LedgerError } from './types.js';

export interface PostgresOptions {
  /** Password for the URL's user (the URL itself never carries one in autoresearch.toml). */
  password?: string;
  /** Connections in the pool (default 8). */
  max?: number;
  /** How long to wait for a connection before giving up (default 10 s). */
  connectTimeoutMs?: number;
}

/** Key of the advisory lock that serialises migrations (any constant; "auto" in ASCII). */
const MIGRATION_LOCK = 0x6175746f;

/** "host:port" of a postgres:// URL, for messages (the password is never shown). */
export function serverOf(url: string): string {
  try {
    const u = new URL(url);
    const host = decodeURIComponent(u.hostname) || u.searchParams.get('host') || process.env.PGHOST || 'localhost';
    const port = u.port || process.env.PGPORT || '5432';
    return `${host}:${port}`;
  } catch {
    return 'the configured server';
  }
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/(:\/\/[^/:@]*):[^@/]*@/, '$1:***@');
  }
}

/** A connection failure as one line that says what to do. */
export function connectError(url: string, err: unknown): LedgerError {
  const e = err as { code?: string; message?: string; errors?: unknown[] };
  const where = serverOf(url);
  const code = e.code ?? '';
  const msg =
    e.message || (Array.isArray(e.errors) ? e.errors.map((x) => (x as Error).message).join('; ') : String(err));
  if (code === '28P01' || code === '28000') {
    return new LedgerError(
      `PostgreSQL at ${where} refused the login: ${msg}. Put the password in the environment variable named by [ledger] password_env (default PGPASSWORD).`,
      { cause: err },
    );
  }
  if (code === '3D000') {
    const db = (() => {
      try {
        return new URL(url).pathname.slice(1);
      } catch {
        return '?';
      }
    })();
    return new LedgerError(`PostgreSQL at ${where} has no database "${db}": create it (createdb ${db}).`, {
      cause: err,
    });
  }
  return new LedgerError(`could not connect to PostgreSQL at ${where}: ${msg}; is it running?`, { cause: err });
}

/** Opens a pool and checks that the server answers; rejects with `connectError`. */
export async function openPool(url: string, opts: PostgresOptions = {}): Promise<pg.Pool> {
  const pool = new pg.Pool({
    connectionString: url,
    ...(opts.password !== undefined ? { password: opts.password } : {}),
    max: opts.max ?? 8,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
    idleTimeoutMillis: 30_000,
    keepAlive: true, // a connection to a host that went away fails instead of hanging
  });
  // An idle client whose server went away emits 'error' on the pool: without a listener Node
  // would crash the process. The next query gets a fresh connection (or fails as a LedgerError).
  pool.on('error', () => {});
  try {
    const c = await pool.connect();
    c.release();
  } catch (err) {
    await pool.end().catch(() => {});
    throw connectError(url, err);
  }
  return pool;
}

/**
 * Brings the database up to the newest migration. One transaction: the advisory lock (held until
 * it ends), the bookkeeping table, every pending migration and its row — so two hosts opening a
 * fresh database at once apply each migration exactly once, and a failing migration changes
 * nothing. Throws LedgerError for a newer schema or a failing migration. Returns what it applied.
 */
export async function applyPostgresMigrations(
  pool: pg.Pool,
  migrations: readonly Migration[] = MIGRATIONS,
  now: () => number = Date.now,
): Promise<number[]> {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  const latest = sorted.at(-1)?.version ?? 0;
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await c.query(SCHEMA_MIGRATIONS_DDL);
    const { rows } = await c.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((r) => Number(r.version)));
    const highest = Math.max(0, ...applied);
    if (highest > latest) {
      throw new LedgerError(`this ledger was written by a newer autoresearch (schema v${highest}); upgrade`);
    }
    const done: number[] = [];
    for (const m of sorted) {
      if (applied.has(m.version)) continue;
      try {
        await c.query(renderMigrationSql(m.up, 'postgres'));
      } catch (err) {
        throw new LedgerError(`ledger migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, {
          cause: err,
        });
      }
      await c.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        now(),
      ]);
      done.push(m.version);
    }
    await c.query('COMMIT');
    return done;
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    if (err instanceof LedgerError) throw err;
    throw new LedgerError(`migrating the PostgreSQL ledger failed: ${(err as Error).message}`, { cause: err });
  } finally {
    c.release();
  }
}

/**
 * True for a failure to reach the server (refused, reset, timed out, the connection ended or the
 * server is shutting down): transient, unlike an SQL error. node-postgres reports these as
 * socket errors (`code` ECONN*), SQLSTATE class 08 / 57P0x, or plain "Connection terminated".
 */
export function isUnreachable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; errors?: unknown[] } | null;
  if (!e) return false;
  if (Array.isArray(e.errors) && e.errors.some(isUnreachable)) return true; // AggregateError (every address failed)
  const code = typeof e.code === 'string' ? e.code : '';
  if (/^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN)$/.test(code))
    return true;
  if (/^08/.test(code) || /^57P0[123]$/.test(code)) return true;
  const msg = typeof e.message === 'string' ? e.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|connection timeout|Client has encountered a connection error/i.test(
    msg,
  );
}

/** A driver error as one line (its code and message). */
export function describeDriverError(err: unknown): string {
  const e = err as { code?: string; message?: string; errors?: unknown[] };
  const msg =
    e.message || (Array.isArray(e.errors) ? e.errors.map((x) => (x as Error).message).join('; ') : String(err));
  return e.code && !msg.includes(e.code) ? `${e.code}: ${msg}` : msg;
}
