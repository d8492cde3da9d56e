import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { testDatabase } from './postgres.ts';

test('each test database is a real, separate PostgreSQL database', async () => {
  const a = await testDatabase();
  const b = await testDatabase();
  try {
    assert.notEqual(a.url, b.url);
    const ca = new pg.Client({ connectionString: a.url });
    const cb = new pg.Client({ connectionString: b.url });
    await ca.connect();
    await cb.connect();
    try {
      await ca.query('CREATE TABLE t (x int)');
      await ca.query('INSERT INTO t VALUES (42)');
      const { rows } = await ca.query('SELECT x FROM t');
      assert.deepEqual(rows, [{ x: 42 }]);
      await assert.rejects(cb.query('SELECT x FROM t'), /does not exist/);
      const v = await ca.query('SHOW server_version');
      assert.match(v.rows[0].server_version, /^\d+/);
    } finally {
      await ca.end();
      await cb.end();
    }
  } finally {
    await a.drop();
    await b.drop();
  }
});
