import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Experiment, ExperimentStatus } from '../../ledger/types.js';
import { directionKey, failureCounts, keptChange, lastTried, moveKey, parseChange, triedFrom } from './history.js';

function experiment(number: number, status: ExperimentStatus, change: unknown, parentCommit = 'p0'): Experiment {
  return {
    id: number,
    studyId: 1,
    number,
    baseline: number === 0,
    status,
    parentCommit,
    commit: null,
    description: '',
    diff: '',
    change,
    proposer: 'search',
    value: null,
    metrics: {},
    reason: '',
    logPath: null,
    logTail: '',
    exitCode: 0,
    pgid: null,
    attempts: 1,
    usage: null,
    env: {},
    startedAt: 0,
    endedAt: 0,
    proposeMs: 0,
    runMs: 0,
    slot: null,
    evidence: null,
    repairs: [],
    host: null,
    leaseUntil: null,
  };
}
const lr = (to: string, direction: string, step = 'big') => ({
  file: 'train.py',
  name: 'LR',
  from: '0.1',
  to,
  direction,
  step,
});

test('parseChange accepts the search shape and ignores others', () => {
  assert.deepEqual(parseChange(lr('0.2', 'up')), lr('0.2', 'up'));
  assert.equal(parseChange(null), null);
  assert.equal(parseChange('LR 0.1 -> 0.2'), null);
  assert.equal(parseChange({ file: 'train.py', name: 'LR' }), null);
});

test('history facts: tried from a parent, evidence per direction, last tries, kept change', () => {
  const h = [
    experiment(0, 'keep', null),
    experiment(1, 'discard', lr('0.2', 'up')),
    experiment(2, 'crash', lr('0.05', 'down'), 'p1'),
    experiment(3, 'keep', lr('0.2', 'up'), 'p1'),
    experiment(
      4,
      'discard',
      { file: 'train.py', name: 'DEPTH', from: '8', to: '16', direction: 'up', step: 'big' },
      'p3',
    ),
  ];
  assert.deepEqual([...triedFrom(h, 'p1')].sort(), [moveKey(lr('0.05', 'down')), moveKey(lr('0.2', 'up'))].sort());
  const f = failureCounts(h);
  assert.equal(f.get(directionKey(lr('', 'up'))), 1);
  assert.equal(f.get(directionKey(lr('', 'down'))), 1 + 3);
  assert.equal(lastTried(h).get(JSON.stringify(['train.py', 'LR'])), 3);
  assert.deepEqual(keptChange(h, 3), lr('0.2', 'up'));
  assert.equal(keptChange(h, 4), null);
  assert.equal(keptChange(h, 0), null);
});
