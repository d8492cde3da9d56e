import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AsyncQueue, Mutex } from './async-queue.js';

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
