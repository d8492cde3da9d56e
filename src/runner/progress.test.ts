import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMetrics } from './metrics.js';
import { ProgressParser, parseProgressLine } from './progress.js';

describe('parseProgressLine', () => {
  it('reads elapsed and loss in any order, ignoring other pairs', () => {
    assert.deepEqual(parseProgressLine('progress: elapsed=12.5 step=340 loss=3.812'), {
      elapsed: 12.5,
      loss: 3.812,
      step: 340,
    });
    assert.deepEqual(
      parseProgressLine('progress: elapsed=1 step=-3 loss=2'),
      { elapsed: 1, loss: 2 },
      'a bad step is dropped',
    );
    assert.deepEqual(parseProgressLine('  progress: loss=2e-1 lr=0.5 elapsed=3 '), { elapsed: 3, loss: 0.2 });
    assert.deepEqual(parseProgressLine('\x1b[32mprogress: elapsed=1 loss=2\x1b[0m'), { elapsed: 1, loss: 2 });
    assert.deepEqual(parseProgressLine('old bar\rprogress: elapsed=1 loss=2'), { elapsed: 1, loss: 2 });
  });

  it('ignores lines that are not complete, finite progress lines', () => {
    for (const line of [
      'progress: elapsed=1',
      'progress: loss=1',
      'progress: elapsed=-1 loss=2',
      'progress: elapsed=1 loss=nan',
      'progress: elapsed=1 loss=inf',
      'progress: elapsed=x loss=2',
      'step 1 | loss 2.0 | 1.0/20s',
      'my progress: elapsed=1 loss=2',
      'progress:elapsed=1 loss=2',
    ])
      assert.equal(parseProgressLine(line), undefined, line);
  });

  it('is not read as a metric (progress lines never reach the objective)', () => {
    assert.deepEqual(parseMetrics('progress: elapsed=1 loss=0.5\n---\nval_bpb: 1.2\n'), { val_bpb: 1.2 });
    assert.deepEqual(parseMetrics('---\nval_bpb: 1.2\nprogress: elapsed=1 loss=0.5\n'), { val_bpb: 1.2 });
  });
});

describe('ProgressParser', () => {
  it('joins lines cut across chunks and keeps the order', () => {
    const p = new ProgressParser();
    assert.deepEqual(p.push('hello\nprogress: elap'), []);
    assert.deepEqual(p.push('sed=1 loss=3\nprogress: elapsed=2 loss=2.5\npro'), [
      { elapsed: 1, loss: 3 },
      { elapsed: 2, loss: 2.5 },
    ]);
    assert.deepEqual(p.push('gress: elapsed=3 loss=2'), []);
    assert.deepEqual(p.end(), [{ elapsed: 3, loss: 2 }]);
  });

  it('drops an endless line instead of buffering it', () => {
    const p = new ProgressParser();
    p.push('x'.repeat(10_000));
    assert.deepEqual(p.push('\nprogress: elapsed=1 loss=1\n'), [{ elapsed: 1, loss: 1 }]);
  });
});
