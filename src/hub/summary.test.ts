/**
 * The hub's read views for people (GET /studies/:id/summary and GET /studies/:id/results) on a
 * real PostgreSQL: per-platform best and chain with verification times, which kept changes held on
 * another platform, recent results, contributors, waiting work, notes; and the blind rule: no
 * value a verifier could copy (a provisional claim's, or a re-run of a claim still provisional)
 * is readable before the claim is decided.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CPU, fakeSha, GPU, type HubFixture, hubFixture, type Loose } from '../test-support/hub.ts';
import { platformKey } from './wire.ts';

let hub: HubFixture;
const tok: Record<string, string> = {};
let study: string;
const T0 = 1_800_000_000_000;

before(async () => {
  hub = await hubFixture();
  for (const n of ['alice', 'bob', 'carol', 'mallory', 'gina', 'hank']) tok[n] = await hub.token(n);
  study = await hub.publish(tok.alice!);
});
after(() => hub.close());

async function post(who: string, o: Record<string, unknown>): Promise<Loose> {
  const r = await hub.call('POST', `/studies/${study}/results`, tok[who]!, {
    id: `r-${randomUUID()}`,
    parent: hub.base.commit,
    commit: fakeSha(1),
    diff: '+change\n',
    value: 1,
    status: 'discard',
    description: '',
    platform: CPU,
    ...o,
  });
  assert.ok(r.status === 201 || r.status === 200, JSON.stringify(r.json));
  return r.json;
}

/** `who` takes the next verification on `platform` and posts `value` for it. */
async function verify(who: string, value: number, platform = CPU): Promise<Loose> {
  const w = (await hub.call('POST', `/studies/${study}/work`, tok[who]!, { platform })).json.work;
  assert.equal(w?.kind, 'verification', `${who} got no verification`);
  return post(who, { workId: w.id, parent: w.parent, commit: w.commit, diff: w.diff, value, platform });
}

const summary = async (q = ''): Promise<Loose> => {
  const r = await hub.call('GET', `/studies/${study}/summary${q}`, tok.carol!);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json;
};
const results = async (q = ''): Promise<Loose[]> => {
  const r = await hub.call('GET', `/studies/${study}/results${q}`, tok.carol!);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json.results;
};

