/**
 * WaitingLedger on a real PostgreSQL server reached through a TCP proxy that the test cuts and
 * restores: calls wait out the outage (one notice each way), errors that are not about reaching
 * the server pass through, and Ctrl-C (the signal) ends the wait.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testDatabase } from '../test-support/postgres.ts';
import { startTcpProxy } from '../test-support/tcp-proxy.ts';
import { PostgresLedger } from './postgres.js';
import { LedgerError, LedgerUnreachableError } from './types.js';
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

describe('WaitingLedger (PostgreSQL behind a proxy that is cut)', () => {
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
      assert.equal(notes.length, 1);
      assert.match(notes[0]!, /^down: .*unreachable/);
      await proxy.restore();
      assert.equal((await listing).length, 1);
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
});
