/**
 * Test support: a fresh, empty PostgreSQL database for one test (or suite).
 *
 * `scripts/run-tests.mjs` starts one throw-away cluster for the whole test run and passes its URL
 * in AUTORESEARCH_TEST_PG_URL; a test file run on its own starts its own cluster, stopped when the
 * process exits. Each call creates a new database, so test files never see each other's tables.
 */
import pg from 'pg';
import { type PgCluster, startCluster } from './pg-cluster.ts';

let own: Promise<PgCluster> | null = null;

async function serverUrl(): Promise<string> {
  const fromRunner = process.env.AUTORESEARCH_TEST_PG_URL;
  if (fromRunner) return fromRunner;
  if (!own) {
    own = startCluster();
    const cluster = await own;
    process.once('exit', () => cluster.stop());
  }
  return (await own).url;
}

export interface TestDatabase {
  /** postgres://... URL of the new database. */
  url: string;
  /** Drops the database (terminating its connections). */
  drop(): Promise<void>;
}

let counter = 0;

export async function testDatabase(prefix = 'ar'): Promise<TestDatabase> {
  const admin = await serverUrl();
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter++}`.toLowerCase();
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      try {
        // A pool's end() resolves once its clients are told to end, before their backends have
        // gone: a FORCE drop then terminates them, and a client still closing raises "terminating
        // connection due to administrator command" in the test that closed it. Wait for them first
        // (a connection left open on purpose is still terminated after 5 s).
        for (let waited = 0; waited < 5000; waited += 25) {
          const r = await c.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
          if (r.rows[0].n === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
