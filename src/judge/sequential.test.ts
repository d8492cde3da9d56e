import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SequentialJudge } from './sequential.js';
import { tQuantile } from './stats.js';
import type { JudgeInput } from './types.js';

// sigma 0.01 with 10 degrees of freedom (pooled over several commits)
const noise = { sigma: 0.01, runs: [1.0, 1.01, 0.99], df: 10 };
const at = (candidate: number[], over: Partial<JudgeInput> = {}): JudgeInput => ({
  direction: 'minimize',
  best: { mean: 1.0, runs: 4 },
  candidate,
  noise,
  ...over,
});

describe('SequentialJudge', () => {
  const j = new SequentialJudge({ alpha: 0.02, maxRuns: 4, futility: 0.5 });

  it('spends alpha over the looks: the bound is the t-quantile at 1 - alpha/maxRuns with the pooled df', () => {
    assert.ok(Math.abs(j.bound(10) - tQuantile(1 - 0.005, 10)) < 1e-12);
    assert.ok(Math.abs(j.bound(10) - 3.169) < 1e-3);
    // few degrees of freedom: a wider bound (sigma itself is uncertain)
    assert.ok(j.bound(2) > 9);
  });

  it('never keeps on one run while sigma > 0: a clear gain is confirmed on another seed, then kept', () => {
    const first = j.decide(at([0.9]));
    assert.equal(first.decision, 'confirm');
    assert.match(first.reason, /confirming on another seed/);
    const d = j.decide(at([0.9, 0.91]));
    assert.equal(d.decision, 'keep');
    // se = 0.01 * sqrt(1/2 + 1/4); threshold = 3.169 * se
    assert.ok(Math.abs(d.threshold - 3.169 * 0.01 * Math.sqrt(0.75)) < 1e-4);
    assert.match(
      d.reason,
      /improved by 0\.095 over 2 runs \(> 0\.027\d* = 3\.17 x standard error, sigma 0\.01, 10 df\)/,
    );
  });

  it('discards a change below the futility line at once, and a worse one', () => {
    // se at n = 1: 0.01 * sqrt(1 + 1/4) = 0.01118; futility 0.5 se = 0.0056
    const small = j.decide(at([0.995]));
    assert.equal(small.decision, 'discard');
    assert.match(small.reason, /within noise \(<= 0\.5 x standard error/);
    assert.equal(j.decide(at([1.0])).decision, 'discard');
    assert.match(j.decide(at([1.02])).reason, /worse by 0\.02/);
  });

  it('runs a promising change again up to maxRuns, then discards it as within noise', () => {
    assert.equal(j.decide(at([0.985])).decision, 'confirm');
    assert.equal(j.decide(at([0.985, 0.987])).decision, 'confirm');
    assert.equal(j.decide(at([0.985, 0.987, 0.986])).decision, 'confirm');
    const d = j.decide(at([0.985, 0.987, 0.986, 0.99]));
    assert.equal(d.decision, 'discard');
    assert.match(d.reason, /improved by only 0\.013 over 4 runs, within noise/);
  });

  it('keeps a modest gain once enough runs shrink the standard error', () => {
    // gain 0.03 over 4 runs: se = 0.01 * sqrt(1/4 + 1/4) = 0.00707, bound 0.0224
    assert.equal(j.decide(at([0.97, 0.975, 0.965, 0.97])).decision, 'keep');
    assert.equal(j.decide(at([0.97, 0.975, 0.965])).decision, 'keep');
  });

  it('discards a change whose runs on different seeds are identical (it ignores AUTORESEARCH_SEED)', () => {
    // printed with six decimals (the baseline's runs say so) and sigma 0.01: a tie by noise alone
    // has a chance of ~3e-5
    const six = { sigma: 0.01, runs: [1.003712, 0.991245, 1.005043], df: 10 };
    const d = j.decide(at([0.95, 0.95], { noise: six }));
    assert.equal(d.decision, 'discard');
    assert.match(d.reason, /ignores AUTORESEARCH_SEED/);
    // with vary_seed = false identical runs are what the harness asked for
    const fixed = new SequentialJudge({ seedsVary: false });
    assert.equal(fixed.decide(at([0.95, 0.95], { noise: six })).decision, 'keep');
  });

  it('a coarse metric that ties by chance is judged, not taken for a pinned seed', () => {
    // an accuracy on 1,000 examples (three decimals), sigma 0.005: two seeds tie ~6 % of the time
    const acc = { sigma: 0.005, runs: [0.9, 0.905, 0.895], df: 10 };
    const input = (c: number[]) => at(c, { direction: 'maximize', best: { mean: 0.9, runs: 4 }, noise: acc });
    assert.equal(j.decide(input([0.953, 0.953])).decision, 'keep', 'a real gain with a tie is kept');
    // four equal values: a chance of ~2e-4 by noise alone: the seed is pinned
    const four = j.decide(input([0.953, 0.953, 0.953, 0.953]));
    assert.equal(four.decision, 'discard');
    assert.match(four.reason, /ignores AUTORESEARCH_SEED/);
  });

  it('works when maximizing', () => {
    assert.equal(j.decide(at([1.1, 1.09], { direction: 'maximize' })).decision, 'keep');
    assert.equal(j.decide(at([0.9], { direction: 'maximize' })).decision, 'discard');
  });

  it('reads an old ledger noise floor (no df): df = baseline runs - 1', () => {
    const d = j.decide(at([0.9, 0.91], { noise: { sigma: 0.01, runs: [1, 1.01, 0.99] } }));
    assert.equal(d.decision, 'keep'); // bound t_2(0.995) = 9.92: threshold 0.0859 < gain 0.095
    assert.match(d.reason, /2 df/);
  });

  it('acts greedily with min_delta when the noise is unknown or zero', () => {
    const g = new SequentialJudge({ minDelta: 0.001 });
    assert.equal(g.decide(at([0.9995], { noise: null })).decision, 'discard');
    assert.equal(g.decide(at([0.998], { noise: null })).decision, 'keep');
    assert.equal(g.decide(at([0.998], { noise: { sigma: 0, runs: [1, 1] } })).decision, 'keep');
  });

  it('holds its false-keep bound on pure noise (no-op changes, sigma known from 20 df)', () => {
    // a seeded normal generator; 20000 no-op candidates against a best measured 4 times
    let s = 12345;
    const u = () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return (s + 0.5) / 4294967296;
    };
    const normal = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
    const judge = new SequentialJudge({ alpha: 0.02, maxRuns: 4, futility: 0.5 });
    let kept = 0;
    let runs = 0;
    const N = 20000;
    for (let i = 0; i < N; i++) {
      const best = { mean: 1 + (0.01 * (normal() + normal() + normal() + normal())) / 4, runs: 4 };
      const cand = [1 + 0.01 * normal()];
      let d = judge.decide({ direction: 'minimize', best, candidate: cand, noise: { sigma: 0.01, runs: [], df: 20 } });
      while (d.decision === 'confirm') {
        cand.push(1 + 0.01 * normal());
        d = judge.decide({ direction: 'minimize', best, candidate: cand, noise: { sigma: 0.01, runs: [], df: 20 } });
      }
      runs += cand.length;
      if (d.decision === 'keep') kept++;
    }
    assert.ok(kept / N <= 0.02, `kept ${kept} of ${N}`);
    assert.ok(runs / N < 2, `runs per no-op ${runs / N}`);
  });

  it("pools the candidate's own runs when they show more noise than the estimate (device, tiny: a keep on a baseline sd 10x too small)", () => {
    // Measured on the device (bench/analysis-tiny-device-60s.txt): 3 baseline runs with sd 0.0017
    // (2 df); BATCH_SIZE 8 -> 4 then ran 3.066819 and 3.097524 and was kept (+0.026 > 0.0158);
    // the pooled noise later settled at 0.018 and ablation found no gain (-0.017 +- 0.061).
    const d = new SequentialJudge().decide({
      direction: 'minimize',
      best: { mean: 3.1084953333333334, runs: 3 },
      candidate: [3.066819, 3.097524],
      noise: { sigma: 0.0017389112494124548, runs: [3.107117, 3.110449, 3.10792], df: 2 },
    });
    assert.equal(d.decision, 'confirm');
    assert.match(d.reason, /within noise/);
    assert.ok(d.threshold > 0.05, `threshold ${d.threshold}`);
    // its own runs agreeing closely never lower the bar below the study's estimate
    const tight = j.decide(at([0.9, 0.9000001]));
    const loose = j.decide(at([0.9, 0.91]));
    assert.ok(Math.abs(tight.threshold - loose.threshold) < 1e-12);
    assert.equal(tight.decision, 'keep');
    // and a clear gain with a noisy pair is kept once the pooled bar is cleared, saying so
    const noisy = j.decide(at([0.9, 0.94]));
    assert.match(noisy.reason, /with its own runs/);
  });
});
