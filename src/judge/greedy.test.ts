import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GreedyJudge } from './greedy.js';
import type { JudgeInput } from './types.js';

const input = (direction: 'minimize' | 'maximize', best: number, candidate: number): JudgeInput => ({
  direction,
  best: { mean: best, runs: 1 },
  candidate: [candidate],
  noise: null,
});

describe('GreedyJudge', () => {
  it('keeps a lower value when minimizing and a higher one when maximizing', () => {
    const j = new GreedyJudge();
    assert.equal(j.decide(input('minimize', 1.0, 0.99)).decision, 'keep');
    assert.equal(j.decide(input('minimize', 1.0, 1.01)).decision, 'discard');
    assert.equal(j.decide(input('maximize', 0.5, 0.6)).decision, 'keep');
    assert.equal(j.decide(input('maximize', 0.5, 0.4)).decision, 'discard');
  });

  it('discards ties', () => {
    assert.deepEqual(new GreedyJudge().decide(input('minimize', 1, 1)), {
      decision: 'discard',
      reason: 'no change',
      threshold: 0,
    });
  });

  it('requires the gain to exceed min_delta', () => {
    const j = new GreedyJudge(0.01);
    assert.equal(j.decide(input('minimize', 1.0, 0.995)).decision, 'discard');
    assert.match(j.decide(input('minimize', 1.0, 0.995)).reason, /min_delta/);
    assert.equal(j.decide(input('minimize', 1.0, 0.98)).decision, 'keep');
    assert.equal(j.decide(input('maximize', 1.0, 1.005)).decision, 'discard');
  });

  it('explains its decision', () => {
    assert.equal(new GreedyJudge().decide(input('minimize', 1.0, 0.9975)).reason, 'improved by 0.0025');
    assert.equal(new GreedyJudge().decide(input('minimize', 1.0, 1.5)).reason, 'worse by 0.5');
  });
});
