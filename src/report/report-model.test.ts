import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Study } from '../ledger/types.js';
import { experiment } from '../test-support/proposal-fixtures.js';
import { mdCell } from './report-md.js';
import { buildReportModel, reasonKind, recordTable } from './report-model.js';

describe('report model', () => {
  it('names reasons by kind for the counts', () => {
    assert.equal(reasonKind('exit code 1: Traceback ... ValueError'), 'exit code 1');
    assert.equal(reasonKind('out of memory: CUDA out of memory. Tried to allocate'), 'out of memory');
    assert.equal(reasonKind('killed at the hard timeout (10 min)'), 'hard timeout');
    assert.equal(reasonKind('screened out: rule (a) metric output: train.mjs:17'), 'screened out, rule (a)');
    assert.equal(reasonKind('outside [files].editable: prepare.mjs'), 'touched a protected/non-editable file');
    assert.equal(reasonKind('improved by only 0.001 over 3 runs, within noise (<= 0.004)'), 'within the noise');
    assert.equal(reasonKind('improved by only 0.001 (<= min_delta 0.01)'), 'below min_delta');
    assert.equal(reasonKind('worse by 0.2'), 'not better');
    assert.equal(reasonKind(''), '(no reason)');
  });

  it('renders any record kind as a table: a column per field, or the value itself', () => {
    const t = recordTable('ablation', [
      { kind: 'ablation', key: 'a', value: { change: 'x', effect: -0.1 }, updatedAt: 0 },
      { kind: 'ablation', key: 'b', value: { change: 'y', extra: [1, 2] }, updatedAt: 0 },
    ]);
    assert.deepEqual(t.columns, ['key', 'change', 'effect', 'extra']);
    assert.deepEqual(t.rows, [
      ['a', 'x', '-0.1', ''],
      ['b', 'y', '', '[1,2]'],
    ]);
    const plain = recordTable('notes', [{ kind: 'notes', key: 'k', value: 'just text', updatedAt: 0 }]);
    assert.deepEqual(plain, { kind: 'notes', columns: ['key', 'value'], rows: [['k', 'just text']] });
  });

  it('the kept chain carries each gain over the best before it, and the cost adds up', () => {
    const study = {
      tag: 't',
      branch: 'autoresearch/t',
      metric: 'val_bpb',
      direction: 'minimize',
      baseCommit: 'a'.repeat(40),
      config: { run: { command: 'node train.mjs' } },
      createdAt: 0,
      bestNumber: 3,
      bestValue: 1.5,
      bestCommit: 'c',
      noise: null,
    } as unknown as Study;
    const m = buildReportModel(
      study,
      [
        experiment({ number: 0, status: 'keep', value: 2 }),
        experiment({ number: 1, status: 'keep', value: 1.8, usage: { costUsd: 0.25, inputTokens: 10 } }),
        experiment({ number: 2, status: 'crash', value: null, reason: 'exit code 1: boom', usage: { costUsd: 0.5 } }),
        experiment({ number: 3, status: 'keep', value: 1.5 }),
      ],
      {},
    );
    assert.deepEqual(
      m.kept.map((k) => [k.number, k.gain]),
      [
        [1, 1.8 - 2],
        [3, 1.5 - 1.8],
      ],
    );
    assert.equal(m.cost.usd, 0.75);
    assert.deepEqual(m.byKind, [{ status: 'crash', kind: 'exit code 1', count: 1 }]);
    assert.equal(m.improvementPct, -25);
    assert.deepEqual(
      m.settings.find(([k]) => k === 'command'),
      ['command', 'node train.mjs'],
    );
  });
});

describe('Markdown cells', () => {
  it('a description cannot break the table, inject HTML, or make a link or an image', () => {
    assert.equal(
      mdCell('![x](http://t/p.png) [a](javascript:alert(1)) a|b <i>\nnext'),
      '!\\[x\\](http://t/p.png) \\[a\\](javascript:alert(1)) a\\|b &lt;i&gt; next',
    );
  });
});
