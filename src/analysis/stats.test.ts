import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  additivity,
  clearlyPositive,
  combination,
  estimate,
  gain,
  mean,
  pooledSigma,
  sd,
  t975,
  transferred,
} from './stats.ts';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`);

test('mean, sd and the pooled sigma of several groups (n - 1 per group)', () => {
  assert.equal(mean([]), null);
  assert.equal(sd([1]), null);
  close(sd([1, 2, 3])!, 1);
  // groups {1,3} and {10,12,14}: ss = 2 + 8 = 10 over df 1 + 2 = 3
  const p = pooledSigma([[1, 3], [10, 12, 14], [7]])!;
  assert.equal(p.df, 3);
  close(p.sigma, Math.sqrt(10 / 3));
  assert.equal(pooledSigma([[1], [2]]), null, 'one run per group: no estimate');
});

test("Student's t: wide for few degrees of freedom, 1.96 for many", () => {
  close(t975(1), 12.706);
  close(t975(2), 4.303);
  close(t975(10), 2.228);
  assert.ok(t975(45) < 2.042 && t975(45) > 2.0);
  close(t975(1000), 1.96);
  assert.equal(t975(0), Number.POSITIVE_INFINITY);
});

test('gains are positive for an improvement in either direction', () => {
  close(gain(1.0, 0.9, 'minimize'), 0.1);
  close(gain(0.5, 0.7, 'maximize'), 0.2);
  assert.ok(gain(1.0, 1.1, 'minimize') < 0);
});

test('a combination of means counts a shared term with its multiplicity', () => {
  const noise = { sigma: 0.01, df: 10 };
  // (a - b) with 4 runs each: se = 0.01 * sqrt(1/4 + 1/4)
  const d = combination(
    [
      { coef: 1, mean: 1.0, runs: 4 },
      { coef: -1, mean: 0.9, runs: 4 },
    ],
    noise,
  );
  close(d.value, 0.1);
  close(d.se!, 0.01 * Math.sqrt(0.5));
  close(d.half!, t975(10) * d.se!);
  assert.equal(combination([{ coef: 1, mean: 1, runs: 1 }], null).se, null);
});

test('additivity: the sum of the parts against the whole, with the uncertainty of both', () => {
  const noise = { sigma: 0.01, df: 20 };
  // 3 changes, 3 runs each: D = 2 base - sum(only) + best, var = s^2 (4/3 + 3/3 + 1/3)
  const a = additivity([0.05, 0.03, 0.02], 0.1, { base: 3, part: 3, best: 3 }, noise);
  close(a.sum, 0.1);
  close(a.difference.value, 0);
  close(a.difference.se!, 0.01 * Math.sqrt(8 / 3));
  assert.equal(a.additive, true);
  // the parts add up to twice the whole: far beyond the noise
  const b = additivity([0.1, 0.1], 0.1, { base: 3, part: 3, best: 3 }, noise);
  assert.equal(b.additive, false);
  // the same gap within a large noise is not evidence against additivity
  const c = additivity([0.1, 0.1], 0.1, { base: 3, part: 3, best: 3 }, { sigma: 0.2, df: 20 });
  assert.equal(c.additive, true);
  assert.equal(additivity([0.1], 0.1, { base: 1, part: 1, best: 1 }, null).additive, null, 'unknown without noise');
});

test('transferred: grew, held, shrank, vanished, reversed', () => {
  const small = estimate(0.01, 0.001, 10);
  assert.equal(transferred(small, estimate(0.03, 0.001, 10)), 'grew');
  assert.equal(transferred(small, estimate(0.011, 0.001, 10)), 'held');
  assert.equal(transferred(small, estimate(0.005, 0.001, 10)), 'shrank');
  assert.equal(transferred(small, estimate(0.001, 0.001, 10)), 'vanished');
  assert.equal(transferred(small, estimate(-0.01, 0.001, 10)), 'reversed');
  assert.equal(clearlyPositive(estimate(0.001, null, null)), true, 'without noise, the sign decides');
});
