import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import pg from 'pg';
import { freePort } from '../test-support/pg-cluster.ts';
import { testDatabase } from '../test-support/postgres.ts';
import { ledgerContract } from './ledger.contract.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from './migrations/index.js';
import { openLedger } from './open.js';
import { PostgresLedger } from './postgres.js';
import { applyPostgresMigrations } from './postgres-connect.js';
import { LedgerError } from './types.js';

const isLedgerError =
  (re: RegExp) =>
  (err: unknown): boolean =>
    err instanceof LedgerError && re.test(err.message);

ledgerContract('PostgresLedger', async () => {
  const db = await testDatabase('ledger');
  const ledger = await PostgresLedger.open(db.url);
  return {
    ledger,
    reopen: async () => PostgresLedger.open(db.url),
    cleanup: async () => {
      await ledger.close();
      await db.drop();
    },
  };
});

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

/** A child process that opens the ledger (racing the others on the migration) and creates experiments. */
function spawnWriter(url: string, name: string, count: number) {
  const modUrl = pathToFileURL(fileURLToPath(new URL('./postgres.ts', import.meta.url))).href;
  const code = `
    import { PostgresLedger } from ${JSON.stringify(modUrl)};
    const env = process.env;
    const l = await PostgresLedger.open(env.LEDGER_URL);
    const s = await l.openStudy({ tag: 'race', branch: 'autoresearch/race', metric: 'val_bpb',
      direction: 'minimize', baseCommit: 'base', protectedHashes: {}, config: { by: env.NAME } });
    await Promise.all(Array.from({ length: Number(env.COUNT) }, async (_, i) => {
      const e = await l.createExperiment(s.id, { baseline: false, parentCommit: 'p', proposer: env.NAME });
      await l.finishExperiment(e.id, { status: 'discard', value: i, metrics: { i } });
    }));
    process.kill(process.pid, 'SIGKILL'); // no clean close: committed rows must survive
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    env: { ...process.env, LEDGER_URL: url, NAME: name, COUNT: String(count) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise<{ signal: NodeJS.Signals | null; stderr: string }>((res) =>
    child.on('exit', (_code, signal) => res({ signal, stderr })),
  );
}

describe('PostgresLedger specifics', () => {
  it('four processes migrating a fresh database and creating at once get 0..N-1 without gaps', {
    timeout: 120_000,
  }, async () => {
    const db = await testDatabase('race');
    try {
      const ends = await Promise.all(['A', 'B', 'C', 'D'].map((n) => spawnWriter(db.url, n, 12)));
      for (const end of ends) assert.equal(end.signal, 'SIGKILL', end.stderr);
      const ledger = await PostgresLedger.open(db.url);
      try {
        const studies = await ledger.listStudies();
        assert.equal(studies.length, 1);
        const list = await ledger.listExperiments(studies[0]!.id);
        assert.deepEqual(
          list.map((e) => e.number),
          [...Array(48).keys()],
        );
        for (const n of ['A', 'B', 'C', 'D']) assert.equal(list.filter((e) => e.proposer === n).length, 12);
        assert.ok(list.every((e) => e.status === 'discard'));
      } finally {
        await ledger.close();
      }
      const versions = await query<{ version: number }>(db.url, 'SELECT version FROM schema_migrations ORDER BY 1');
      assert.deepEqual(
        versions.map((r) => r.version),
        MIGRATIONS.map((m) => m.version),
      );
    } finally {
      await db.drop();
    }
  });

  it('two pools in one process number without gaps too', async () => {
    const db = await testDatabase('pools');
    const a = await PostgresLedger.open(db.url);
    const b = await PostgresLedger.open(db.url);
    try {
      const s = await a.openStudy({
        tag: 't',
        branch: 'autoresearch/t',
        metric: 'm',
        direction: 'minimize',
        baseCommit: 'c',
        protectedHashes: {},
        config: {},
      });
      const made = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          (i % 2 ? a : b).createExperiment(s.id, { baseline: false, parentCommit: 'p', proposer: `p${i}` }),
        ),
      );
      assert.deepEqual(
        made.map((e) => e.number).sort((x, y) => x - y),
        [...Array(30).keys()],
      );
    } finally {
      await a.close();
      await b.close();
      await db.drop();
    }
  });

  it('refuses a database written by a newer schema', async () => {
    const db = await testDatabase('newer');
    try {
      await (await PostgresLedger.open(db.url)).close();
      const v = LATEST_SCHEMA_VERSION + 7;
      await query(db.url, 'INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        v,
        'future',
        Date.now(),
      ]);
      await assert.rejects(
        PostgresLedger.open(db.url),
        isLedgerError(new RegExp(`written by a newer autoresearch \\(schema v${v}\\); upgrade`)),
      );
      await assert.rejects(openLedger(db.url, { root: '/' }), isLedgerError(/newer autoresearch/));
    } finally {
      await db.drop();
    }
  });

  it('rolls back a failing migration entirely', async () => {
    const db = await testDatabase('badmig');
    const ledger = await PostgresLedger.open(db.url);
    const pool = new pg.Pool({ connectionString: db.url });
    try {
      const bad = [
        ...MIGRATIONS,
        { version: 99, name: 'bad', up: 'CREATE TABLE half (a INTEGER); SELECT * FROM missing;' },
      ];
      await assert.rejects(applyPostgresMigrations(pool, bad), isLedgerError(/migration 99 \(bad\) failed/));
      assert.deepEqual(await query(db.url, "SELECT to_regclass('half') AS t"), [{ t: null }]);
      assert.deepEqual(await applyPostgresMigrations(pool), []);
    } finally {
      await pool.end();
      await ledger.close();
      await db.drop();
    }
  });

  it('says clearly when the server is unreachable, and when the ledger is closed', async () => {
    const port = await freePort();
    await assert.rejects(
      openLedger(`postgres://nobody@127.0.0.1:${port}/x`, { root: '/' }),
      isLedgerError(new RegExp(`^could not connect to PostgreSQL at 127\\.0\\.0\\.1:${port}: .*; is it running\\?$`)),
    );
    const db = await testDatabase('closed');
    const missing = new URL(db.url);
    missing.pathname = '/no_such_db';
    await assert.rejects(
      PostgresLedger.open(missing.toString()),
      isLedgerError(/has no database "no_such_db": create it/),
    );
    const l = await openLedger(db.url.replace(/^postgres:/, 'postgresql:'), { root: '/' });
    await l.close();
    await l.close();
    await assert.rejects(l.listStudies(), isLedgerError(/closed/));
    await db.drop();
  });
});
