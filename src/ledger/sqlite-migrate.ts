/**
 * Applies ledger migrations to a SQLite database.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { MIGRATIONS, SCHEMA_MIGRATIONS_DDL, renderMigrationSql, type Migration } from './migrations/index.js';
import { LedgerError } from './types.js';

/**
 * Brings `db` up to the newest version in `migrations`.
 *
 * Contract: everything (bookkeeping table, every pending migration, their schema_migrations rows)
 * happens in one IMMEDIATE transaction, so two processes opening a fresh file at once apply each
 * migration exactly once and a failing migration leaves the schema as it was. Throws LedgerError
 * when the ledger records a version higher than the newest known one, or when a migration fails.
 * Returns the versions applied now (empty when already current).
 */
export function applySqliteMigrations(
  db: BetterSqlite3.Database,
  migrations: readonly Migration[] = MIGRATIONS,
  now: () => number = Date.now,
): number[] {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  const latest = sorted.at(-1)?.version ?? 0;
  const migrate = db.transaction((): number[] => {
    db.exec(SCHEMA_MIGRATIONS_DDL);
    const rows = db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[];
    const applied = new Set(rows.map((r) => Number(r.version)));
    const highest = Math.max(0, ...applied);
    if (highest > latest) {
      throw new LedgerError(`this ledger was written by a newer autoresearch (schema v${highest}); upgrade`);
    }
    const insert = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    const done: number[] = [];
    for (const m of sorted) {
      if (applied.has(m.version)) continue;
      try {
        db.exec(renderMigrationSql(m.up, 'sqlite'));
      } catch (err) {
        throw new LedgerError(`ledger migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, {
          cause: err,
        });
      }
      insert.run(m.version, m.name, now());
      done.push(m.version);
    }
    return done;
  });
  return migrate.immediate();
}
