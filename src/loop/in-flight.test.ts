import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Experiment } from '../ledger/types.js';
import { duplicateOf, extraAhead, notRunInARow, ran, tally, touchedLines } from './in-flight.js';

function exp(number: number, over: Partial<Experiment> = {}): Experiment {
  return {
    id: number,
    studyId: 1,
    number,
    baseline: false,
    status: 'discard',
    parentCommit: 'p',
    commit: null,
    description: '',
    diff: '',
    change: null,
    proposer: 't',
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
    endedAt: number,
    proposeMs: 0,
    runMs: null,
    slot: null,
    evidence: null,
    repairs: [],
    host: null,
    leaseUntil: null,
    ...over,
  };
}

describe('touchedLines', () => {
  it('lists replaced lines in the old file, and both sides of a pure insertion', () => {
    const diff = [
      'diff --git a/train.py b/train.py',
      'index 1..2 100644',
      '--- a/train.py',
      '+++ b/train.py',
      '@@ -3,3 +3,3 @@ x',
      ' A = 1',
      '-LR = 0.01',
      '+LR = 0.02',
      ' B = 2',
      '@@ -10,2 +10,3 @@',
      ' C = 3',
      '+D = 4',
      ' E = 5',
      'diff --git a/new.py b/new.py',
      '--- /dev/null',
      '+++ b/new.py',
      '@@ -0,0 +1 @@',
      '+x = 1',
    ].join('\n');
    assert.deepEqual(touchedLines(diff), { 'train.py': [4, 10, 11], 'new.py': [1] });
  });

  it('an insertion after line N of "-N,0" touches lines N and N + 1', () => {
    const diff = ['diff --git a/t.py b/t.py', '--- a/t.py', '+++ b/t.py', '@@ -5,0 +6 @@', '+X = 1'].join('\n');
    assert.deepEqual(touchedLines(diff), { 't.py': [5, 6] });
  });
});

describe('counting what ran', () => {
  it('counts runs, not proposals: rejections and conflicts before a run are apart', () => {
    const all = [
      exp(0, { baseline: true, status: 'keep', runMs: 5 }),
      exp(1, { status: 'keep', runMs: 5 }),
      exp(2, { status: 'rejected' }),
      exp(3, { status: 'conflict' }),
      exp(4, {
        status: 'conflict',
        evidence: { runs: [], mean: 0, spread: 0, rebased: { fromParent: 'p', fromCommit: null, runs: [1.2] } },
      }),
      exp(5, { status: 'rejected', runMs: 7, reason: 'the run modified protected file(s)' }),
      exp(6, { status: 'running' }),
    ];
    assert.deepEqual(tally(all), { ran: 3, notRun: 2, pending: 1 });
    assert.equal(ran(all[4]!), true, 'a conflict after a re-run ran');
  });

  it('rejections in a row are counted back from the last one to end', () => {
    const all = [
      exp(1, { runMs: 3, endedAt: 10 }),
      exp(2, { status: 'rejected', endedAt: 30 }),
      exp(3, { status: 'rejected', endedAt: 20 }),
      exp(4, { status: 'running' }),
    ];
    assert.deepEqual(
      notRunInARow(all).map((e) => e.number),
      [2, 3],
    );
    assert.deepEqual(notRunInARow([...all, exp(5, { runMs: 1, endedAt: 40 })]), []);
  });
});

describe('duplicateOf', () => {
  it('finds a change in flight or kept on the same parent with the same diff, not a discarded one', () => {
    const d = 'diff --git a/t b/t\n-LR = 1\n+LR = 2\n';
    const all = [exp(1, { status: 'running', diff: d }), exp(2, { status: 'discard', diff: 'other' })];
    assert.equal(duplicateOf(all, 'p', d)?.number, 1);
    assert.equal(duplicateOf(all, 'q', d), null, 'another parent');
    assert.equal(duplicateOf([exp(1, { status: 'keep', diff: d })], 'p', d)?.number, 1);
    assert.equal(duplicateOf([exp(1, { status: 'discard', diff: d })], 'p', d), null);
  });
});

describe('extraAhead', () => {
  it('prepares ahead what the slots use up while one proposal is made; nothing extra for a fast proposer', () => {
    const slow = [1, 2, 3].map((n) => exp(n, { runMs: 10_000, proposeMs: 2_000 }));
    assert.equal(extraAhead(slow, 8), 2, '8 slots x 2 s / 10 s = 1.6');
    assert.equal(extraAhead(slow, 1), 0, 'one slot: the prefetch covers it');
    const confirmed = [exp(1, { runMs: 30_000, proposeMs: 2_000, evidence: { runs: [1, 1, 1], mean: 1, spread: 0 } })];
    assert.equal(extraAhead(confirmed, 8), 2, 'run time is per run, not per experiment');
    assert.equal(
      extraAhead(
        [1, 2].map((n) => exp(n, { runMs: 2_000, proposeMs: 20 })),
        8,
      ),
      0,
      'the search',
    );
    assert.equal(extraAhead([exp(1, { runMs: 1_000, proposeMs: 60_000 })], 4), 4, 'at most one per slot');
    assert.equal(extraAhead([exp(1, { status: 'rejected', proposeMs: 60_000 })], 4), 0, 'no run time known yet');
    const start = [
      exp(0, {
        baseline: true,
        status: 'keep',
        runMs: 30_000,
        proposeMs: null,
        evidence: { runs: [1, 1, 1], mean: 1, spread: 0 },
      }),
      exp(1, { status: 'running', proposeMs: 2_000 }),
    ];
    assert.equal(extraAhead(start, 8), 2, 'known from the baseline and the first proposal, before any experiment ends');
  });
});
