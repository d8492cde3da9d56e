import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { slotBusy } from '../src/cli/commands/status.js';
import type { Experiment } from '../src/ledger/types.js';

const exp = (slot: number, endedAt: number, runMs: number): Experiment =>
  ({ slot, endedAt, runMs }) as unknown as Experiment;

describe('status: busy fraction per slot', () => {
  it('is run time over the span from the first run start to the last run end', () => {
    const rows = [exp(0, 10_000, 10_000), exp(0, 21_000, 10_000), exp(1, 12_000, 10_000), exp(1, 30_000, 10_000)];
    assert.deepEqual(slotBusy(rows), [
      { slot: 0, experiments: 2, busy: 20_000 / 21_000 },
      { slot: 1, experiments: 2, busy: 20_000 / 28_000 },
    ]);
  });
});
