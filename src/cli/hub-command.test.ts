import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cli, cliAsync } from '../test-support/cli.ts';
import { CPU, makeBaseline } from '../test-support/hub.ts';
import { type TestDatabase, testDatabase } from '../test-support/postgres.ts';

let db: TestDatabase;
before(async () => {
  db = await testDatabase('hubcli');
});
after(() => db.drop());

describe('autoresearch hub (the real CLI)', () => {
  it('token create prints a token once, serve accepts it, revoke stops it, SIGTERM stops the hub', async () => {
    const created = cli(['hub', 'token', 'create', 'alice', '--db', db.url]);
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.trim();
    assert.match(token, /^arh_[A-Za-z0-9_-]{43}$/);
    assert.match(created.stderr, /shown only now/);
    const dup = cli(['hub', 'token', 'create', 'alice', '--db', db.url]);
    assert.equal(dup.code, 1);
    assert.equal(dup.stderr, 'autoresearch: a contributor "alice" exists already; pick another name\n');
    // the env var instead of --db
    const bob = cli(['hub', 'token', 'create', 'bob'], { env: { AUTORESEARCH_HUB_DB: db.url } });
    assert.equal(bob.code, 0, bob.stderr);

    const child = cliAsync([
      'hub',
      'serve',
      '--db',
      db.url,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--lease-seconds',
      '30',
      '--pool',
      '5',
    ]);
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /hub listening on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`hub exited ${code}: ${out}`)));
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const base = makeBaseline();
      const call = (path: string, t: string, body?: unknown) =>
        fetch(`${url}${path}`, {
          method: body === undefined ? 'GET' : 'POST',
          headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      const pub = await call('/studies', token, {
        name: 'cli',
        metric: 'val_bpb',
        direction: 'minimize',
        tolerance: 0.01,
        baselineCommit: base.commit,
        bundleBase64: base.bundle.toString('base64'),
        config: '',
        program: '',
      });
      assert.equal(pub.status, 201);
      const { id } = (await pub.json()) as { id: string };
      const q = await call(`/studies/${id}/queue`, token, { parent: base.commit, diff: '+x\n' });
      assert.equal(q.status, 201);
      const before = Date.now();
      const w = (await (await call(`/studies/${id}/work`, token, { platform: CPU })).json()) as {
        work: { leaseExpiresAt: number };
      };
      const lease = w.work.leaseExpiresAt - before;
      assert.ok(lease >= 29_000 && lease <= 31_000, `--lease-seconds 30 gave a ${lease} ms lease`);
      const revoked = cli(['hub', 'token', 'revoke', 'alice', '--db', db.url]);
      assert.equal(revoked.code, 0, revoked.stderr);
      assert.equal(revoked.stdout, 'revoked "alice"\n');
      const after = await call(`/studies/${id}`, token);
      assert.equal(after.status, 401);
      assert.equal(((await after.json()) as { error: string }).error, 'this token was revoked');
      assert.equal((await call(`/studies/${id}`, bob.stdout.trim())).status, 200);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
  });

  it('says what to do when the database is missing, wrong or unreachable', () => {
    const none = cli(['hub', 'token', 'create', 'x'], { env: { AUTORESEARCH_HUB_DB: '' } });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^autoresearch: the hub needs a PostgreSQL database: pass --db/);
    const wrong = cli(['hub', 'serve', '--db', 'mysql://x']);
    assert.match(wrong.stderr, /expects a postgres:\/\/ URL/);
    const down = cli(['hub', 'token', 'revoke', 'x', '--db', 'postgres://nobody@127.0.0.1:1/none']);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /^autoresearch: cannot use the hub database: .*is PostgreSQL running/);
    assert.equal(down.stderr.split('\n').length, 2, 'one line');
    const unknown = cli(['hub', 'token', 'revoke', 'nobody', '--db', db.url]);
    assert.equal(unknown.stderr, 'autoresearch: no contributor "nobody"\n');
    const help = cli(['hub', '--help']);
    assert.match(help.stdout, /autoresearch hub token create alice/);
  });
});
