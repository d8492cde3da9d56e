import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { outagePauseMs, pause } from './outage.js';

describe('outage pauses', () => {
  it('grow from 30 s, doubling, capped at 10 min', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 50].map(outagePauseMs),
      [30_000, 60_000, 120_000, 240_000, 480_000, 600_000, 600_000, 600_000],
    );
  });

  it('a real pause passes, and an abort ends it at once with false', async () => {
    assert.equal(await pause(5, new AbortController().signal), true);
    const ac = new AbortController();
    const t0 = Date.now();
    const p = pause(60_000, ac.signal);
    setTimeout(() => ac.abort(), 10);
    assert.equal(await p, false);
    assert.ok(Date.now() - t0 < 5_000);
    assert.equal(await pause(60_000, ac.signal), false, 'already aborted');
  });
});
