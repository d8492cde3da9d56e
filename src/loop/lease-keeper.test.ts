/**
 * The lease keeper on real timers (a 400 ms lease: runs stop 300 ms after the last confirmation).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StudyEvent } from './events.js';
import { isLeaseStop, LeaseKeeper, stopAfterMs } from './lease-keeper.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function keeper(leaseMs = 400) {
  const events: StudyEvent[] = [];
  const k = new LeaseKeeper(leaseMs, (e) => events.push(e));
  return { k, events };
}

describe('LeaseKeeper', () => {
  it('stops a run 3/4 of the lease after its last confirmation, and hands it back for a claim', async () => {
    assert.equal(stopAfterMs(60_000), 45_000);
    const { k, events } = keeper();
    const t0 = Date.now();
    k.confirm(7, t0);
    const h = k.hold({ id: 7, number: 3 });
    const stoppedAt = new Promise<number>((r) => h.signal.addEventListener('abort', () => r(Date.now())));
    const at = (await stoppedAt) - t0;
    assert.ok(at >= 290 && at < 600, `stopped after ${at} ms`);
    assert.ok(isLeaseStop(h.signal.reason));
    assert.equal(events.length, 1);
    assert.match((events[0] as { message: string }).message, /lease of experiment #3 was last renewed 0\.\d s ago/);
    assert.deepEqual(k.takeStopped(), [7]);
    assert.deepEqual(k.takeStopped(), [], 'handed back once');
    h.release();
    k.close();
  });

  it('renewals keep runs going; a renewal that no longer names a held experiment stops it at once', async () => {
    const { k, events } = keeper();
    k.confirm(1, Date.now());
    k.confirm(2, Date.now());
    const one = k.hold({ id: 1, number: 1 });
    const two = k.hold({ id: 2, number: 2 });
    const twoAgain = k.hold({ id: 2, number: 2 }); // a confirmation run of #2 on a borrowed slot
    for (let i = 0; i < 8; i++) {
      await sleep(100);
      k.renewed(Date.now(), [1, 2]);
    }
    assert.equal(one.signal.aborted, false, 'renewed every 100 ms for 800 ms: still running');
    assert.equal(two.signal.aborted, false);
    // another host took #2 over: the renewal does not name it
    await sleep(5);
    k.renewed(Date.now(), [1]);
    assert.equal(two.signal.aborted, true);
    assert.equal(twoAgain.signal, two.signal, 'every run of #2 stops');
    assert.equal(one.signal.aborted, false);
    assert.match((events.at(-1) as { message: string }).message, /#2 was taken over by another host/);
    assert.deepEqual(k.takeStopped(), [2]);
    for (const h of [one, two, twoAgain]) h.release();
    k.close();
  });

  it('an experiment claimed after a renewal was sent is not stopped for missing from it', async () => {
    const { k } = keeper();
    const sent = Date.now();
    await sleep(5);
    k.confirm(9, Date.now()); // claimed (taken over from another host) while the renewal was on its way
    const h = k.hold({ id: 9, number: 4 });
    k.renewed(sent, []);
    assert.equal(h.signal.aborted, false);
    // claimed again after a stop: a new hold runs with a fresh deadline
    await new Promise((r) => h.signal.addEventListener('abort', r));
    h.release();
    k.confirm(9, Date.now());
    assert.deepEqual(k.takeStopped(), [], 'a claim takes it off the stopped list');
    const again = k.hold({ id: 9, number: 4 });
    assert.equal(again.signal.aborted, false);
    again.release();
    k.close();
  });
});
