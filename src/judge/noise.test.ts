import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NoiseJudge } from './noise.js';
import type { JudgeInput } from './types.js';

const noise = { sigma: 0.01, runs: [1.0, 1.01, 0.99] };
const at = (candidate: number[], over: Partial<JudgeInput> = {}): JudgeInput => ({
  direction: 'minimize',
  best: { mean: 1.0, runs: 3 },
  candidate,
  noise,
  ...over,
});

describe('NoiseJudge on scripted noisy sequences', () => {
  const j = new NoiseJudge({ z: 2, confirmRuns: 2 });

  it('keeps a gain far beyond the noise after one run', () => {
    // se = 0.01 * sqrt(1 + 1/3) = 0.01155; threshold = 0.0231
    const d = j.decide(at([0.95]));
    assert.equal(d.decision, 'keep');
    assert.ok(Math.abs(d.threshold - 0.02309) < 1e-4);
    assert.match(d.reason, /improved by 0\.05 \(> 0\.023094 = 2 x standard error, sigma 0\.01\)/);
  });

  it('discards anything not better, without confirmation', () => {
    assert.equal(j.decide(at([1.0])).decision, 'discard');
    assert.equal(j.decide(at([1.004])).decision, 'discard');
  });

  it('confirms a gain within the noise, then keeps it when the mean clears the shrinking threshold', () => {
    assert.equal(j.decide(at([0.985])).decision, 'confirm');
    // two runs: se = 0.01 * sqrt(1/2 + 1/3) = 0.00913, threshold 0.01826; mean 0.98 -> gain 0.02
    assert.equal(j.decide(at([0.985, 0.975])).decision, 'keep');
  });

  it('discards a lucky first run that regresses on confirmation', () => {
    assert.equal(j.decide(at([0.985])).decision, 'confirm');
    assert.equal(j.decide(at([0.985, 1.03])).decision, 'discard'); // mean 1.0075: worse than the best
  });

  it('stops confirming after confirmRuns extra runs', () => {
    assert.equal(j.decide(at([0.99, 0.995])).decision, 'confirm');
    const d = j.decide(at([0.99, 0.995, 0.992]));
    assert.equal(d.decision, 'discard');
    assert.match(d.reason, /within noise/);
  });

  it('works when maximizing', () => {
    const d = j.decide(at([1.05], { direction: 'maximize' }));
    assert.equal(d.decision, 'keep');
    assert.equal(j.decide(at([0.95], { direction: 'maximize' })).decision, 'discard');
  });

  it('acts greedily with min_delta when no noise floor was measured', () => {
    const g = new NoiseJudge({ minDelta: 0.001 });
    assert.equal(g.decide(at([0.9995], { noise: null })).decision, 'discard');
    assert.equal(g.decide(at([0.998], { noise: null })).decision, 'keep');
    assert.equal(g.decide(at([0.9999], { noise: { sigma: 0, runs: [1, 1] } })).decision, 'discard');
  });
});
