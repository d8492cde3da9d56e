import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SequentialJudge } from './sequential.js';
import type { Decision, JudgeInput } from './types.js';

// Seed luck of sigma 0.01 shared by candidate and best on one seed; the paired differences
// spread sigma_d 0.001 (20 df, pooled over the study).
const noise = { sigma: 0.01, runs: [1.003712, 0.991245, 1.005043], df: 20 };
const dnoise = { sigma: 0.001, runs: [], df: 20 };
const luck = [0.012, -0.007, 0.004, -0.015];
const bestOn = luck.map((l) => 1 + l);
const paired = (candidate: number[], over: Partial<JudgeInput> = {}): JudgeInput => ({
  direction: 'minimize',
  best: { mean: 1.0, runs: 4 },
  candidate,
  noise,
  paired: { best: bestOn.slice(0, candidate.length), noise: dnoise },
  ...over,
});

function seeded(seed: number) {
  let s = seed;
  const u = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

describe('SequentialJudge with paired seeds', () => {
  const j = new SequentialJudge({ alpha: 0.02, maxRuns: 4, futility: 0.5 });

  it('keeps a gain far below the seed luck once the differences show it (the luck cancels)', () => {
    // 0.004 better on every seed: 0.4 sigma of the runs, 4 sigma_d
    const cand = luck.map((l) => 1 + l - 0.004);
    assert.equal(j.decide(paired(cand.slice(0, 1))).decision, 'confirm', 'never kept on one run');
    const d = j.decide(paired(cand.slice(0, 2)));
    assert.equal(d.decision, 'keep', d.reason);
    assert.match(d.reason, /improved by 0\.004 over 2 paired seeds .*paired-difference sigma 0\.001, 20 df/);
    // se = 0.001 / sqrt(2); bound t_20(0.995) = 2.845
    assert.ok(Math.abs(d.threshold - 2.845 * 0.001 * Math.SQRT1_2) < 1e-5);
    // unpaired, the same values are within the noise: 4 runs, then discarded
    const { paired: _p, ...unpaired } = paired(cand);
    assert.equal(j.decide(unpaired).decision, 'discard');
  });

  it('discards a change that is worse on the same seeds, even when its raw values look better', () => {
    // its seeds happen to be lucky ones for the best too: lower than the best's mean, worse paired
    const cand = [bestOn[1]! + 0.002];
    assert.ok(cand[0]! < 1.0);
    const d = j.decide(paired(cand, { paired: { best: [bestOn[1]!], noise: dnoise } }));
    assert.equal(d.decision, 'discard');
    assert.match(d.reason, /worse by 0\.002/);
  });

  it('a change that ignores the seed (one value on every seed) is discarded, not kept for a steady paired gain', () => {
    // a lucky constant: 0.98 on every seed; against the best's varying values d = 0.032, 0.013, 0.024, 0.005
    const d = j.decide(paired([0.98, 0.98]));
    assert.equal(d.decision, 'discard');
    assert.match(d.reason, /ignores AUTORESEARCH_SEED/);
    // the same values from code that uses the seed would be judged on their differences
    const fine = j.decide(paired([0.98, 0.981]));
    assert.doesNotMatch(fine.reason, /ignores AUTORESEARCH_SEED/);
  });

  it('falls back to the unpaired test when the best values do not cover every run', () => {
    const input = paired([0.99, 0.99]);
    input.paired = { best: [1.0], noise: dnoise };
    const d = j.decide({ ...input, candidate: [0.99, 0.992] });
    assert.doesNotMatch(d.reason, /paired/);
  });

  it('holds its false-keep bound on no-op changes with seed luck 10x the difference noise', () => {
    const normal = seeded(4242);
    let kept = 0;
    let runs = 0;
    const N = 20000;
    for (let i = 0; i < N; i++) {
      const seedLuck = [0, 1, 2, 3].map(() => 0.01 * normal());
      const best = seedLuck.map((l) => 1 + l + 0.001 * normal());
      const cand: number[] = [];
      let d: Decision;
      do {
        const k = cand.length;
        cand.push(1 + seedLuck[k]! + 0.001 * normal());
        d = j.decide(
          paired(cand, {
            paired: { best: best.slice(0, cand.length), noise: { sigma: Math.SQRT2 * 0.001, runs: [], df: 20 } },
          }),
        );
      } while (d.decision === 'confirm');
      runs += cand.length;
      if (d.decision === 'keep') kept++;
    }
    assert.ok(kept / N <= 0.02, `kept ${kept} of ${N}`);
    assert.ok(kept / N > 0.001, `kept ${kept} of ${N}: the test spends alpha`);
    assert.ok(runs / N < 2, `runs per no-op ${runs / N}`);
  });
});
