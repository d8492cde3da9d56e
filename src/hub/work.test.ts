import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { CPU, fakeSha, type HubFixture, hubFixture, type Loose } from '../test-support/hub.ts';
import { startHub } from './serve.ts';
import { createContributor } from './tokens.ts';

let hub: HubFixture;
before(async () => {
  hub = await hubFixture({ leaseMs: 1000 });
});
after(() => hub.close());

const result = (o: Record<string, unknown>) => ({
  id: `r-${randomUUID()}`,
  parent: hub.base.commit,
  commit: fakeSha(1),
  diff: '+x\n',
  value: 1,
  status: 'discard',
  platform: CPU,
  ...o,
});

describe('hub work: leases', () => {
  it('an expired lease is handed out again; the first holder can no longer post or heartbeat', async () => {
    const owner = await hub.token('lease-owner');
    const bob = await hub.token('lease-bob');
    const s = await hub.publish(owner);
    const q = await hub.call('POST', `/studies/${s}/queue`, owner, {
      parent: hub.base.commit,
      diff: '+a\n',
      description: 'idea',
    });
    const first = (await hub.call('POST', `/studies/${s}/work`, owner, { platform: CPU })).json.work;
    assert.equal(first.id, q.json.workId);
    assert.equal(first.leaseExpiresAt, hub.now.ms + 1000);
    assert.equal((await hub.call('POST', `/studies/${s}/work`, bob, { platform: CPU })).json.work, null, 'leased');
    hub.now.ms += 800;
    const hb = await hub.call('POST', `/studies/${s}/work/${first.id}/heartbeat`, owner);
    assert.equal(hb.json.leaseExpiresAt, hub.now.ms + 1000);
    hub.now.ms += 800;
    assert.equal(
      (await hub.call('POST', `/studies/${s}/work`, bob, { platform: CPU })).json.work,
      null,
      'heartbeat held it',
    );
    const notBobs = await hub.call('POST', `/studies/${s}/work/${first.id}/heartbeat`, bob);
    assert.equal(notBobs.status, 409);
    hub.now.ms += 1001;
    const again = (await hub.call('POST', `/studies/${s}/work`, bob, { platform: CPU })).json.work;
    assert.equal(again.id, first.id, 'expired: handed out again');
    const late = await hub.call('POST', `/studies/${s}/results`, owner, result({ workId: first.id }));
    assert.equal(late.status, 403);
    assert.equal((await hub.call('POST', `/studies/${s}/work/${first.id}/heartbeat`, owner)).status, 409);
    assert.equal((await hub.call('POST', `/studies/${s}/results`, bob, result({ workId: first.id }))).status, 201);
    assert.equal((await hub.call('POST', `/studies/${s}/work`, owner, { platform: CPU })).json.work, null, 'done');
  });

  it('concurrent requests never get the same work', async () => {
    const owner = await hub.token('conc-owner');
    const s = await hub.publish(owner);
    for (let i = 0; i < 6; i++)
      await hub.call('POST', `/studies/${s}/queue`, owner, { parent: hub.base.commit, diff: `+${i}\n` });
    const tokens = await Promise.all([...Array(12).keys()].map((i) => hub.token(`conc-${i}`)));
    const got = await Promise.all(tokens.map((t) => hub.call('POST', `/studies/${s}/work`, t, { platform: CPU })));
    const ids = got.map((g) => g.json.work?.id).filter((x) => x !== undefined);
    assert.equal(ids.length, 6);
    assert.equal(new Set(ids).size, 6);
  });
});

describe('hub restart', () => {
  it('a restarted hub (new process state, same database) loses nothing: study, results, leases, notes', async () => {
    const db = hub.url; // the fixture's database, migrated already; a second migrate is a no-op
    const admin = new pg.Pool({ connectionString: db, max: 1 });
    const made = await createContributor(admin, 'restart-a', Date.now());
    const madeB = await createContributor(admin, 'restart-b', Date.now());
    await admin.end();
    assert.ok(made.kind === 'created' && madeB.kind === 'created');
    const [a, b] = [made.token, madeB.token];
    const call = async (url: string, method: string, path: string, token: string, body?: unknown) => {
      const r = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: r.status, json: (await r.json()) as Loose };
    };
    let running = await startHub({ db, port: 0, limits: { leaseMs: 60_000 } });
    const pub = await call(running.url, 'POST', '/studies', a, {
      name: 'restart',
      metric: 'val_bpb',
      direction: 'minimize',
      tolerance: 0.01,
      baselineCommit: hub.base.commit,
      bundleBase64: hub.base.bundle.toString('base64'),
      config: '',
      program: '',
    });
    assert.equal(pub.status, 201);
    assert.equal(pub.json.url, `${running.url}/studies/${pub.json.id}`);
    const s = pub.json.id as string;
    const base = result({ status: 'baseline', commit: hub.base.commit, value: 1.0 });
    assert.equal((await call(running.url, 'POST', `/studies/${s}/results`, a, base)).status, 201);
    const w = (await call(running.url, 'POST', `/studies/${s}/work`, b, { platform: CPU })).json.work;
    await call(running.url, 'POST', `/studies/${s}/notes`, a, { text: 'before the restart' });
    await running.close();
    running = await startHub({ db, port: 0, limits: { leaseMs: 60_000 } });
    try {
      assert.equal((await call(running.url, 'POST', `/studies/${s}/results`, a, base)).json.duplicate, true);
      assert.equal((await call(running.url, 'POST', `/studies/${s}/work`, a, { platform: CPU })).json.work, null);
      assert.equal((await call(running.url, 'POST', `/studies/${s}/work/${w.id}/heartbeat`, b)).status, 200);
      const v = result({ workId: w.id, commit: w.commit, value: 1.001 });
      assert.equal((await call(running.url, 'POST', `/studies/${s}/results`, b, v)).json.outcome.frontierMoved, true);
      const f = (await call(running.url, 'GET', `/studies/${s}/frontier`, a)).json.platforms;
      assert.equal(f[0].best.value, 1.001);
      const notes = (await call(running.url, 'GET', `/studies/${s}/notes`, a)).json.notes;
      assert.equal(notes[0].text, 'before the restart');
    } finally {
      await running.close();
    }
  });
});
