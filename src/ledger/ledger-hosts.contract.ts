/**
 * The shared Ledger contract, several hosts: compare-and-set keeps and leases (registered by
 * ledgerContract in ledger.contract.ts, so every backend runs it).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { isLedgerError, type LedgerHarness, sha, studySpec } from './contract-fixtures.js';
import { LeaseLostError } from './types.js';

export function hostsContract(withLedger: (fn: (h: LedgerHarness) => Promise<void>) => Promise<void>): void {
  it('keepIfBest: keeps only from the expected best; a stale keeper learns the best moved', () =>
    withLedger(async ({ ledger }) => {
      const s = await ledger.openStudy(studySpec('cas'));
      const base = await ledger.createExperiment(s.id, { baseline: true, parentCommit: sha('a'), proposer: 'b' });
      const first = await ledger.keepIfBest(base.id, { value: 1, metrics: {} }, null);
      assert.equal(first.kind, 'kept');
      assert.equal(first.kind === 'kept' && first.study.bestCommit, sha('a'));
      assert.equal(first.kind === 'kept' && first.experiment.status, 'keep');
      const x = await ledger.createExperiment(s.id, { baseline: false, parentCommit: sha('a'), proposer: 'x' });
      const y = await ledger.createExperiment(s.id, { baseline: false, parentCommit: sha('a'), proposer: 'y' });
      await ledger.updateExperiment(x.id, { commit: sha('x') });
      await ledger.updateExperiment(y.id, { commit: sha('y') });
      const kx = await ledger.keepIfBest(x.id, { value: 0.9, metrics: { val_bpb: 0.9 } }, sha('a'));
      assert.equal(kx.kind, 'kept');
      const ky = await ledger.keepIfBest(y.id, { value: 0.8, metrics: { val_bpb: 0.8 } }, sha('a'));
      assert.deepEqual(ky.kind === 'best-moved' && [ky.study.bestCommit, ky.study.bestValue, ky.study.bestNumber], [
        sha('x'),
        0.9,
        1,
      ]);
      const yAfter = await ledger.getExperiment(y.id);
      assert.equal(yAfter?.status, 'running', 'a refused keep writes nothing');
      assert.equal(yAfter?.value, null);
      // judged again on the new best, it may keep from there
      await ledger.updateExperiment(y.id, { parentCommit: sha('x'), commit: sha('z') });
      const again = await ledger.keepIfBest(y.id, { value: 0.8, metrics: {} }, sha('x'));
      assert.equal(again.kind === 'kept' && again.study.bestCommit, sha('z'));
      // a second baseline (another host's, racing the first) can't replace the best
      const late = await ledger.createExperiment(s.id, { baseline: true, parentCommit: sha('a'), proposer: 'b' });
      assert.equal((await ledger.keepIfBest(late.id, { value: 2, metrics: {} }, null)).kind, 'best-moved');
      await assert.rejects(ledger.keepIfBest(x.id, { value: 1, metrics: {} }, sha('z')), isLedgerError);
      await assert.rejects(ledger.keepIfBest(999_999, { value: 1, metrics: {} }, null), isLedgerError);
    }));

  it('keepIfBest: of 12 concurrent keepers on one best exactly one wins', () =>
    withLedger(async ({ ledger, reopen }) => {
      const s = await ledger.openStudy(studySpec('race'));
      const base = await ledger.createExperiment(s.id, { baseline: true, parentCommit: sha('a'), proposer: 'b' });
      await ledger.finishExperiment(base.id, { status: 'keep', value: 1, metrics: {} });
      const others = reopen ? [await reopen(), await reopen()] : [];
      try {
        const conns = [ledger, ...others];
        const exps = [];
        for (let i = 0; i < 12; i++) {
          const e = await ledger.createExperiment(s.id, {
            baseline: false,
            parentCommit: sha('a'),
            proposer: `k${i}`,
          });
          exps.push(await ledger.updateExperiment(e.id, { commit: `${i}`.padStart(40, 'c') }));
        }
        const outcomes = await Promise.all(
          exps.map((e, i) =>
            conns[i % conns.length]!.keepIfBest(e.id, { value: 0.5 - i / 100, metrics: {} }, sha('a')),
          ),
        );
        const won = outcomes.flatMap((o, i) => (o.kind === 'kept' ? [i] : []));
        assert.equal(won.length, 1, `winners: ${won.join(',')}`);
        const st = await ledger.getStudy('race');
        assert.equal(st?.bestCommit, exps[won[0]!]!.commit);
        const all = await ledger.listExperiments(s.id);
        assert.equal(all.filter((e) => e.status === 'keep').length, 2, 'the baseline and the one winner');
        assert.equal(all.filter((e) => e.status === 'running').length, 11);
      } finally {
        for (const o of others) await o.close();
      }
    }));

  it('leases: a host claims, renews; another takes over only after the lease expired', () =>
    withLedger(async ({ ledger }) => {
      const s = await ledger.openStudy(studySpec('lease'));
      const plain = await ledger.createExperiment(s.id, { baseline: false, parentCommit: sha('a'), proposer: 'x' });
      assert.deepEqual([plain.host, plain.leaseUntil], [null, null]);
      const e = await ledger.createExperiment(s.id, {
        baseline: false,
        parentCommit: sha('a'),
        proposer: 'x',
        lease: { host: 'A', ms: 60_000 },
      });
      assert.equal(e.host, 'A');
      assert.ok(e.leaseUntil !== null && e.leaseUntil > Date.now() + 30_000);
      assert.equal(await ledger.claimExperiment(e.id, 'B', 60_000), null, 'A holds it');
      assert.equal((await ledger.getExperiment(e.id))?.host, 'A');
      assert.equal((await ledger.claimExperiment(e.id, 'A', 60_000))?.host, 'A', 'its own host renews');
      assert.equal((await ledger.claimExperiment(plain.id, 'B', 60_000))?.host, 'B', 'never leased: free');
      assert.deepEqual(await ledger.renewLeases(s.id, 'A', 60_000), [e.id]);
      assert.deepEqual(await ledger.renewLeases(s.id, 'B', 60_000), [plain.id]);
      // A stops renewing: a short lease runs out
      assert.deepEqual(await ledger.renewLeases(s.id, 'A', 1), [e.id]);
      await new Promise((r) => setTimeout(r, 30));
      const taken = await Promise.all(['B', 'C', 'D'].map((h) => ledger.claimExperiment(e.id, h, 60_000)));
      const winners = taken.filter((x) => x !== null);
      assert.equal(winners.length, 1, 'one host takes an expired experiment over');
      const newHost = winners[0]!.host!;
      assert.deepEqual(await ledger.renewLeases(s.id, 'A', 60_000), [], 'A learns it lost it');
      assert.deepEqual(await ledger.renewLeases(s.id, newHost, 60_000), newHost === 'B' ? [plain.id, e.id] : [e.id]);
      await ledger.finishExperiment(e.id, { status: 'discard', value: 1, metrics: {} });
      assert.equal(await ledger.claimExperiment(e.id, newHost, 60_000), null, 'a finished one is not claimed');
      assert.deepEqual(await ledger.renewLeases(s.id, newHost, 60_000), newHost === 'B' ? [plain.id] : []);
      await assert.rejects(ledger.claimExperiment(999_999, 'A', 1000), isLedgerError);
    }));

  it('finish with a holder: only while that host holds the lease; a host that lost it writes nothing', () =>
    withLedger(async ({ ledger }) => {
      const s = await ledger.openStudy(studySpec('cas-lease'));
      const base = await ledger.createExperiment(s.id, { baseline: true, parentCommit: sha('a'), proposer: 'b' });
      await ledger.finishExperiment(base.id, { status: 'keep', value: 1, metrics: {} });
      const make = async (c: string) => {
        const e = await ledger.createExperiment(s.id, {
          baseline: false,
          parentCommit: sha('a'),
          proposer: 'x',
          lease: { host: 'A', ms: 1 },
        });
        return ledger.updateExperiment(e.id, { commit: sha(c) });
      };
      const [x, y, z] = [await make('x'), await make('y'), await make('z')];
      await new Promise((r) => setTimeout(r, 30));
      // z's lease expired but no host took it: still A's to finish
      const zDone = await ledger.finishExperiment(z.id, { status: 'discard', value: 3, metrics: {} }, 'A');
      assert.equal(zDone.status, 'discard');
      // B takes x and y over after A's lease expired
      assert.equal((await ledger.claimExperiment(x.id, 'B', 60_000))?.host, 'B');
      assert.equal((await ledger.claimExperiment(y.id, 'B', 60_000))?.host, 'B');
      await assert.rejects(
        ledger.finishExperiment(x.id, { status: 'discard', value: 2, metrics: {} }, 'A'),
        (err: unknown) => err instanceof LeaseLostError && err.holder === 'B',
      );
      const lost = await ledger.keepIfBest(y.id, { value: 0.5, metrics: {} }, sha('a'), 'A');
      assert.deepEqual(lost, { kind: 'lease-lost', holder: 'B' });
      for (const id of [x.id, y.id]) {
        const now = await ledger.getExperiment(id);
        assert.deepEqual([now?.status, now?.value], ['running', null], 'a refused finish writes nothing');
      }
      assert.equal((await ledger.getStudy('cas-lease'))?.bestCommit, sha('a'), 'the best did not move');
      // the taker finishes them, once
      assert.equal((await ledger.keepIfBest(y.id, { value: 0.5, metrics: {} }, sha('a'), 'B')).kind, 'kept');
      await ledger.finishExperiment(x.id, { status: 'discard', value: 2, metrics: {} }, 'B');
      // after that A's late finish is still refused as a lost lease (not a misuse)
      await assert.rejects(
        ledger.finishExperiment(x.id, { status: 'discard', value: 2, metrics: {} }, 'A'),
        (err: unknown) => err instanceof LeaseLostError,
      );
      // without a holder (one host, SQLite as before) finishing is unchanged
      const plain = await ledger.createExperiment(s.id, { baseline: false, parentCommit: sha('y'), proposer: 'p' });
      assert.equal(
        (await ledger.finishExperiment(plain.id, { status: 'crash', value: null, metrics: {} })).status,
        'crash',
      );
    }));
}
