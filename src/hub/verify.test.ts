import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CPU, fakeSha, GPU, type HubFixture, hubFixture, type Loose } from '../test-support/hub.ts';

let hub: HubFixture;
before(async () => {
  hub = await hubFixture();
});
after(() => hub.close());

interface Crowd {
  study: string;
  tokens: Record<string, string>;
  post(who: string, o: Record<string, unknown>): Promise<{ status: number; json: Loose }>;
  work(who: string, platform?: object): Promise<Loose>;
  frontier(): Promise<Loose[]>;
  /** Runs the next verification handed to `who` and posts `value` for it. */
  verify(who: string, value: number | null): Promise<Loose>;
}

async function crowd(names: string[]): Promise<Crowd> {
  const tokens: Record<string, string> = {};
  for (const n of names) tokens[n] = await hub.token(`${n}-${randomUUID().slice(0, 8)}`);
  const study = await hub.publish(tokens[names[0]!]!);
  const c: Crowd = {
    study,
    tokens,
    post: (who, o) =>
      hub.call('POST', `/studies/${study}/results`, tokens[who]!, {
        id: `r-${randomUUID()}`,
        parent: hub.base.commit,
        commit: fakeSha(1),
        diff: '+change\n',
        value: 1,
        status: 'discard',
        description: '',
        platform: CPU,
        ...o,
      }),
    async work(who, platform = CPU) {
      const r = await hub.call('POST', `/studies/${study}/work`, tokens[who]!, { platform });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      return r.json.work;
    },
    async frontier() {
      return (await hub.call('GET', `/studies/${study}/frontier`, tokens[names[0]!]!)).json.platforms;
    },
    async verify(who, value) {
      const w = await c.work(who);
      assert.ok(w, `${who} got no work`);
      assert.equal(w.kind, 'verification');
      const r = await c.post(who, {
        workId: w.id,
        parent: w.parent,
        commit: w.commit,
        diff: w.diff,
        value,
        status: 'discard',
      });
      assert.equal(r.status, 201, JSON.stringify(r.json));
      return r.json;
    },
  };
  return c;
}

/** Baseline 1.0 claimed by `who`, verified by `verifier`. */
async function baseline(c: Crowd, who: string, verifier: string): Promise<void> {
  await c.post(who, { status: 'baseline', commit: hub.base.commit, value: 1.0 });
  const v = await c.verify(verifier, 1.004);
  assert.deepEqual(v.outcome, { kind: 'verified', frontierMoved: true });
}

