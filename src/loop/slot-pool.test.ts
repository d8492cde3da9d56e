import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Worktree } from '../workspace/worktree.js';
import { busyFraction, SlotPool } from './slot-pool.js';

const pool = (n: number) =>
  new SlotPool(
    Array.from({ length: n }, (_, i) => ({
      slot: { index: i, gpu: null, env: {}, label: `cpu${i}` },
      worktree: { path: `/wt/${i}` } as Worktree,
    })),
  );
const never = new AbortController().signal;

describe('SlotPool', () => {
  it('lends each slot to one holder at a time; borrow takes only free slots', async () => {
    const p = pool(3);
    const a = (await p.acquire(never, 1))!;
    assert.equal(a.slot.index, 1, 'the preferred slot when free');
    const borrowed = p.borrow(5);
    assert.deepEqual(
      borrowed.map((l) => l.slot.index),
      [0, 2],
    );
    assert.equal(p.free, 0);
    assert.deepEqual(p.borrow(1), []);
    borrowed[0]!.release();
    borrowed[0]!.release(); // idempotent: does not free the slot twice
    assert.equal(p.free, 1);
    const b = (await p.acquire(never))!;
    assert.equal(b.slot.index, 0);
    assert.equal(p.free, 0);
  });

  it('a waiting acquire comes before borrowing, and gets the slot handed over on release', async () => {
    const p = pool(2);
    const a = (await p.acquire(never))!;
    const b = (await p.acquire(never))!;
    let got: number | null = null;
    const waiting = p.acquire(never, 1).then((l) => (got = l!.slot.index));
    await new Promise((r) => setImmediate(r));
    a.release(); // slot 0 goes to the waiter, not back to the pool
    await waiting;
    assert.equal(got, 0);
    assert.equal(p.free, 0);
    const c = p.acquire(never);
    b.release();
    assert.equal((await c)!.slot.index, 1);
    assert.deepEqual(p.borrow(1), []);
  });

  it('borrow lends nothing while an acquire waits', async () => {
    const p = pool(2);
    const a = (await p.acquire(never))!;
    const b = (await p.acquire(never))!;
    const waiting = p.acquire(never);
    b.release(); // handed to the waiter
    assert.deepEqual(p.borrow(1), []);
    (await waiting)!.release();
    assert.equal(p.borrow(2).length, 1);
    a.release();
  });

  it('an aborted acquire resolves null and leaves the queue', async () => {
    const p = pool(1);
    const a = (await p.acquire(never))!;
    const ctl = new AbortController();
    const waiting = p.acquire(ctl.signal);
    ctl.abort();
    assert.equal(await waiting, null);
    a.release();
    assert.equal(p.free, 1, 'not handed to the aborted waiter');
    assert.equal(await p.acquire(ctl.signal), null);
  });

  it('counts busy time per slot', async () => {
    const p = pool(1);
    const a = (await p.acquire(never))!;
    await a.timed(() => new Promise((r) => setTimeout(r, 30)));
    const s = p.stats()[0]!.stats;
    assert.ok(s.busyMs >= 25 && s.firstStart !== null && s.lastEnd !== null);
    assert.ok(busyFraction(s) > 0.9);
  });
});
