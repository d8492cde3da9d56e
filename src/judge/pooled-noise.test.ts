import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeNoise, dfOf, poolNoise } from './pooled-noise.js';
import { sampleStd } from './types.js';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) < tol, `${a} vs ${b}`);

describe('poolNoise', () => {
  it('is the baseline spread when the baseline is all there is', () => {
    const runs = [1.0, 1.01, 0.99];
    const n = poolNoise(runs, [{ commit: 'a', runs }])!;
    close(n.sigma, sampleStd(runs));
    assert.equal(n.df, 2);
    assert.deepEqual(n.runs, runs);
    // 95% interval for sigma with 2 df: s * sqrt(2 / 7.378) .. s * sqrt(2 / 0.0506)
    close(n.low!, 0.01 * Math.sqrt(2 / 7.3778), 1e-5);
    close(n.high!, 0.01 * Math.sqrt(2 / 0.050636), 1e-4);
  });

  it('pools commits with their own means, merging groups of one commit', () => {
    const n = poolNoise(
      [1, 1.02],
      [
        { commit: 'base', runs: [1, 1.02] }, // ss 0.0002, 1 df
        { commit: 'c1', runs: [0.5, 0.51, 0.52] }, // ss 0.0002, 2 df
        { commit: 'c2', runs: [0.7] }, // one run: nothing to learn
        { commit: 'c2', runs: [0.72] }, // ... until re-measured: ss 0.0002, 1 df
      ],
    )!;
    close(n.sigma, Math.sqrt(0.0006 / 4));
    assert.equal(n.df, 4);
    assert.equal(n.commits, 3);
    assert.equal(n.samples, 7);
    assert.ok(n.low! < n.sigma && n.sigma < n.high!);
  });

  it('leaves out a commit whose runs are all identical (a pinned seed) while others vary', () => {
    const n = poolNoise(
      [1, 1.02],
      [
        { commit: 'base', runs: [1, 1.02] },
        { commit: 'pinned', runs: [0.9, 0.9, 0.9, 0.9] },
      ],
    )!;
    close(n.sigma, sampleStd([1, 1.02]));
    assert.equal(n.df, 1);
  });

  it('is 0 for a deterministic metric, and null without any repeated commit', () => {
    const n = poolNoise([1, 1], [{ commit: 'base', runs: [1, 1] }])!;
    assert.equal(n.sigma, 0);
    // a value whose float mean is off by an ulp: still exactly 0, so the judge stays greedy
    const v = 1.922476;
    assert.equal(
      poolNoise(
        [v, v, v],
        [
          { commit: 'base', runs: [v, v, v] },
          { commit: 'c', runs: [0.3, 0.3] },
        ],
      )!.sigma,
      0,
    );
    assert.equal(n.low, undefined);
    assert.equal(poolNoise([1], [{ commit: 'base', runs: [1] }]), null);
  });

  it('reads old ledgers (no df) and describes itself', () => {
    assert.equal(dfOf({ sigma: 0.01, runs: [1, 2, 3] }), 2);
    const fmt = (x: number) => x.toFixed(4);
    assert.equal(describeNoise({ sigma: 0.01, runs: [1, 2, 3] }, fmt), 'sigma 0.0100 (2 df from 3 baseline runs)');
    assert.equal(
      describeNoise({ sigma: 0.01, runs: [1, 2], df: 4, low: 0.006, high: 0.029, commits: 3, samples: 7 }, fmt),
      'sigma 0.0100 (95% 0.0060-0.0290, 4 df from 3 commits, 7 runs)',
    );
  });
});