describe('verification (the BOINC rule)', () => {
  it('a claim moves its platform best only after another contributor on that platform reproduces it', async () => {
    const c = await crowd(['alice', 'bob', 'gpu']);
    await c.post('alice', { status: 'baseline', commit: hub.base.commit, value: 1.0 });
    assert.deepEqual(await c.frontier(), [], 'an unverified baseline is no frontier');
    assert.equal(await c.work('alice'), null, 'nobody verifies their own claim');
    assert.equal(await c.work('gpu', GPU), null, 'another platform does not verify it');
    const w = await c.work('bob');
    assert.equal(w.kind, 'verification');
    assert.equal(w.value, undefined, 'verification is blind: the claimed value is not handed out');
    await c.post('bob', { workId: w.id, parent: w.parent, commit: w.commit, value: 1.004, status: 'discard' });
    let f = await c.frontier();
    assert.equal(f.length, 1);
    assert.equal(f[0].best.commit, hub.base.commit);
    assert.equal(f[0].best.value, 1.004, 'the worse of claim and reproduction');

    const keep = await c.post('alice', { commit: fakeSha(2), value: 0.95, status: 'keep', description: 'lr up' });
    assert.equal(keep.json.verification, 'provisional');
    assert.equal((await c.frontier())[0].best.commit, hub.base.commit, 'provisional: nothing moved');
    const v = await c.verify('bob', 0.952);
    assert.deepEqual(v.outcome, { kind: 'verified', frontierMoved: true });
    f = await c.frontier();
    assert.equal(f[0].best.commit, fakeSha(2));
    assert.equal(f[0].best.value, 0.952);
    assert.deepEqual(
      f[0].chain.map((n: { commit: string }) => n.commit),
      [hub.base.commit, fakeSha(2)],
    );
    const people = (await hub.call('GET', `/studies/${c.study}/contributors`, c.tokens.alice!)).json.contributors;
    const alice = people.find((p: { name: string }) => p.name.startsWith('alice'));
    assert.equal(alice.verifiedKeeps, 1);
    assert.equal(alice.flagged, false);
  });

  it('a forged result never moves the verified frontier, and its contributor is flagged after two failed verifications', async () => {
    const c = await crowd(['alice', 'bob', 'carol', 'mallory']);
    await baseline(c, 'alice', 'bob');
    const forged = await c.post('mallory', { commit: fakeSha(3), value: 0.5, status: 'keep', description: 'miracle' });
    assert.equal(forged.json.verification, 'provisional');
    const other = await c.post('mallory', {
      commit: fakeSha(4),
      value: 0.6,
      status: 'keep',
      description: 'second miracle',
    });
    assert.equal(other.status, 201);
    assert.equal((await c.verify('bob', 0.99)).outcome.kind, 'disputed');
    assert.equal((await c.frontier())[0].best.commit, hub.base.commit);
    // The tie-breaker goes to a third contributor: not mallory, not bob (bob gets mallory's second claim).
    const bobNext = await c.work('bob');
    assert.equal(bobNext.commit, fakeSha(4));
    const carol = await c.work('carol');
    assert.equal(carol.commit, fakeSha(3));
    const r = await c.post('carol', { workId: carol.id, parent: carol.parent, commit: carol.commit, value: 0.991 });
    assert.equal(r.json.outcome.kind, 'failed');
    const f = await c.frontier();
    assert.equal(f[0].best.commit, hub.base.commit, 'the frontier never moved');
    assert.equal(f[0].best.value, 1.004);
    const people = (await hub.call('GET', `/studies/${c.study}/contributors`, c.tokens.alice!)).json.contributors;
    const m = people.find((p: { name: string }) => p.name.startsWith('mallory'));
    assert.equal(m.flagged, true);
    assert.match(m.flagReason, /failed verification/);
    // Mallory's other pending claim is untrusted now and its verification work is withdrawn.
    const second = (await hub.call('GET', `/studies/${c.study}/commits/${fakeSha(4)}`, c.tokens.alice!)).json.nodes[0];
    assert.equal(second.verification, 'untrusted');
    const late = await c.post('bob', {
      workId: bobNext.id,
      parent: bobNext.parent,
      commit: bobNext.commit,
      value: 0.6,
    });
    assert.equal(late.status, 409, 'withdrawn work takes no result');
    // From now on mallory's claims are untrusted at once, and mallory verifies nothing.
    const more = await c.post('mallory', { commit: fakeSha(5), value: 0.4, status: 'keep' });
    assert.equal(more.json.verification, 'untrusted');
    await c.post('alice', { commit: fakeSha(6), value: 0.97, status: 'keep' });
    assert.equal(await c.work('mallory'), null, 'a flagged contributor is handed no verification');
    assert.equal((await c.verify('bob', 0.971)).outcome.frontierMoved, true);
    assert.equal((await c.frontier())[0].best.commit, fakeSha(6));
  });

  it('a verifier who lies about an honest claim is outvoted and flagged', async () => {
    const c = await crowd(['alice', 'bob', 'carol', 'liar']);
    await baseline(c, 'alice', 'bob');
    await c.post('alice', { commit: fakeSha(7), value: 0.95, status: 'keep' });
    assert.equal((await c.verify('liar', 1.2)).outcome.kind, 'disputed');
    assert.equal(await c.work('liar'), null, 'the disputing verifier does not get the tie-breaker');
    assert.deepEqual((await c.verify('carol', 0.951)).outcome, { kind: 'verified', frontierMoved: true });
    const people = (await hub.call('GET', `/studies/${c.study}/contributors`, c.tokens.alice!)).json.contributors;
    assert.equal(people.find((p: { name: string }) => p.name.startsWith('liar')).flagged, true);
    assert.equal(people.find((p: { name: string }) => p.name.startsWith('alice')).flagged, false);
  });

  it('a crashed reproduction does not confirm; a verified claim on an old best is kept as a leaf, not moved onto', async () => {
    const c = await crowd(['alice', 'bob', 'carol']);
    await baseline(c, 'alice', 'bob');
    await c.post('alice', { commit: fakeSha(8), value: 0.95, status: 'keep' });
    await c.post('carol', { commit: fakeSha(9), value: 0.96, status: 'keep' });
    assert.equal((await c.verify('bob', null)).outcome.kind, 'disputed', 'a crash is no reproduction');
    assert.equal((await c.verify('bob', 0.961)).outcome.frontierMoved, true); // carol's claim
    const tie = await c.work('carol');
    assert.equal(tie.commit, fakeSha(8));
    const r = await c.post('carol', { workId: tie.id, parent: tie.parent, commit: tie.commit, value: 0.95 });
    assert.deepEqual(r.json.outcome, { kind: 'verified', frontierMoved: false }, 'its parent is no longer the best');
    assert.equal((await c.frontier())[0].best.commit, fakeSha(9));
  });

  it('a keep from queued work is verified like any claim', async () => {
    const c = await crowd(['alice', 'bob', 'carol']);
    await baseline(c, 'alice', 'bob');
    await hub.call('POST', `/studies/${c.study}/queue`, c.tokens.alice!, { parent: hub.base.commit, diff: '+q\n' });
    const w = await c.work('bob');
    assert.equal(w.kind, 'experiment');
    const r = await c.post('bob', { workId: w.id, commit: fakeSha(20), value: 0.9, status: 'keep' });
    assert.equal(r.json.verification, 'provisional');
    assert.equal(await c.work('bob'), null, 'not verified by its own claimer');
    assert.deepEqual((await c.verify('carol', 0.9)).outcome, { kind: 'verified', frontierMoved: true });
  });

  it('a verifier flagged while holding a verification does not count: the run goes to someone else', async () => {
    const c = await crowd(['alice', 'bob', 'carol']);
    await baseline(c, 'alice', 'carol');
    await c.post('alice', { commit: fakeSha(30), value: 0.9, status: 'keep' });
    const w = await c.work('bob');
    assert.equal(w.commit, fakeSha(30));
    await hub.pool.query(`UPDATE hub_contributors SET flagged_at = 1, flag_reason = 'test' WHERE name LIKE 'bob-%'`);
    const r = await c.post('bob', { workId: w.id, parent: w.parent, commit: w.commit, value: 0.9 });
    assert.equal(r.status, 201);
    assert.equal(r.json.outcome, undefined, 'ignored');
    assert.equal((await c.frontier())[0].best.commit, hub.base.commit);
    assert.deepEqual((await c.verify('carol', 0.9)).outcome, { kind: 'verified', frontierMoved: true });
  });

  it('each platform has its own best', async () => {
    const c = await crowd(['a', 'b', 'g1', 'g2']);
    await baseline(c, 'a', 'b');
    await c.post('g1', { status: 'baseline', commit: hub.base.commit, value: 0.8, platform: GPU });
    const w = await c.work('g2', GPU);
    await c.post('g2', { workId: w.id, parent: w.parent, commit: w.commit, value: 0.8, platform: GPU });
    const f = await c.frontier();
    assert.equal(f.length, 2);
    assert.deepEqual(f.map((p: { best: { value: number } }) => p.best.value).sort(), [0.8, 1.004]);
  });
});
