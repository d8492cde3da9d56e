import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AsyncQueue, Mutex, Notifier, Semaphore } from './async-queue.js';

describe('AsyncQueue', () => {
  it('hands items to waiting takers in order, then null after close', async () => {
    const q = new AsyncQueue<number>(2);
    const a = q.take();
    const b = q.take();
    q.push(1);
    q.push(2);
    q.push(3);
    assert.deepEqual([await a, await b, await q.take()], [1, 2, 3]);
    q.close();
    assert.equal(await q.take(), null);
  });

  it('waits for room below capacity', async () => {
    const q = new AsyncQueue<number>(1);
    q.push(1);
    let roomy = false;
    const room = q.waitForRoom().then(() => (roomy = true));
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(roomy, false);
    await q.take();
    await room;
    assert.equal(roomy, true);
  });

  it('with capacity 0, wants an item only when a consumer waits for one', async () => {
    const q = new AsyncQueue<number>(0);
    let wanted = false;
    const room = q.waitForRoom().then(() => (wanted = true));
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(wanted, false);
    const t = q.take();
    await room;
    assert.equal(wanted, true);
    q.push(7);
    assert.equal(await t, 7);
  });

  it('returns null to takers when the signal aborts', async () => {
    const q = new AsyncQueue<number>(1);
    const c = new AbortController();
    const t = q.take(c.signal);
    c.abort();
    assert.equal(await t, null);
    q.push(5);
    assert.equal(await q.take(), 5, 'an aborted taker does not swallow later items');
  });
});

describe('AsyncQueue reservations (several producers)', () => {
  it('never lets producers make more than the room there is: capacity + idle consumers', async () => {
    const q = new AsyncQueue<number>(1);
    const t1 = q.take();
    const t2 = q.take(); // two idle consumers + capacity 1 = room for 3
    const got: boolean[] = [];
    const r = [q.reserve(), q.reserve(), q.reserve(), q.reserve()].map((p) => p.then((ok) => got.push(ok)));
    await new Promise((res) => setTimeout(res, 5));
    assert.equal(got.length, 3, 'three reserved at once, the fourth waits');
    assert.equal(q.reservations, 3);
    q.fill(1);
    q.fill(2);
    assert.deepEqual([await t1, await t2], [1, 2]);
    await new Promise((res) => setTimeout(res, 5));
    assert.equal(got.length, 3, 'the consumers are busy: room only for the one reserved');
    q.unreserve(); // a rejected proposal gives its room back: the waiting producer gets it
    await r[3];
    assert.deepEqual(got, [true, true, true, true]);
    q.close();
  });

  it('a reserve waiting on a closed or aborted queue resolves false and reserves nothing', async () => {
    const q = new AsyncQueue<number>(0);
    const c = new AbortController();
    const a = q.reserve(c.signal);
    const b = q.reserve();
    c.abort();
    assert.equal(await a, false);
    q.close();
    assert.equal(await b, false);
    assert.equal(q.reservations, 0);
  });
});

describe('Semaphore and Notifier', () => {
  it('a Semaphore runs at most `limit` sections at once', async () => {
    const s = new Semaphore(2);
    let active = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 6 }, () =>
        s.run(async () => {
          peak = Math.max(peak, ++active);
          await new Promise((r) => setTimeout(r, 5));
          active--;
        }),
      ),
    );
    assert.equal(peak, 2);
  });

  it('a Notifier wakes every waiter on notify, and a waiter with a timeout on its own', async () => {
    const n = new Notifier();
    let woke = 0;
    const a = n.wait().then(() => woke++);
    const b = n.wait().then(() => woke++);
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(woke, 0);
    n.notify();
    await Promise.all([a, b]);
    assert.equal(woke, 2);
    const t0 = Date.now();
    await n.wait(undefined, 20);
    assert.ok(Date.now() - t0 >= 15);
  });
});

describe('Mutex', () => {
  it('runs sections one at a time, even when one throws', async () => {
    const m = new Mutex();
    const order: string[] = [];
    const slow = m.run(async () => {
      order.push('a1');
      await new Promise((r) => setTimeout(r, 10));
      order.push('a2');
    });
    const bad = m.run(async () => {
      order.push('b');
      throw new Error('x');
    });
    const c = m.run(async () => order.push('c'));
    await slow;
    await assert.rejects(bad);
    await c;
    assert.deepEqual(order, ['a1', 'a2', 'b', 'c']);
  });
});
