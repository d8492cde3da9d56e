import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GreedyJudge } from './greedy.js';

describe('GreedyJudge', () => {
  it('keeps a lower value when minimizing and a higher one when maximizing', () => {
    const j = new GreedyJudge();
    assert.equal(j.decide({ direction: 'minimize', best: 1.0, candidate: 0.99 }).decision, 'keep');
    assert.equal(j.decide({ direction: 'minimize', best: 1.0, candidate: 1.01 }).decision, 'discard');
    assert.equal(j.decide({ direction: 'maximize', best: 0.5, candidate: 0.6 }).decision, 'keep');
    assert.equal(j.decide({ direction: 'maximize', best: 0.5, candidate: 0.4 }).decision, 'discard');
  });

  it('discards ties', () => {
    const d = new GreedyJudge().decide({ direction: 'minimize', best: 1, candidate: 1 });
    assert.deepEqual(d, { decision: 'discard', reason: 'no change' });
  });

  it('requires the gain to exceed min_delta', () => {
    const j = new GreedyJudge(0.01);
    assert.equal(j.decide({ direction: 'minimize', best: 1.0, candidate: 0.995 }).decision, 'discard');
    assert.match(j.decide({ direction: 'minimize', best: 1.0, candidate: 0.995 }).reason, /min_delta/);
    assert.equal(j.decide({ direction: 'minimize', best: 1.0, candidate: 0.98 }).decision, 'keep');
    assert.equal(j.decide({ direction: 'maximize', best: 1.0, candidate: 1.005 }).decision, 'discard');
  });

  it('explains its decision', () => {
    assert.equal(new GreedyJudge().decide({ direction: 'minimize', best: 1.0, candidate: 0.9975 }).reason, 'improved by 0.0025');
    assert.equal(new GreedyJudge().decide({ direction: 'minimize', best: 1.0, candidate: 1.5 }).reason, 'worse by 0.5');
  });
});
