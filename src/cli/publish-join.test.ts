import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { loadConfig } from '../config/load.ts';
import { migrateHub } from '../hub/schema.ts';
import { type RunningHub, startHub } from '../hub/serve.ts';
import { createContributor } from '../hub/tokens.ts';
import { type CliResult, cli, cliAsync } from '../test-support/cli.ts';
import { type TestDatabase, testDatabase } from '../test-support/postgres.ts';
import { withHubSection } from './commands/join.ts';

let db: TestDatabase;
let hub: RunningHub;
let token: string;
const tmp = mkdtempSync(join(tmpdir(), 'publish-join-'));
before(async () => {
  db = await testDatabase('pubjoin');
  const pool = new pg.Pool({ connectionString: db.url, max: 1 });
  await migrateHub(pool);
  const t = await createContributor(pool, 'owner', Date.now());
  await pool.end();
  assert.ok(t.kind === 'created');
  token = t.token;
  hub = await startHub({ db: db.url, port: 0 });
});
after(async () => {
  await hub.close();
  await db.drop();
  rmSync(tmp, { recursive: true, force: true });
});

/** The CLI as a child process without blocking this process (the hub answers from here). */
function cliRun(args: string[], opts: { env?: Record<string, string> } = {}): Promise<CliResult> {
  const child = cliAsync(args, opts);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

describe('autoresearch publish / join (the real CLI)', () => {
  it('publishes a workspace and joins it elsewhere: same baseline, a [hub] section, a clean tree', async () => {
    const ws = join(tmp, 'ws');
    const init = cli(['init', ws, '--template', 'landscape']);
    assert.equal(init.code, 0, init.stderr);
    const env = { AUTORESEARCH_HUB_TOKEN: token };
    const noToken = await cliRun(['publish', ws, '--hub', hub.url, '--tolerance', '0.01'], {
      env: { AUTORESEARCH_HUB_TOKEN: '' },
    });
    assert.equal(noToken.code, 1);
    assert.match(noToken.stderr, /^autoresearch: set AUTORESEARCH_HUB_TOKEN/);
    const pub = await cliRun(
      ['publish', ws, '--hub', hub.url, '--tolerance', '0.01', '--name', 'landscape-demo', '--json'],
      { env },
    );
    assert.equal(pub.code, 0, pub.stderr);
    const { id, url } = JSON.parse(pub.stdout) as { id: string; url: string };
    assert.equal(url, `${hub.url}/studies/${id}`);
    const plain = await cliRun(['publish', ws, '--hub', hub.url, '--tolerance', '0.01'], { env });
    assert.match(plain.stdout, /^http:\/\/127\.0\.0\.1:\d+\/studies\/[0-9a-f-]{36}\n$/);

    const mine = join(tmp, 'mine');
    const joined = await cliRun(['join', url, mine], { env });
    assert.equal(joined.code, 0, joined.stderr);
    assert.match(joined.stdout, /^joined landscape-demo: /);
    assert.equal(git(mine, 'rev-parse', 'HEAD'), git(ws, 'rev-parse', 'HEAD'), 'the same baseline commit');
    assert.equal(git(mine, 'status', '--porcelain', '--untracked-files=no'), '', 'a clean tree: run can start');
    const loaded = loadConfig(mine);
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.message);
    assert.deepEqual(loaded.config.hub, { url: hub.url, study: id, verify: true });
    assert.equal(readFileSync(join(mine, 'program.md'), 'utf8'), readFileSync(join(ws, 'program.md'), 'utf8'));

    const again = await cliRun(['join', url, mine], { env });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists and is not empty/);
    const forged = await cliRun(['join', `${hub.url}/studies/00000000-0000-4000-8000-000000000000`, join(tmp, 'x')], {
      env,
    });
    assert.equal(forged.code, 1);
    assert.match(forged.stderr, /the hub refused: unknown study/);
    const notUrl = await cliRun(['join', 'http://example/nothing', join(tmp, 'y')], { env });
    assert.match(notUrl.stderr, /is not a study URL/);
    const down = await cliRun(['publish', ws, '--hub', 'http://127.0.0.1:1', '--tolerance', '0.01'], { env });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /unreachable.*is the hub running/);
  });

  it('withHubSection replaces an existing [hub] table and keeps the rest', () => {
    const before = '[study]\ntag = "a"\n\n[hub]\nurl = "http://old"\nstudy = "x"\n\n[run]\ncommand = "c"\n';
    const after = withHubSection(before, 'http://new:1', 'id');
    assert.equal(after, '[study]\ntag = "a"\n\n[run]\ncommand = "c"\n\n[hub]\nurl = "http://new:1"\nstudy = "id"\n');
  });
});
