/** Public surface of the ledger module. */
export * from './types.js';
export { SqliteLedger } from './sqlite.js';
export { PostgresLedger } from './postgres.js';
export { openLedger, type OpenLedgerOptions } from './open.js';
export { formatResultsTsv, NO_COMMIT, type ResultsTsvOptions } from './results-tsv.js';
export {
  MIGRATIONS,
  LATEST_SCHEMA_VERSION,
  renderMigrationSql,
  type Migration,
  type SqlDialect,
} from './migrations/index.js';
