import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CPU, fakeSha, type HubFixture, hubFixture } from '../test-support/hub.ts';
import { revokeContributor } from './tokens.ts';

let hub: HubFixture;
let alice: string;
let study: string;
before(async () => {
  hub = await hubFixture({ bodyBytes: 64 * 1024, publishBytes: 256 * 1024 });
  alice = await hub.token('alice');
  study = await hub.publish(alice);
});
after(() => hub.close());

const result = (over: Record<string, unknown> = {}) => ({
  id: `r-${randomUUID()}`,
  parent: hub.base.commit,
  commit: fakeSha(1),
  diff: '-lr = 0.1\n+lr = 0.2\n',
  value: 0.99,
  status: 'discard',
  description: 'lr 0.2',
  platform: CPU,
  ...over,
});

describe('hub: who may do what', () => {
  it('refuses a request without a token, with an unknown token and with a revoked token', async () => {
    const none = await hub.call('GET', `/studies/${study}`, null);
    assert.equal(none.status, 401);
    assert.match(none.json.error, /missing bearer token/);
    const unknown = await hub.call('GET', `/studies/${study}`, `arh_${'x'.repeat(43)}`);
    assert.equal(unknown.status, 401);
    assert.match(unknown.json.error, /unknown token/);
    const mallory = await hub.token('mallory');
    assert.equal((await hub.call('GET', `/studies/${study}`, mallory)).status, 200);
    assert.equal(await revokeContributor(hub.pool, 'mallory', hub.now.ms), true);
    const revoked = await hub.call('POST', `/studies/${study}/results`, mallory, result());
    assert.equal(revoked.status, 401);
    assert.match(revoked.json.error, /revoked/);
    const stored = await hub.pool.query("SELECT count(*)::int AS n FROM hub_results WHERE description = 'lr 0.2'");
    assert.equal(stored.rows[0].n, 0, 'nothing a revoked token sent was stored');
  });

  it('a revoked token is refused on its very next request, also where its owner was remembered (work, results)', async () => {
    const eve = await hub.token('eve');
    const queue = async () =>
      (await hub.call('POST', `/studies/${study}/queue`, alice, { parent: hub.base.commit, diff: '+eve\n' })).json
        .workId as number;
    const w1 = await queue();
    const w2 = await queue();
    const got1 = await hub.call('POST', `/studies/${study}/work`, eve, { platform: CPU });
    const got2 = await hub.call('POST', `/studies/${study}/work`, eve, { platform: CPU });
    assert.deepEqual([got1.json.work?.id, got2.json.work?.id], [w1, w2], 'the hub now remembers whose token this is');
    const posted = await hub.call('POST', `/studies/${study}/results`, eve, result({ workId: w1, description: 'eve' }));
    assert.equal(posted.status, 201);
    assert.equal(await revokeContributor(hub.pool, 'eve', hub.now.ms), true);
    const w3 = await queue();
    for (const [path, body] of [
      ['work', { platform: CPU }],
      ['results', result({ workId: w2, description: 'eve' })],
      ['results', result({ description: 'eve' })],
      ['results', result({ description: 'eve', status: 'keep', commit: fakeSha(31) })],
    ] as const) {
      const r = await hub.call('POST', `/studies/${study}/${path}`, eve, body);
      assert.equal(r.status, 401, `${path} after the revocation`);
      assert.match(r.json.error, /revoked/);
    }
    assert.equal((await hub.call('GET', `/studies/${study}`, eve)).status, 401);
    const stored = await hub.pool.query("SELECT count(*)::int AS n FROM hub_results WHERE description = 'eve'");
    assert.equal(stored.rows[0].n, 1, 'only the result posted before the revocation');
    const work = await hub.pool.query('SELECT id, state, holder_id FROM hub_work WHERE id = ANY($1) ORDER BY id', [
      [w2, w3],
    ]);
    assert.deepEqual(
      work.rows.map((r) => r.state),
      ['leased', 'queued'],
      'the held work is not closed, no new work was handed out',
    );
    await hub.pool.query("UPDATE hub_work SET state = 'done' WHERE id = ANY($1)", [[w2, w3]]); // out of later tests' way
  });

  it('refuses a forged study id (well-formed or not) with 404', async () => {
    for (const id of [randomUUID(), 'not-a-uuid', `${study}x`]) {
      const r = await hub.call('POST', `/studies/${id}/results`, alice, result());
      assert.equal(r.status, 404, id);
      assert.match(r.json.error, /unknown study/);
    }
  });

  it('refuses an oversized body with 413 and stores nothing', async () => {
    const r = await hub.call('POST', `/studies/${study}/results`, alice, result({ diff: 'x'.repeat(70 * 1024) }));
    assert.equal(r.status, 413);
    assert.match(r.json.error, /over 65536 bytes/);
    const big = await hub.call('POST', '/studies', alice, {
      name: 'big',
      metric: 'm',
      direction: 'minimize',
      tolerance: 0,
      baselineCommit: hub.base.commit,
      bundleBase64: Buffer.alloc(300 * 1024).toString('base64'),
      config: '',
      program: '',
    });
    assert.equal(big.status, 413);
    assert.match(big.json.error, /bundle too large/);
  });

  it('refuses malformed bodies with 400 naming the field', async () => {
    const notJson = await hub.call('POST', `/studies/${study}/results`, alice, '{"id": ');
    assert.equal(notJson.status, 400);
    assert.match(notJson.json.error, /not valid JSON/);
    const badValue = await hub.call('POST', `/studies/${study}/results`, alice, result({ value: 'low' }));
    assert.equal(badValue.status, 400);
    assert.match(badValue.json.error, /value/);
    const badCommit = await hub.call('POST', `/studies/${study}/results`, alice, result({ commit: 'HEAD' }));
    assert.match(badCommit.json.error, /commit: a full git commit id/);
    const twoPlatforms = await hub.call(
      'POST',
      `/studies/${study}/results`,
      alice,
      result({ platform: { ...CPU, gpu: { model: 'x', count: 1 } } }),
    );
    assert.equal(twoPlatforms.status, 400);
    assert.match(twoPlatforms.json.error, /either its gpu/);
    const extra = await hub.call('POST', `/studies/${study}/results`, alice, { ...result(), admin: true });
    assert.equal(extra.status, 400);
    const notBundle = await hub.call('POST', '/studies', alice, {
      name: 'x',
      metric: 'm',
      direction: 'minimize',
      tolerance: 0,
      baselineCommit: hub.base.commit,
      bundleBase64: Buffer.from('hello').toString('base64'),
      config: '',
      program: '',
    });
    assert.equal(notBundle.status, 400);
    assert.match(notBundle.json.error, /not a git bundle/);
  });

  it('refuses a result for work never handed out, or handed to another token', async () => {
    const never = await hub.call('POST', `/studies/${study}/results`, alice, result({ workId: 999_999 }));
    assert.equal(never.status, 403);
    assert.match(never.json.error, /never handed out/);
    const bob = await hub.token('bob-work');
    const queued = await hub.call('POST', `/studies/${study}/queue`, alice, { parent: hub.base.commit, diff: '+x\n' });
    assert.equal(queued.status, 201);
    const workId = queued.json.workId as number;
    const early = await hub.call('POST', `/studies/${study}/results`, bob, result({ workId }));
    assert.equal(early.status, 403, 'queued but not handed out yet');
    const got = await hub.call('POST', `/studies/${study}/work`, alice, { platform: CPU });
    assert.equal(got.json.work.id, workId);
    const stolen = await hub.call('POST', `/studies/${study}/results`, bob, result({ workId }));
    assert.equal(stolen.status, 403);
    assert.match(stolen.json.error, /leased to another contributor/);
    const notOwner = await hub.call('POST', `/studies/${study}/queue`, bob, { parent: hub.base.commit, diff: '+x\n' });
    assert.equal(notOwner.status, 403);
    const mine = await hub.call('POST', `/studies/${study}/results`, alice, result({ workId }));
    assert.equal(mine.status, 201);
    const again = await hub.call('POST', `/studies/${study}/results`, alice, result({ workId }));
    assert.equal(again.status, 409, 'a second, different result for the same work');
  });

  it('rate-limits each token (429 with Retry-After), not the others', async () => {
    const limited = await hubFixture({ ratePerSecond: 1, rateBurst: 3 });
    try {
      const t = await limited.token('busy');
      const calm = await limited.token('calm');
      const s = await limited.publish(t);
      const codes: number[] = [];
      for (let i = 0; i < 4; i++) codes.push((await limited.call('GET', `/studies/${s}`, t)).status);
      assert.deepEqual(codes, [200, 200, 429, 429]); // publish took one of the 3
      assert.equal((await limited.call('GET', `/studies/${s}`, calm)).status, 200);
      limited.now.ms += 2000;
      assert.equal((await limited.call('GET', `/studies/${s}`, t)).status, 200);
    } finally {
      await limited.close();
    }
  });
});

