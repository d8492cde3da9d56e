/**
 * WaitingLedger on a real PostgreSQL server reached through a TCP proxy that the test cuts and
 * restores: calls wait out the outage (one notice each way), errors that are not about reaching
 * the server pass through, and Ctrl-C (the signal) ends the wait; and writes whose answer was lost
 * (over a real SQLite ledger) are settled, not written twice.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testDatabase } from '../test-support/postgres.ts';
import { startTcpProxy } from '../test-support/tcp-proxy.ts';
import { PostgresLedger } from './postgres.js';
import { SqliteLedger } from './sqlite.js';
import { LedgerError, LedgerUnreachableError, type Ledger } from './types.js';
import { WaitingLedger } from './waiting.js';

const spec = {
  tag: 'w',
  branch: 'autoresearch/w',
  metric: 'val_bpb',
  direction: 'minimize' as const,
  baseCommit: 'a'.repeat(40),
  protectedHashes: {},
  config: {},
};

describe('WaitingLedger', () => {
  it('waits while the server is unreachable, then answers; one notice down, one up', async () => {
    const db = await testDatabase('waiting');
    const proxy = await startTcpProxy(db.url);
    const raw = await PostgresLedger.open(proxy.url, { connectTimeoutMs: 2000 });
    const notes: string[] = [];
    const ctl = new AbortController();
    const ledger = new WaitingLedger(raw, {
      signal: ctl.signal,
      onDown: (r) => notes.push(`down: ${r}`),
      onUp: (ms) => notes.push(`up after ${ms}`),
      retryMs: () => 50,
    });
    try {
      const s = await ledger.openStudy(spec);
      const e = await ledger.createExperiment(s.id, { baseline: true, parentCommit: 'p', proposer: 'b' });
      await proxy.cut();
      // the raw ledger fails, as a LedgerUnreachableError
      await assert.rejects(raw.listExperiments(s.id), (err: unknown) => err instanceof LedgerUnreachableError);
      let answered = false;
      const listing = ledger.listExperiments(s.id).then((all) => {
        answered = true;
        return all;
      });
      const finishing = ledger.finishExperiment(e.id, { status: 'keep', value: 1, metrics: {} });
      const creating = ledger.createExperiment(s.id, { baseline: false, parentCommit: 'p', proposer: 'x' });
      await new Promise((r) => setTimeout(r, 700));
      assert.equal(answered, false, 'still waiting while cut off');
      assert.equal(notes.length, 1, notes.join('\n'));
      assert.match(notes[0]!, /^down: .*unreachable/);
      await proxy.restore();
      // The three waiting calls retry independently once the server is back: the listing sees
      // the baseline, and the new experiment too when its retry landed first.
      const listed = (await listing).map((x) => x.number);
      assert.ok(listed.length >= 1 && listed.every((n, i) => n === i) && listed.length <= 2, String(listed));
      assert.equal((await finishing).status, 'keep');
      const created = await creating;
      assert.equal(created.number, 1);
      const all = await ledger.listExperiments(s.id);
      assert.deepEqual(
        all.map((x) => [x.number, x.status]),
        [
          [0, 'keep'],
          [1, 'running'],
        ],
        'each write landed once',
      );
      assert.equal(notes.length, 2);
      assert.match(notes[1]!, /^up after \d+/);
      // a misuse is not an outage: it passes through at once
      await assert.rejects(
        ledger.finishExperiment(e.id, { status: 'keep', value: 1, metrics: {} }),
        (err: unknown) => err instanceof LedgerError && !(err instanceof LedgerUnreachableError),
      );
      // Ctrl-C ends a wait: the unreachable error surfaces
      await proxy.cut();
      const waiting = ledger.getStudy('w');
      setTimeout(() => ctl.abort(), 200);
      await assert.rejects(waiting, (err: unknown) => err instanceof LedgerUnreachableError);
    } finally {
      await raw.close();
      await proxy.close();
      await db.drop();
    }
  });

  it('a write that landed before the connection broke is not written again', async () => {
    // A fake connection failure over a real ledger: the first call of each write goes through,
    // then its answer is "lost" (as when the server commits and the connection drops).
    const real = SqliteLedger.open(':memory:');
    const lose = new Set(['createExperiment', 'finishExperiment', 'keepIfBest']);
    const flaky = new Proxy(real, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return async (...args: unknown[]) => {
          const out = await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          if (lose.delete(String(prop))) throw new LedgerUnreachableError(`${String(prop)}: Connection terminated`);
          return out;
        };
      },
    }) as Ledger;
    let downs = 0;
    const ledger = new WaitingLedger(flaky, {
      signal: new AbortController().signal,
      onDown: () => downs++,
      onUp: () => {},
      retryMs: () => 10,
    });
    try {
      const s = await ledger.openStudy(spec);
      const base = await ledger.createExperiment(s.id, { baseline: true, parentCommit: 'a'.repeat(40), proposer: 'b' });
      assert.equal(base.number, 0);
      const kept = await ledger.keepIfBest(base.id, { value: 1, metrics: {} }, null);
      assert.equal(kept.kind, 'kept');
      const x = await ledger.createExperiment(s.id, { baseline: false, parentCommit: 'a'.repeat(40), proposer: 'x' });
      const done = await ledger.finishExperiment(x.id, { status: 'discard', value: 2, metrics: {} });
      assert.equal(done.status, 'discard');
      assert.equal(downs, 3, 'three lost answers');
      assert.deepEqual(
        (await real.listExperiments(s.id)).map((e) => [e.number, e.status]),
        [
          [0, 'keep'],
          [1, 'discard'],
        ],
        'each write once',
      );
    } finally {
      await real.close();
    }
  });
});
