import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { ledgerContract } from './ledger.contract.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from './migrations/index.js';
import { openLedger } from './open.js';
import { SqliteLedger } from './sqlite.js';
import { applySqliteMigrations } from './sqlite-migrate.js';
import { LedgerError } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let seq = 0;
const freshPath = (): string => join(dir, `t${seq++}`, 'nested', 'ledger.db');
const isLedgerError =
  (re: RegExp) =>
  (err: unknown): boolean =>
    err instanceof LedgerError && re.test(err.message);

ledgerContract('SqliteLedger', async () => {
  const path = freshPath();
  const ledger = SqliteLedger.open(path);
  return {
    ledger,
    reopen: async () => SqliteLedger.open(path),
    cleanup: async () => ledger.close(),
  };
});

ledgerContract('SqliteLedger :memory:', async () => {
  const ledger = SqliteLedger.open(':memory:');
  return { ledger, cleanup: async () => ledger.close() };
});

/** Runs a child node process that opens the ledger and races the others once GO_FILE exists. */
function spawnWriter(path: string, goFile: string, name: string, count: number) {
  const sqliteUrl = pathToFileURL(fileURLToPath(new URL('./sqlite.ts', import.meta.url))).href;
  const code = `
    import { existsSync } from 'node:fs';
    import { SqliteLedger } from ${JSON.stringify(sqliteUrl)};
    const env = process.env;
    const l = SqliteLedger.open(env.LEDGER_PATH);
    const s = await l.openStudy({ tag: 'race', branch: 'autoresearch/race', metric: 'val_bpb',
      direction: 'minimize', baseCommit: 'base', protectedHashes: {}, config: { by: env.NAME } });
    process.stdout.write('ready\\n');
    while (!existsSync(env.GO_FILE)) await new Promise((r) => setTimeout(r, 5));
    for (let i = 0; i < Number(env.COUNT); i++) {
      const e = await l.createExperiment(s.id, { baseline: false, parentCommit: 'p', proposer: env.NAME });
      await l.finishExperiment(e.id, { status: 'discard', value: i, metrics: { i } });
      await new Promise((r) => setTimeout(r, 1));
    }
    process.kill(process.pid, 'SIGKILL'); // no clean close: committed rows must survive kill -9
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    env: { ...process.env, LEDGER_PATH: path, GO_FILE: goFile, NAME: name, COUNT: String(count) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const ready = new Promise<void>((res, rej) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && res());
    child.on('exit', () => rej(new Error(`${name} exited before ready: ${stderr}`)));
  });
  const exited = new Promise<{ signal: NodeJS.Signals | null; stderr: string }>((res) =>
    child.on('exit', (_code, signal) => res({ signal, stderr })),
  );
  return { ready, exited };
}

describe('SqliteLedger specifics', () => {
  it('two processes opening a fresh file and creating concurrently get distinct numbers', {
    timeout: 60_000,
  }, async (t) => {
    const path = freshPath();
    const goFile = join(dir, `go-${seq++}`);
    const writers = ['A', 'B'].map((n) => spawnWriter(path, goFile, n, 15));
    await Promise.all(writers.map((w) => w.ready));
    writeFileSync(goFile, 'go');
    const ends = await Promise.all(writers.map((w) => w.exited));
    for (const end of ends) assert.equal(end.signal, 'SIGKILL', end.stderr);
    const ledger = SqliteLedger.open(path);
    try {
      const studies = await ledger.listStudies();
      assert.equal(studies.length, 1);
      const list = await ledger.listExperiments(studies[0]?.id ?? -1);
      assert.deepEqual(
        list.map((e) => e.number),
        [...Array(30).keys()],
      );
      assert.ok(list.every((e) => e.status === 'discard'));
      for (const n of ['A', 'B']) {
        const mine = list.filter((e) => e.proposer === n);
        assert.deepEqual(
          mine.map((e) => e.value),
          [...Array(15).keys()],
        );
      }
      // Overlap is likely, not guaranteed on a loaded machine; correctness above holds either way.
      const nums = (n: string) => list.filter((e) => e.proposer === n).map((e) => e.number);
      const overlapped =
        Math.min(...nums('A')) < Math.max(...nums('B')) && Math.min(...nums('B')) < Math.max(...nums('A'));
      if (!overlapped) t.diagnostic('the two writers did not overlap this time');
    } finally {
      await ledger.close();
    }
  });

  it('migrates an empty file and records the version once', async () => {
    const path = join(dir, `empty-${seq++}.db`);
    writeFileSync(path, '');
    await SqliteLedger.open(path).close();
    await SqliteLedger.open(path).close();
    const db = new Database(path, { readonly: true });
    try {
      const rows = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
      assert.deepEqual(
        rows,
        MIGRATIONS.map((m) => ({ version: m.version, name: m.name })),
      );
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table','index') ORDER BY name").all();
      assert.deepEqual(
        tables.map((t) => (t as { name: string }).name).filter((n) => !n.startsWith('sqlite_')),
        ['experiments', 'experiments_study_status', 'records', 'schema_migrations', 'studies'],
      );
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      db.close();
    }
  });

  it('refuses a ledger written by a newer schema', async () => {
    const path = freshPath();
    await SqliteLedger.open(path).close();
    const db = new Database(path);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
      LATEST_SCHEMA_VERSION + 7,
      'future',
      Date.now(),
    );
    db.close();
    const v = LATEST_SCHEMA_VERSION + 7;
    assert.throws(
      () => SqliteLedger.open(path),
      isLedgerError(new RegExp(`written by a newer autoresearch \\(schema v${v}\\); upgrade`)),
    );
    await assert.rejects(openLedger(`sqlite:${path}`, { root: '/' }), isLedgerError(/newer autoresearch/));
  });

  it('rolls back a failing migration entirely', () => {
    const db = new Database(':memory:');
    try {
      applySqliteMigrations(db);
      const bad = [
        ...MIGRATIONS,
        { version: 99, name: 'bad', up: 'CREATE TABLE half (a INTEGER); SELECT * FROM missing;' },
      ];
      assert.throws(() => applySqliteMigrations(db, bad), isLedgerError(/migration 99 \(bad\) failed/));
      assert.equal(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").get(), undefined);
      assert.deepEqual(db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get(), {
        v: LATEST_SCHEMA_VERSION,
      });
      assert.deepEqual(applySqliteMigrations(db), []);
    } finally {
      db.close();
    }
  });

  it('keeps migrations ordered with unique versions', () => {
    const versions = MIGRATIONS.map((m) => m.version);
    assert.deepEqual(
      versions,
      [...versions].sort((a, b) => a - b),
    );
    assert.equal(new Set(versions).size, versions.length);
    assert.equal(LATEST_SCHEMA_VERSION, versions.at(-1));
  });

  it('gives clear errors for a non-database file and a closed ledger', async () => {
    const path = join(dir, `junk-${seq++}.db`);
    writeFileSync(path, 'this is not a database, just some text that is long enough to have a header');
    assert.throws(() => SqliteLedger.open(path), isLedgerError(/cannot open SQLite ledger .*junk/));
    const l = SqliteLedger.open(':memory:');
    await l.close();
    await l.close();
    await assert.rejects(l.listStudies(), isLedgerError(/closed/));
  });
});
