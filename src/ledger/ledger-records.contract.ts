/**
 * The study-records part of the Ledger contract suite (./ledger.contract.ts registers it for every
 * backend): `(study, kind, key) -> JSON` documents, upserted, listed by kind, deleted.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { isLedgerError, type LedgerHarness, studySpec } from './contract-fixtures.js';

export function recordsContract(withLedger: (fn: (h: LedgerHarness) => Promise<void>) => Promise<void>): void {
  it('keeps study records: upsert by (kind, key), list by kind in key order, delete', () =>
    withLedger(async ({ ledger }) => {
      const a = await ledger.openStudy(studySpec('rec-a'));
      const b = await ledger.openStudy(studySpec('rec-b'));
      const n1 = await ledger.putRecord(a.id, 'note', 'k2', { text: 'second', tags: ['x'] });
      assert.equal(n1.kind, 'note');
      assert.equal(n1.key, 'k2');
      assert.deepEqual(n1.value, { text: 'second', tags: ['x'] });
      assert.ok(n1.updatedAt > 0);
      await ledger.putRecord(a.id, 'note', 'k1', 'first');
      await ledger.putRecord(a.id, 'ablation', 'k1', 1.5);
      await ledger.putRecord(b.id, 'note', 'k1', null);
      assert.deepEqual(
        (await ledger.listRecords(a.id, 'note')).map((r) => [r.key, r.value]),
        [
          ['k1', 'first'],
          ['k2', { text: 'second', tags: ['x'] }],
        ],
      );
      const replaced = await ledger.putRecord(a.id, 'note', 'k1', { v: 2 });
      assert.deepEqual(replaced.value, { v: 2 });
      assert.deepEqual((await ledger.getRecord(a.id, 'note', 'k1'))?.value, { v: 2 });
      assert.equal((await ledger.getRecord(a.id, 'ablation', 'k1'))?.value, 1.5);
      assert.equal((await ledger.getRecord(b.id, 'note', 'k1'))?.value, null);
      assert.equal(await ledger.getRecord(a.id, 'note', 'missing'), null);
      const copy = await ledger.getRecord(a.id, 'note', 'k1');
      (copy?.value as { v: number }).v = 99;
      assert.deepEqual((await ledger.getRecord(a.id, 'note', 'k1'))?.value, { v: 2 });
      assert.equal(await ledger.deleteRecord(a.id, 'note', 'k1'), true);
      assert.equal(await ledger.deleteRecord(a.id, 'note', 'k1'), false);
      assert.deepEqual(
        (await ledger.listRecords(a.id, 'note')).map((r) => r.key),
        ['k2'],
      );
      await assert.rejects(ledger.putRecord(999_999, 'note', 'k', 1), isLedgerError);
      await assert.rejects(ledger.putRecord(a.id, 'note', 'k', undefined), isLedgerError);
    }));
}
