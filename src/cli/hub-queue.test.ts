/**
 * `autoresearch hub queue` (the real CLI) against a real hub listener over the test PostgreSQL:
 * the owner queues from a file and from stdin, with and without a platform; anyone else is
 * refused (403); bad input is one line saying what to do.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { HubClient } from '../hub/client.ts';
import { detectPlatform } from '../hub/platform.ts';
import { migrateHub } from '../hub/schema.ts';
import { type RunningHub, startHub } from '../hub/serve.ts';
import { createContributor } from '../hub/tokens.ts';
import { platformKey } from '../hub/wire.ts';
import { cliCollect } from '../test-support/cli.ts';
import { makeBaseline } from '../test-support/hub.ts';
import { type TestDatabase, testDatabase } from '../test-support/postgres.ts';

let db: TestDatabase;
let pool: pg.Pool;
let hub: RunningHub;
let url: string;
let base: ReturnType<typeof makeBaseline>;
const tokens: Record<string, string> = {};
const tmp = mkdtempSync(join(tmpdir(), 'hub-queue-cli-'));
const DIFF = '--- a/train.py\n+++ b/train.py\n@@ -1 +1 @@\n-lr = 0.1\n+lr = 0.05\n';

before(async () => {
  db = await testDatabase('hubqueue');
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  await migrateHub(pool);
  for (const name of ['owner', 'mallory']) {
    const t = await createContributor(pool, name, Date.now());
    assert.ok(t.kind === 'created');
    tokens[name] = t.token;
  }
  hub = await startHub({ db: db.url, port: 0 });
  base = makeBaseline();
  const pub = await new HubClient({ url: hub.url, token: tokens.owner! }).publish({
    name: 'q',
    metric: 'val_bpb',
    direction: 'minimize',
    tolerance: 0.01,
    baselineCommit: base.commit,
    bundle: base.bundle,
    config: '',
    program: '',
  });
  assert.equal(pub.kind, 'ok');
  url = pub.kind === 'ok' ? pub.value.url : '';
});
after(async () => {
  await hub?.close();
  await pool?.end();
  await db?.drop();
  rmSync(tmp, { recursive: true, force: true });
  if (base) rmSync(base.dir, { recursive: true, force: true });
});

const as = (who: string, input?: string) => ({
  env: { AUTORESEARCH_HUB_TOKEN: tokens[who] ?? '' },
  ...(input !== undefined ? { input } : {}),
});

async function work(id: number) {
  const r = await pool.query('SELECT kind, state, platform_key, payload FROM hub_work WHERE id = $1', [id]);
  return r.rows[0];
}

describe('autoresearch hub queue (the real CLI)', () => {
  it('the owner queues a diff from a file or stdin; the hub holds it as experiment work', async () => {
    const file = join(tmp, 'lr.diff');
    writeFileSync(file, DIFF);
    const r = await cliCollect(
      ['hub', 'queue', url, '--diff', file, '--parent', base.commit, '--description', 'lr 0.1 -> 0.05'],
      as('owner'),
    );
    assert.equal(r.code, 0, r.stderr);
    const m = /^queued work #(\d+) on [0-9a-f]{12}: the next contributor asking for work runs it\n$/.exec(r.stdout);
    assert.ok(m, r.stdout);
    const w = await work(Number(m[1]));
    assert.equal(w.kind, 'experiment');
    assert.equal(w.state, 'queued');
    assert.equal(w.platform_key, null);
    assert.deepEqual(w.payload, { parent: base.commit, diff: DIFF, description: 'lr 0.1 -> 0.05' });

    const s = await cliCollect(
      [
        'hub',
        'queue',
        url,
        '--diff',
        '-',
        '--parent',
        base.commit,
        '--description',
        'from stdin',
        '--platform',
        'here',
        '--json',
      ],
      as('owner', DIFF),
    );
    assert.equal(s.code, 0, s.stderr);
    const { workId } = JSON.parse(s.stdout) as { workId: number };
    const v = await work(workId);
    assert.equal(v.payload.description, 'from stdin');
    assert.equal(v.platform_key, platformKey(detectPlatform(process.cwd())), '--platform here: this machine');

    const j = await cliCollect(
      [
        'hub',
        'queue',
        url,
        '--diff',
        file,
        '--parent',
        base.commit,
        '--description',
        'gpu only',
        '--platform',
        '{"gpu":{"model":"H200","count":1}}',
      ],
      as('owner'),
    );
    assert.equal(j.code, 0, j.stderr);
    assert.match(j.stdout, /for platform [0-9a-f]{16}/);
  });

  it('refuses anyone but the study owner (403), and bad input with one line', async () => {
    const file = join(tmp, 'm.diff');
    writeFileSync(file, DIFF);
    const args = ['hub', 'queue', url, '--diff', file, '--parent', base.commit, '--description', 'x'];
    const before = await pool.query('SELECT count(*)::int AS n FROM hub_work');
    const m = await cliCollect(args, as('mallory'));
    assert.equal(m.code, 1);
    assert.equal(
      m.stderr,
      'autoresearch: the hub refused to queue it (403): only the study owner queues experiments\n',
    );
    const after = await pool.query('SELECT count(*)::int AS n FROM hub_work');
    assert.equal(after.rows[0].n, before.rows[0].n, 'nothing queued');

    const none = await cliCollect(args, { env: { AUTORESEARCH_HUB_TOKEN: '' } });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^autoresearch: set AUTORESEARCH_HUB_TOKEN to your hub token/);
    const badParent = await cliCollect(
      ['hub', 'queue', url, '--diff', file, '--parent', 'HEAD', '--description', 'x'],
      as('owner'),
    );
    assert.equal(badParent.stderr, 'autoresearch: --parent expects a full commit id (40 hex characters), got "HEAD"\n');
    const badUrl = await cliCollect(
      ['hub', 'queue', 'http://x/y', '--diff', file, '--parent', base.commit, '--description', 'x'],
      as('owner'),
    );
    assert.match(badUrl.stderr, /is not a study URL/);
    const empty = await cliCollect(
      ['hub', 'queue', url, '--diff', '-', '--parent', base.commit, '--description', 'x'],
      as('owner', ''),
    );
    assert.equal(empty.stderr, 'autoresearch: the diff is empty: nothing to queue\n');
    const badPlatform = await cliCollect([...args, '--platform', '{"tpu":1}'], as('owner'));
    assert.match(badPlatform.stderr, /^autoresearch: --platform: /);
    const help = await cliCollect(['hub', 'queue', '--help']);
    assert.match(help.stdout, /Examples:/);
  });
});