describe('hub: results, tree and notes', () => {
  it('a retried post never duplicates; a reused id with other content is refused', async () => {
    const r = result({ commit: fakeSha(77), description: 'retry me' });
    const first = await hub.call('POST', `/studies/${study}/results`, alice, r);
    assert.equal(first.status, 201);
    const retries = await Promise.all([1, 2, 3].map(() => hub.call('POST', `/studies/${study}/results`, alice, r)));
    for (const x of retries) {
      assert.equal(x.status, 200);
      assert.equal(x.json.duplicate, true);
    }
    const n = await hub.pool.query("SELECT count(*)::int AS n FROM hub_results WHERE description = 'retry me'");
    assert.equal(n.rows[0].n, 1);
    const reused = await hub.call('POST', `/studies/${study}/results`, alice, { ...r, value: 0.5 });
    assert.equal(reused.status, 409);
    const bob = await hub.token('bob-idem');
    assert.equal((await hub.call('POST', `/studies/${study}/results`, bob, r)).status, 409, 'another token, same id');
  });

  it('a reused result id for handed-out work is refused and leaves the work leased (the one statement undoes itself)', async () => {
    const taken = result({ commit: fakeSha(78), description: 'first' });
    assert.equal((await hub.call('POST', `/studies/${study}/results`, alice, taken)).status, 201);
    const workId = (
      await hub.call('POST', `/studies/${study}/queue`, alice, { parent: hub.base.commit, diff: '+reuse\n' })
    ).json.workId as number;
    let got = await hub.call('POST', `/studies/${study}/work`, alice, { platform: CPU });
    while (got.json.work && got.json.work.id !== workId) {
      // earlier tests' queued work: answer it so this test's work comes up
      await hub.call('POST', `/studies/${study}/results`, alice, result({ workId: got.json.work.id }));
      got = await hub.call('POST', `/studies/${study}/work`, alice, { platform: CPU });
    }
    assert.equal(got.json.work?.id, workId);
    const reused = await hub.call('POST', `/studies/${study}/results`, alice, { ...taken, workId, value: 0.5 });
    assert.equal(reused.status, 409);
    const w = await hub.pool.query('SELECT state, holder_id FROM hub_work WHERE id = $1', [workId]);
    assert.equal(w.rows[0].state, 'leased', 'the refused post did not close the lease');
    const answer = result({ workId, description: 'for work' });
    assert.equal((await hub.call('POST', `/studies/${study}/results`, alice, answer)).status, 201);
    const retry = await hub.call('POST', `/studies/${study}/results`, alice, answer);
    assert.equal(retry.status, 200, 'a retry of the accepted result for work is a duplicate');
    assert.equal(retry.json.duplicate, true);
  });

  it('serves the bundle, children, leaves, what was tried from a commit, and the notes board', async () => {
    const t = await hub.token('tree');
    const s = await hub.publish(t);
    const bundle = await hub.app.request(`http://hub.test/studies/${s}/bundle`, {
      headers: { authorization: `Bearer ${t}` },
    });
    assert.deepEqual(Buffer.from(await bundle.arrayBuffer()), hub.base.bundle);
    const post = (o: Record<string, unknown>) => hub.call('POST', `/studies/${s}/results`, t, result(o));
    await post({ status: 'baseline', commit: hub.base.commit, value: 1.0, description: 'baseline' });
    await post({ commit: fakeSha(10), value: 1.02, description: 'wider' });
    await post({ commit: fakeSha(11), value: 0.95, status: 'keep', description: 'lr up' });
    await post({ parent: fakeSha(11), commit: fakeSha(12), value: 0.97, description: 'on top' });
    const children = await hub.call('GET', `/studies/${s}/commits/${hub.base.commit}/children`, t);
    assert.deepEqual(
      children.json.children.map((c: { description: string }) => c.description),
      ['wider', 'lr up'],
    );
    const keep = children.json.children[1];
    assert.equal(keep.verification, 'provisional');
    assert.equal(keep.value, null, 'a claim being verified does not show its value');
    const node = await hub.call('GET', `/studies/${s}/commits/${fakeSha(11)}`, t);
    assert.equal(node.json.nodes[0].diff, '-lr = 0.1\n+lr = 0.2\n');
    const leaves = await hub.call('GET', `/studies/${s}/leaves`, t);
    assert.deepEqual(
      leaves.json.leaves.map((l: { commit: string }) => l.commit),
      [fakeSha(11)],
    );
    await hub.call('POST', `/studies/${s}/queue`, t, { parent: fakeSha(11), diff: '+y\n', description: 'queued idea' });
    const tried = await hub.call('GET', `/studies/${s}/tried?from=${fakeSha(11)}`, t);
    assert.deepEqual(
      tried.json.results.map((r: { description: string }) => r.description),
      ['on top'],
    );
    assert.deepEqual(
      tried.json.pending.map((p: { description: string }) => p.description),
      ['queued idea'],
    );
    const n1 = await hub.call('POST', `/studies/${s}/notes`, t, { key: 'n1', text: 'lr above 0.3 diverges' });
    assert.equal(n1.status, 201);
    const n1again = await hub.call('POST', `/studies/${s}/notes`, t, { key: 'n1', text: 'lr above 0.3 diverges' });
    assert.equal(n1again.json.duplicate, true);
    await hub.call('POST', `/studies/${s}/notes`, t, { commit: fakeSha(11), text: 'try warmup next' });
    const notes = await hub.call('GET', `/studies/${s}/notes`, t);
    assert.deepEqual(
      notes.json.notes.map((n: { text: string; contributor: string }) => `${n.contributor}: ${n.text}`),
      ['tree: try warmup next', 'tree: lr above 0.3 diverges'],
    );
    const onCommit = await hub.call('GET', `/studies/${s}/notes?commit=${fakeSha(11)}`, t);
    assert.equal(onCommit.json.notes.length, 1);
    assert.equal((await hub.call('POST', `/studies/${s}/notes`, t, { text: '' })).status, 400);
    const bad = await hub.call('GET', `/studies/${s}/tried?from=HEAD`, t);
    assert.equal(bad.status, 400);
  });
});
