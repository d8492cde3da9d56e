import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { CPU, fakeSha, type HubFixture, hubFixture, type Loose } from '../test-support/hub.ts';
import { startHub } from './serve.ts';
import { HAND_OUT, HAND_OUT_SETTINGS } from './work.ts';
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

describe('hub work: the hand-out plan', () => {
  it('hands out in priority order from a queue of thousands with one ordered index probe, bitmap scans off whatever the statistics say', async () => {
    const owner = await hub.token('plan-owner');
    const s = await hub.publish(owner);
    // A batch queued at once, as `bench:hub` does: the statistics have not seen it (no ANALYZE).
    await hub.pool.query(
      `INSERT INTO hub_work (study_id, kind, priority, payload, state, created_at)
       SELECT $1, 'experiment', 1, jsonb_build_object('parent', $2::text, 'diff', repeat('+x', 500) || g, 'description', 'idea ' || g), 'queued', 0
       FROM generate_series(1, 5000) g`,
      [s, hub.base.commit],
    );
    // The function carries its settings (a plan picked under stale statistics once scanned and
    // sorted the whole queue for every hand-out: ./work.ts).
    const fn = await hub.pool.query("SELECT proconfig FROM pg_proc WHERE proname = 'hub_hand_out'");
    assert.deepEqual(
      fn.rows[0]?.proconfig,
      Object.entries(HAND_OUT_SETTINGS).map(([k, v]) => `${k}=${v}`),
    );
    // Its statement, generic plan (what a prepared statement settles on), under those settings.
    const c = await hub.pool.connect();
    try {
      await c.query('BEGIN');
      for (const [k, v] of Object.entries(HAND_OUT_SETTINGS)) await c.query(`SET LOCAL ${k} = ${v}`);
      await c.query('SET LOCAL plan_cache_mode = force_generic_plan');
      await c.query(`PREPARE plan_probe(uuid, text, bigint, bigint, bigint) AS ${HAND_OUT}`);
      const r = await c.query(`EXPLAIN EXECUTE plan_probe('${s}', 'k', 1, ${hub.now.ms}, 1000)`);
      const plan = r.rows.map((x) => x['QUERY PLAN']).join('\n');
      assert.match(plan, /Index Scan using hub_work_queued/, plan);
      assert.doesNotMatch(plan, /Bitmap|Sort/, plan);
    } finally {
      await c.query('ROLLBACK').catch(() => {});
      await c.query('DEALLOCATE plan_probe').catch(() => {});
      c.release();
    }
    const got: number[] = [];
    for (let i = 0; i < 3; i++) {
      const w = await hub.call('POST', `/studies/${s}/work`, owner, { platform: CPU });
      assert.equal(w.status, 200, JSON.stringify(w.json));
      got.push(w.json.work.id);
    }
    const first = await hub.pool.query('SELECT id FROM hub_work WHERE study_id = $1 ORDER BY priority, id LIMIT 3', [
      s,
    ]);
    assert.deepEqual(
      got,
      first.rows.map((x) => Number(x.id)),
    );
  });
});
