import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatResultsTsv, NO_COMMIT } from './results-tsv.js';
import type { Experiment } from './types.js';

let nextId = 1;
function exp(over: Partial<Experiment>): Experiment {
  return {
    id: nextId++,
    studyId: 1,
    number: 0,
    baseline: false,
    status: 'discard',
    parentCommit: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
    commit: null,
    description: '',
    diff: '',
    change: null,
    proposer: 'search',
    value: null,
    metrics: {},
    reason: '',
    logPath: null,
    logTail: '',
    exitCode: null,
    pgid: null,
    attempts: 1,
    usage: null,
    env: {},
    startedAt: 0,
    endedAt: 1,
    proposeMs: null,
    runMs: null,
    slot: null,
    evidence: null,
    repairs: [],
    host: null,
    leaseUntil: null,
    ...over,
  };
}

describe('formatResultsTsv', () => {
  it('reproduces the original program.md example byte for byte', () => {
    const rows = [
      exp({
        number: 0,
        baseline: true,
        status: 'keep',
        value: 0.9979,
        metrics: { peak_vram_mb: 45056 },
        description: 'baseline',
      }),
      exp({
        number: 1,
        status: 'keep',
        commit: 'b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1',
        value: 0.9932,
        metrics: { val_bpb: 0.9932, peak_vram_mb: 45260.8 },
        description: 'increase LR to 0.04',
      }),
      exp({
        number: 2,
        status: 'discard',
        commit: 'c3d4e5f00000000000000000000000000000000a',
        value: 1.005,
        metrics: { peak_vram_mb: 45060.2 },
        description: 'switch to GeLU activation',
      }),
      exp({
        number: 3,
        status: 'crash',
        commit: 'd4e5f6a00000000000000000000000000000000b',
        value: null,
        metrics: { peak_vram_mb: 80000 },
        description: 'double model width (OOM)',
      }),
    ];
    assert.equal(
      formatResultsTsv(rows, { metric: 'val_bpb' }),
      'commit\tval_bpb\tmemory_gb\tstatus\tdescription\n' +
        'a1b2c3d\t0.997900\t44.0\tkeep\tbaseline\n' +
        'b2c3d4e\t0.993200\t44.2\tkeep\tincrease LR to 0.04\n' +
        'c3d4e5f\t1.005000\t44.0\tdiscard\tswitch to GeLU activation\n' +
        'd4e5f6a\t0.000000\t0.0\tcrash\tdouble model width (OOM)\n',
    );
  });

  it('orders equal decision times by number, skips running, zeroes failures, cleans descriptions', () => {
    const rows = [
      exp({ number: 5, status: 'running', description: 'in flight' }),
      exp({
        number: 4,
        status: 'rejected',
        commit: null,
        description: 'touched\tprepare.py\r\nagain\n',
        metrics: { peak_vram_mb: 2048 },
      }),
      exp({ number: 3, status: 'timeout', commit: 'ffffffffffffffff', value: 0.5, description: 'slow' }),
      exp({
        number: 2,
        status: 'discard',
        commit: 'eeeeeeeeeeeeeee',
        value: 12.3456789,
        description: 'no memory metric',
      }),
      exp({
        number: 0,
        baseline: true,
        status: 'keep',
        value: 120.5,
        metrics: { mem_gb: 1.25 },
        description: 'baseline',
      }),
    ];
    const before = rows.map((r) => r.number);
    assert.equal(
      formatResultsTsv(rows, { metric: 'bench\tms', memoryMetric: 'mem_gb', memoryScale: 1 }),
      'commit\tbench ms\tmemory_gb\tstatus\tdescription\n' +
        'a1b2c3d\t120.500000\t1.2\tkeep\tbaseline\n' +
        'eeeeeee\t12.345679\t0.0\tdiscard\tno memory metric\n' +
        'fffffff\t0.000000\t0.0\ttimeout\tslow\n' +
        `${NO_COMMIT}\t0.000000\t0.0\trejected\ttouched prepare.py again \n`,
    );
    assert.deepEqual(
      rows.map((r) => r.number),
      before,
      'input not reordered',
    );
    assert.equal(NO_COMMIT, '0000000');
  });

  it('prints only the header when empty; never NaN or -0; ties round like Python', () => {
    assert.equal(formatResultsTsv([], { metric: 'acc' }), 'commit\tacc\tmemory_gb\tstatus\tdescription\n');
    const rows = [
      exp({ number: 0, status: 'discard', commit: '1234567890', value: Number.NaN, metrics: { peak_vram_mb: -0.01 } }),
      exp({ number: 1, status: 'discard', commit: '1234567890', value: -1e-9, metrics: { peak_vram_mb: Number.NaN } }),
      exp({ number: 2, status: 'keep', commit: '1234567890', value: -2.5, description: 'negative metric' }),
      // exact binary ties round to even, as Python's '%.6f' / '%.1f' (JS toFixed would say 0.007813, 44.3)
      exp({ number: 3, status: 'keep', commit: '1234567890', value: 0.0078125, metrics: { peak_vram_mb: 45312 } }),
    ];
    assert.equal(
      formatResultsTsv(rows, { metric: 'score' }),
      'commit\tscore\tmemory_gb\tstatus\tdescription\n' +
        '1234567\t0.000000\t0.0\tdiscard\t\n' +
        '1234567\t0.000000\t0.0\tdiscard\t\n' +
        '1234567\t-2.500000\t0.0\tkeep\tnegative metric\n' +
        '1234567\t0.007812\t44.2\tkeep\t\n',
    );
  });
  it('lists rows in decision order (endedAt), not number order, so kept rows improve row by row', () => {
    // 3 slots: #2 was decided (kept) before #1, which was then re-applied on it and kept too.
    const rows = [
      exp({ number: 0, baseline: true, status: 'keep', value: 1.5, endedAt: 100, description: 'baseline' }),
      exp({ number: 1, status: 'keep', commit: 'aaaaaaa1', value: 1.1, endedAt: 400, description: 'one' }),
      exp({ number: 2, status: 'keep', commit: 'bbbbbbb2', value: 1.3, endedAt: 200, description: 'two' }),
      exp({ number: 3, status: 'discard', commit: 'ccccccc3', value: 1.4, endedAt: 300, description: 'three' }),
      exp({ number: 4, status: 'running', endedAt: null, description: 'in flight' }),
    ];
    const lines = formatResultsTsv(rows, { metric: 'val_bpb' }).trim().split('\n').slice(1);
    assert.deepEqual(
      lines.map((l) => l.split('\t')[4]),
      ['baseline', 'two', 'three', 'one'],
    );
    const kept = lines.filter((l) => l.split('\t')[3] === 'keep').map((l) => Number(l.split('\t')[1]));
    for (let i = 1; i < kept.length; i++) assert.ok(kept[i]! < kept[i - 1]!, `kept rows: ${kept.join(', ')}`);
  });
});
