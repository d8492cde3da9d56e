/**
 * The hub over a real listener (node:http, not `app.request`): body limits with and without a
 * Content-Length (the fast path reads only the header), and a revocation taking effect on the
 * very next request on a kept-alive connection.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { CPU, fakeSha, makeBaseline } from '../test-support/hub.ts';
import { type TestDatabase, testDatabase } from '../test-support/postgres.ts';
import { migrateHub } from './schema.ts';
import { type RunningHub, startHub } from './serve.ts';
import { createContributor, revokeContributor } from './tokens.ts';

let db: TestDatabase;
let pool: pg.Pool;
let hub: RunningHub;
let owner: string;
let study: string;
const base = makeBaseline();
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

type Reply = { status: number; json: Record<string, unknown> };
/** One request; `chunks` sends the body without a Content-Length (chunked), in those pieces. */
function send(method: string, path: string, token: string, body?: unknown, chunks?: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: http.OutgoingHttpHeaders = { authorization: `Bearer ${token}` };
    if (text !== undefined) headers['content-type'] = 'application/json';
    if (text !== undefined && !chunks) headers['content-length'] = Buffer.byteLength(text);
    const req = http.request(`${hub.url}${path}`, { method, headers, agent }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(parts).toString()) }));
    });
    req.on('error', reject);
    if (text !== undefined && chunks) {
      const size = Math.ceil(text.length / chunks);
      for (let i = 0; i < text.length; i += size) req.write(text.slice(i, i + size));
    }
    req.end(chunks ? undefined : text);
  });
}

const result = (over: Record<string, unknown> = {}) => ({
  id: `r-${Math.random().toString(36).slice(2, 12)}`,
  parent: base.commit,
  commit: fakeSha(5),
  diff: '-lr = 0.1\n+lr = 0.2\n',
  value: 0.99,
  status: 'discard',
  description: 'over http',
  platform: CPU,
  ...over,
});

before(async () => {
  db = await testDatabase('hubserve');
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  await migrateHub(pool);
  const o = await createContributor(pool, 'owner', Date.now());
  assert.ok(o.kind === 'created');
  owner = o.token;
  hub = await startHub({ db: db.url, port: 0, limits: { bodyBytes: 4096 } });
  const pub = await send('POST', '/studies', owner, {
    name: 'http',
    metric: 'val_bpb',
    direction: 'minimize',
    tolerance: 0.01,
    baselineCommit: base.commit,
    bundleBase64: base.bundle.toString('base64'),
    config: '',
    program: '',
  });
  assert.equal(pub.status, 201, JSON.stringify(pub.json));
  study = pub.json.id as string;
});
after(async () => {
  agent.destroy();
  await hub.close();
  await pool.end();
  await db.drop();
});

describe('hub over HTTP', () => {
  it('refuses a body over the limit with 413, with a Content-Length or chunked, and stores nothing', async () => {
    const big = result({ diff: 'x'.repeat(5000), description: 'too big' });
    for (const chunks of [0, 4]) {
      const r = await send('POST', `/studies/${study}/results`, owner, big, chunks);
      assert.equal(r.status, 413, `chunks: ${chunks}`);
      assert.match(String(r.json.error), /over 4096 bytes/);
    }
    const fits = await send('POST', `/studies/${study}/results`, owner, result({ description: 'fits' }), 3);
    assert.equal(fits.status, 201, 'a chunked body under the limit is read');
    const n = await pool.query("SELECT count(*)::int AS n FROM hub_results WHERE description = 'too big'");
    assert.equal(n.rows[0].n, 0);
  });

  it('a revoked token is refused on the very next request of its kept-alive connection', async () => {
    const t = await createContributor(pool, 'leaver', Date.now());
    assert.ok(t.kind === 'created');
    await pool.query(
      `INSERT INTO hub_work (study_id, kind, priority, payload, state, created_at)
       VALUES ($1, 'experiment', 1, jsonb_build_object('parent', $2::text, 'diff', '+y', 'description', ''), 'queued', 0)`,
      [study, base.commit],
    );
    const work = await send('POST', `/studies/${study}/work`, t.token, { platform: CPU });
    assert.equal(work.status, 200);
    const workId = (work.json.work as { id: number }).id;
    assert.equal((await send('POST', `/studies/${study}/results`, t.token, result())).status, 201);
    assert.equal(await revokeContributor(pool, 'leaver', Date.now()), true);
    const refused = await send('POST', `/studies/${study}/results`, t.token, result({ workId }));
    assert.equal(refused.status, 401);
    assert.match(String(refused.json.error), /revoked/);
    assert.equal((await send('POST', `/studies/${study}/work`, t.token, { platform: CPU })).status, 401);
    const w = await pool.query('SELECT state FROM hub_work WHERE id = $1', [workId]);
    assert.equal(w.rows[0].state, 'leased');
  });
});
