import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { CPU, fakeSha, makeBaseline } from '../test-support/hub.ts';
import { type TestDatabase, testDatabase } from '../test-support/postgres.ts';
import { HubClient, parseStudyUrl } from './client.ts';
import { migrateHub } from './schema.ts';
import { type RunningHub, startHub } from './serve.ts';
import { createContributor } from './tokens.ts';

let db: TestDatabase;
let hub: RunningHub;
let token: string;
let other: string;
const dir = mkdtempSync(join(tmpdir(), 'hub-client-'));
const base = makeBaseline();
const fast = { attempts: 2, backoffMs: 5, timeoutMs: 5000 };

before(async () => {
  db = await testDatabase('hubclient');
  const pool = new pg.Pool({ connectionString: db.url, max: 1 });
  await migrateHub(pool);
  const a = await createContributor(pool, 'client-a', Date.now());
  const b = await createContributor(pool, 'client-b', Date.now());
  await pool.end();
  assert.ok(a.kind === 'created' && b.kind === 'created');
  token = a.token;
  other = b.token;
  hub = await startHub({ db: db.url, port: 0 });
});
after(async () => {
  await hub.close();
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(base.dir, { recursive: true, force: true });
});

async function resultsIn(id: string): Promise<number> {
  const pool = new pg.Pool({ connectionString: db.url, max: 1 });
  try {
    return (await pool.query('SELECT count(*)::int AS n FROM hub_results WHERE id = $1', [id])).rows[0].n;
  } finally {
    await pool.end();
  }
}

async function publish(client: HubClient): Promise<string> {
  const r = await client.publish({
    name: 'client',
    metric: 'val_bpb',
    direction: 'minimize',
    tolerance: 0.01,
    baselineCommit: base.commit,
    bundle: base.bundle,
    config: '[study]\n',
    program: '# p\n',
  });
  assert.equal(r.kind, 'ok');
  if (r.kind !== 'ok') throw new Error('unreachable');
  assert.deepEqual(parseStudyUrl(r.value.url), { base: hub.url, studyId: r.value.id });
  return r.value.id;
}

describe('HubClient against a real hub', () => {
  it('publishes, downloads the bundle, posts, reads the tree, notes and work', async () => {
    const c = new HubClient({ url: hub.url, token, ...fast });
    const s = await publish(c);
    const b = await c.bundle(s);
    assert.equal(b.kind, 'ok');
    assert.deepEqual(b.kind === 'ok' && b.value, base.bundle);
    const p = await c.postResult(s, {
      parent: base.commit,
      commit: base.commit,
      diff: '',
      value: 1,
      status: 'baseline',
      platform: CPU,
    });
    assert.equal(p.kind, 'posted');
    assert.equal(p.kind === 'posted' && p.verification, 'provisional');
    const v = new HubClient({ url: hub.url, token: other, ...fast });
    const w = await v.getWork(s, CPU);
    assert.ok(w.kind === 'ok' && w.value?.kind === 'verification');
    const hb = await v.heartbeat(s, w.value.id);
    assert.equal(hb.kind, 'ok');
    const done = await v.postResult(s, {
      workId: w.value.id,
      parent: base.commit,
      commit: base.commit,
      diff: '',
      value: 1.002,
      status: 'baseline',
      platform: CPU,
    });
    assert.equal(done.kind, 'posted');
    const f = await c.frontier(s);
    assert.ok(f.kind === 'ok');
    assert.equal((f.value.platforms[0] as { best: { value: number } }).best.value, 1.002);
    await c.postNote(s, { text: 'dropout hurts at this size' });
    const n = await v.notes(s);
    assert.ok(n.kind === 'ok');
    assert.equal(n.value.notes[0]!.text, 'dropout hurts at this size');
    const t = await c.tried(s, base.commit);
    assert.equal(t.kind, 'ok');
    const refused = await c.postResult('00000000-0000-4000-8000-000000000000', {
      parent: base.commit,
      commit: fakeSha(1),
      diff: '',
      value: 1,
      status: 'discard',
      platform: CPU,
    });
    assert.equal(refused.kind, 'refused');
    assert.match(refused.kind === 'refused' ? refused.message : '', /unknown study/);
  });

  it('retries a dropped connection with the same id: the hub has the result once', async () => {
    const c0 = new HubClient({ url: hub.url, token, ...fast });
    const s = await publish(c0);
    let calls = 0;
    // The first attempt reaches the hub, but its answer is "lost" (the client sees a network error).
    const lossy: typeof fetch = async (input, init) => {
      calls++;
      const res = await fetch(input, init);
      if (calls === 1) throw new TypeError('fetch failed (connection reset)');
      return res;
    };
    const c = new HubClient({ url: hub.url, token, fetch: lossy, ...fast });
    const p = await c.postResult(s, {
      parent: base.commit,
      commit: fakeSha(2),
      diff: '+a\n',
      value: 0.9,
      status: 'discard',
      platform: CPU,
    });
    assert.equal(calls, 2);
    assert.ok(p.kind === 'posted' && p.duplicate, JSON.stringify(p));
    assert.equal(await resultsIn(p.id), 1);
  });

  it('queues results in a file while the hub is down and posts them, once, when it is back', async () => {
    const c0 = new HubClient({ url: hub.url, token, ...fast });
    const s = await publish(c0);
    const queueFile = join(dir, 'queue.json');
    const port = hub.port;
    await hub.close();
    const offline = new HubClient({ url: hub.url, token, queueFile, ...fast });
    const q1 = await offline.postResult(s, {
      parent: base.commit,
      commit: fakeSha(3),
      diff: '+b\n',
      value: 0.9,
      status: 'discard',
      platform: CPU,
    });
    const q2 = await offline.postResult(s, {
      parent: base.commit,
      commit: fakeSha(4),
      diff: '+c\n',
      value: 0.8,
      status: 'keep',
      platform: CPU,
    });
    assert.equal(q1.kind, 'queued');
    assert.equal(q2.kind, 'queued');
    assert.match(q1.kind === 'queued' ? q1.message : '', /unreachable/);
    assert.equal(JSON.parse(readFileSync(queueFile, 'utf8')).length, 2);
    assert.deepEqual(await offline.flush(), { posted: 0, refused: [], remaining: 2, workIds: [] }, 'still down: kept');
    hub = await startHub({ db: db.url, port });
    // A new process (the contributor restarted) finds the queue on disk.
    const later = new HubClient({ url: hub.url, token, queueFile, ...fast });
    assert.equal(later.pending(), 2);
    assert.deepEqual(await later.flush(), { posted: 2, refused: [], remaining: 0, workIds: [] });
    assert.deepEqual(await later.flush(), { posted: 0, refused: [], remaining: 0, workIds: [] });
    assert.equal(await resultsIn(q1.id), 1);
    assert.equal(await resultsIn(q2.id), 1);
  });
});
