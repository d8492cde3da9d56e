/**
 * The work desk on a real hub (the app over the test PostgreSQL, a settable clock): held work's
 * lease is extended by heartbeats until it is released; a lease that expired and went to another
 * contributor is dropped with a notice.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CPU, type HubFixture, hubFixture } from '../test-support/hub.ts';
import type { StudyEvent } from '../loop/events.ts';
import { openLedger } from '../ledger/open.ts';
import { HubClient } from './client.ts';
import { HUB_QUEUED_PROPOSER } from './hub-proposer.ts';
import { HubPoster } from './poster.ts';
import type { WorkItem } from './work.ts';
import { WorkDesk } from './work-desk.ts';

let fx: HubFixture;
let studyId: string;
let owner: string;
let alice: string;
let bob: string;
const LEASE = 60_000;

before(async () => {
  fx = await hubFixture({ leaseMs: LEASE, ratePerSecond: 1000, rateBurst: 1000 });
  owner = await fx.token('owner');
  alice = await fx.token('alice');
  bob = await fx.token('bob');
  studyId = await fx.publish(owner);
});
after(() => fx?.close());

const via = ((url: string, init?: RequestInit) => fx.app.request(url, init)) as unknown as typeof fetch;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Polls `ok` for up to 10 s (a loaded machine answers slowly). */
async function until(ok: () => Promise<boolean> | boolean): Promise<boolean> {
  for (const end = Date.now() + 10_000; Date.now() < end; await sleep(20)) if (await ok()) return true;
  return false;
}

async function handOut(token: string): Promise<WorkItem | null> {
  return (await fx.call('POST', `/studies/${studyId}/work`, token, { platform: CPU })).json.work;
}
async function leaseOf(id: number): Promise<{ expires: number; holder: number }> {
  const r = await fx.pool.query('SELECT lease_expires_at, holder_id FROM hub_work WHERE id = $1', [id]);
  return { expires: Number(r.rows[0].lease_expires_at), holder: Number(r.rows[0].holder_id) };
}

describe('work desk (held owner-queued experiments)', () => {
  it('extends the lease while held, stops at release, and drops work whose lease went to another', async () => {
    const q = await fx.call('POST', `/studies/${studyId}/queue`, owner, { parent: fx.base.commit, diff: '+x\n' });
    assert.equal(q.status, 201);
    const work = (await handOut(alice))!;
    assert.equal(work.id, q.json.workId);
    const notices: string[] = [];
    const desk = new WorkDesk({
      client: new HubClient({ url: 'http://hub.test', token: alice, fetch: via, attempts: 1 }),
      studyId,
      heartbeatMs: 30,
      notice: (_l, m) => notices.push(m),
    });
    desk.offer(work);
    desk.offer(work); // offered twice: held once
    assert.equal(desk.waiting(), 1);
    fx.now.ms += 10_000;
    assert.ok(
      await until(async () => (await leaseOf(work.id)).expires === fx.now.ms + LEASE),
      'a heartbeat moved the lease',
    );
    assert.equal(desk.next()?.id, work.id);
    assert.equal(desk.next(), undefined);
    // released: no more heartbeats
    desk.release(work.id);
    await sleep(1000); // a heartbeat sent just before is answered
    const held = fx.now.ms + LEASE;
    fx.now.ms += 5_000;
    await sleep(150);
    assert.equal((await leaseOf(work.id)).expires, held, 'released: the lease is left to expire');

    // held again, but the lease expires and the hub hands the work to bob: alice's desk drops it
    desk.offer(work);
    desk.stop();
    fx.now.ms += LEASE + 1;
    const taken = (await handOut(bob))!;
    assert.equal(taken.id, work.id, 'the expired lease went to bob');
    const again = new WorkDesk({
      client: new HubClient({ url: 'http://hub.test', token: alice, fetch: via, attempts: 1 }),
      studyId,
      heartbeatMs: 30,
      notice: (_l, m) => notices.push(m),
    });
    again.offer(work);
    assert.ok(await until(() => again.waiting() === 0), 'dropped');
    assert.match(notices.join('\n'), /lost the lease on queued work #\d+: work \d+ is not leased to you/);
    again.stop();
  });

  it('a queued experiment a killed run left running: heartbeats again at the next start, released once posted', async () => {
    const q = await fx.call('POST', `/studies/${studyId}/queue`, owner, { parent: fx.base.commit, diff: '+y\n' });
    const work = (await handOut(alice))!;
    assert.equal(work.id, q.json.workId);
    const ledger = await openLedger('sqlite::memory:', { root: '/tmp' });
    try {
      const study = await ledger.openStudy({
        tag: 'resumed',
        branch: 'autoresearch/resumed',
        metric: 'val_bpb',
        direction: 'minimize',
        baseCommit: fx.base.commit,
        protectedHashes: {},
        config: {},
      });
      const exp = await ledger.createExperiment(study.id, {
        baseline: false,
        parentCommit: fx.base.commit,
        proposer: HUB_QUEUED_PROPOSER,
        description: `queued on the hub (work #${work.id}): y`,
        diff: '+y\n',
        commit: 'a'.repeat(40),
        change: {
          hubWork: { id: work.id, parent: fx.base.commit, diff: '+y\n', placedOn: fx.base.commit, onParentTree: true },
        },
      });
      const client = new HubClient({ url: 'http://hub.test', token: alice, fetch: via, attempts: 1 });
      const notices: string[] = [];
      const desk = new WorkDesk({ client, studyId, heartbeatMs: 200, notice: (_l, m) => notices.push(m) });
      const warnings: string[] = [];
      const poster = new HubPoster({
        client,
        studyId,
        ledger,
        tag: 'resumed',
        host: 'host-a',
        platform: CPU,
        warn: (m) => warnings.push(m),
        workDone: (id) => desk.release(id),
        workResumed: (id) => desk.hold(id),
      });
      poster.onEvent({ type: 'study-started' } as StudyEvent);
      await poster.drain();
      fx.now.ms += 7_000;
      assert.ok(
        await until(async () => (await leaseOf(work.id)).expires === fx.now.ms + LEASE),
        'the resumed experiment keeps its lease',
      );
      await ledger.finishExperiment(exp.id, { status: 'discard', value: 1.3, metrics: {}, reason: 'worse' });
      poster.onEvent({ type: 'experiment-finished', number: exp.number } as StudyEvent);
      await poster.drain();
      assert.deepEqual(warnings, []);
      const w = await fx.pool.query('SELECT state FROM hub_work WHERE id = $1', [work.id]);
      assert.equal(w.rows[0].state, 'done', 'posted for its work');
      await sleep(1000);
      // a heartbeat on done work is answered "not leased to you" (a notice): none came
      assert.deepEqual(notices, [], 'released once posted: no more heartbeats');
      desk.stop();
    } finally {
      await ledger.close();
    }
  });
});
