import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeNoise, dfOf, pairedDiffNoise, poolNoise } from './pooled-noise.js';
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

describe('pairedDiffNoise', () => {
  const runs = { sigma: 0.01, runs: [1, 1.01, 0.99], df: 6 };

  it('uses sqrt(2) x the runs sigma (with its df) until the differences have 3 df', () => {
    const none = pairedDiffNoise([], runs)!;
    close(none.sigma, Math.SQRT2 * 0.01);
    assert.equal(none.df, 6);
    // one comparison with 3 seeds: 2 df, not enough
    const two = pairedDiffNoise([[0.001, 0.002, 0.0015]], runs)!;
    close(two.sigma, Math.SQRT2 * 0.01);
    // and one comparison of one seed adds nothing
    assert.equal(pairedDiffNoise([[0.001, 0.002, 0.0015], [0.5]], runs)!.df, 6);
  });

  it('pools the differences around each comparison’s own mean once they have 3 df', () => {
    const d = pairedDiffNoise(
      [
        [0.001, 0.003],
        [0.1, 0.102, 0.104],
      ],
      runs,
    )!;
    assert.equal(d.df, 3);
    // squares around the means: 2e-6 + 8e-6 over 3 df
    close(d.sigma, Math.sqrt(1e-5 / 3), 1e-12);
    assert.ok(d.low! < d.sigma && d.sigma < d.high!);
  });

  it('with a noise estimate of fewer than 3 df, takes the differences once they have as many', () => {
    const few = { sigma: 0.01, runs: [1, 1.01, 0.99], df: 2 };
    assert.equal(pairedDiffNoise([[0.001, 0.003, 0.002]], few)!.df, 2);
    close(pairedDiffNoise([[0.001, 0.003, 0.002]], few)!.sigma, 0.001);
    assert.equal(pairedDiffNoise([], null), null);
  });
});
