/**
 * Ledger URL -> backend.
 */
import { isAbsolute, resolve } from 'node:path';
import { PostgresLedger } from './postgres.js';
import { SqliteLedger } from './sqlite.js';
import type { Ledger } from './types.js';
import { LedgerError } from './types.js';

export interface OpenLedgerOptions {
  /** Directory that relative SQLite paths are resolved against (the workspace root). */
  root: string;
  /** PostgreSQL: the password (from the variable named by [ledger] password_env); else pg's own PGPASSWORD. */
  password?: string;
}

/**
 * Opens the ledger named by `url`:
 * - `sqlite:PATH` — PATH relative to `opts.root` or absolute; `sqlite://PATH` is read like a
 *   file URL (`sqlite:///abs/ledger.db` is absolute, `sqlite://x.db` relative); `sqlite::memory:`
 *   is an in-memory ledger (tests);
 * - a bare path (no scheme; `C:\...` counts as a path) — same as `sqlite:PATH`;
 * - `postgres://` / `postgresql://` — a PostgreSQL ledger (./postgres.ts), `opts.password` for its user.
 * Rejects with a LedgerError for an empty URL, an unknown scheme, or a ledger that can't be
 * opened (see SqliteLedger.open).
 */
export async function openLedger(url: string, opts: OpenLedgerOptions): Promise<Ledger> {
  const spec = url.trim();
  if (spec === '') throw new LedgerError('ledger URL is empty');
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]+):/.exec(spec)?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') {
    return PostgresLedger.open(spec, opts.password !== undefined ? { password: opts.password } : {});
  }
  let path: string;
  if (scheme === undefined) {
    path = spec;
  } else if (scheme === 'sqlite') {
    path = spec.slice('sqlite:'.length);
    if (path.startsWith('//')) path = path.slice(2);
    if (path === '') throw new LedgerError(`ledger URL ${url} names no file`);
  } else {
    throw new LedgerError(`unsupported ledger URL scheme "${scheme}:" in ${url} (use sqlite:PATH or postgres://...)`);
  }
  if (path === ':memory:') return SqliteLedger.open(path);
  return SqliteLedger.open(isAbsolute(path) ? path : resolve(opts.root, path));
}