describe('hub summary and results', () => {
  it('shows each platform best, its chain over time, and which kept changes held on the other platform', async () => {
    hub.now.ms = T0;
    await post('alice', { status: 'baseline', commit: hub.base.commit, value: 1.0, description: 'baseline' });
    await verify('bob', 1.004);
    await post('gina', { status: 'baseline', commit: hub.base.commit, value: 0.8, platform: GPU });
    await verify('hank', 0.801, GPU);
    hub.now.ms = T0 + 60_000;
    await post('alice', { commit: fakeSha(2), diff: '+lr = 0.2\n', value: 0.95, status: 'keep', description: 'lr up' });
    let s = await summary();
    assert.equal(s.study.metric, 'val_bpb');
    assert.equal(s.counts.provisional, 1);
    assert.equal(s.work.verificationsQueued, 1);
    assert.equal(s.recent[0].description, 'lr up');
    assert.equal(s.recent[0].value, null, 'a provisional claim shows no value');
    assert.equal(s.recent[0].verification, 'provisional');
    assert.equal((await results())[0].value, null);
    hub.now.ms = T0 + 120_000;
    await verify('bob', 0.952);
    // The same change (same diff, another commit) tried on the GPU platform: claimed, then verified.
    await post('gina', { commit: fakeSha(12), diff: '+lr = 0.2\n', value: 0.78, status: 'keep', platform: GPU });
    s = await summary();
    const cpu = s.platforms.find((p: Loose) => p.platformKey === platformKey(CPU));
    assert.equal(cpu.label, 'Test CPU 9000 (node 20)');
    assert.equal(cpu.best.value, 0.952);
    assert.equal(cpu.chainLength, 2);
    assert.deepEqual(
      cpu.chain.map((c: Loose) => [c.status, c.value, c.verifiedAt]),
      [
        ['baseline', 1.004, T0],
        ['keep', 0.952, T0 + 120_000],
      ],
    );
    assert.deepEqual(cpu.chain[1].elsewhere, [
      {
        platformKey: platformKey(GPU),
        label: '1x H200 (torch 2.11)',
        held: 'pending',
        value: null,
        contributor: 'gina',
      },
    ]);
    await verify('hank', 0.781, GPU);
    s = await summary();
    const gpu = s.platforms.find((p: Loose) => p.platformKey === platformKey(GPU));
    assert.equal(gpu.best.value, 0.781);
    assert.equal(s.platforms.find((p: Loose) => p.label.startsWith('Test CPU')).chain[1].elsewhere[0].held, 'held');
    assert.equal(gpu.chain[1].elsewhere[0].held, 'held', 'and the GPU keep held on the CPU');
    assert.equal(gpu.chain[1].elsewhere[0].value, 0.952);
  });

  it('hides every value a verifier could copy until the claim is decided, then shows it', async () => {
    await post('mallory', { commit: fakeSha(3), value: 0.5, status: 'keep', description: 'miracle' });
    const claim = (await results()).find((r) => r.description === 'miracle')!;
    assert.equal(claim.value, null);
    await verify('bob', 0.99); // disagrees: disputed, a third contributor re-runs it
    const rows = await results('?limit=10');
    const rerun = rows.find((r) => r.verifies === claim.id)!;
    assert.equal(rerun.kind, 'verification');
    assert.equal(rerun.contributor, 'bob');
    assert.equal(rerun.value, null, "bob's reproduction is hidden while carol has to re-run the claim");
    const s = await summary('?recent=50');
    assert.ok(!JSON.stringify(s).includes('0.99,'), 'nowhere in the summary');
    assert.equal(s.recent.find((r: Loose) => r.id === rerun.id).value, null);
    await verify('carol', 0.991);
    const decided = await results('?limit=10');
    assert.equal(decided.find((r) => r.id === claim.id)!.value, 0.5, 'failed: the forged number is shown');
    assert.equal(decided.find((r) => r.id === claim.id)!.verification, 'failed');
    assert.equal(decided.find((r) => r.id === rerun.id)!.value, 0.99);
    const after = await summary();
    const m = after.contributors.find((c: Loose) => c.name === 'mallory');
    assert.equal(m.flagged, true);
    assert.equal(after.platforms.find((p: Loose) => p.label.startsWith('Test CPU')).best.value, 0.952);
    const bob = after.contributors.find((c: Loose) => c.name === 'bob');
    assert.equal(bob.verifications, 3);
    assert.equal(after.contributors.find((c: Loose) => c.name === 'alice').verifiedKeeps, 1);
  });

  it('counts notes and waiting work, filters results by platform and limit, and refuses bad queries', async () => {
    for (const text of ['try a smaller lr', 'warmup matters'])
      assert.equal((await hub.call('POST', `/studies/${study}/notes`, tok.bob!, { text })).status, 201);
    await hub.call('POST', `/studies/${study}/queue`, tok.alice!, { parent: hub.base.commit, diff: '+x\n' });
    const s = await summary();
    assert.equal(s.counts.notes, 2);
    assert.equal(s.work.experimentsQueued, 1);
    assert.equal(s.counts.verifications, 6);
    const gpu = await results(`?platform=${platformKey(GPU)}`);
    assert.equal(gpu.length, 4);
    assert.ok(gpu.every((r) => r.platformKey === platformKey(GPU)));
    assert.equal((await results('?limit=2')).length, 2);
    assert.equal((await results('?limit=2'))[0].id, (await results())[0].id, 'newest first');
    for (const q of ['?limit=0', '?limit=1001', '?limit=x', '?platform=h200']) {
      const r = await hub.call('GET', `/studies/${study}/results${q}`, tok.bob!);
      assert.equal(r.status, 400, q);
    }
    assert.equal((await hub.call('GET', `/studies/${study}/summary?recent=0`, tok.bob!)).status, 400);
    assert.equal((await hub.call('GET', `/studies/${randomUUID()}/summary`, tok.bob!)).status, 404);
    assert.equal((await hub.call('GET', `/studies/${study}/results`, null)).status, 401);
  });
});
