import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type CurvePoints,
  CurveMonitor,
  compareAt,
  type EarlyStopRule,
  lossAt,
  overSteps,
  pooledSpread,
  referenceEnd,
  samplePoints,
  stopReason,
  withSteps,
} from './curves.js';

/** A decaying curve over 0..10 s, shifted by `offset`. */
function curve(offset: number, end = 10): CurvePoints {
  const out: CurvePoints = [];
  for (let t = 0; t <= end; t += 1) out.push([t, 2 + 3 * Math.exp(-t / 3) + offset]);
  return out;
}

const RULE: EarlyStopRule = {
  k: 3,
  minFraction: 0.3,
  minReferenceRuns: 2,
  patience: 2,
  minRelGap: 0,
  checkSteps: true,
};
// three runs of the best, spread 0.01 at every t
const BEST = [curve(-0.01), curve(0), curve(0.01)];
const REF = { curves: BEST, groups: [BEST] };

describe('curve helpers', () => {
  it('interpolates inside the span, undefined outside', () => {
    const c: CurvePoints = [
      [1, 4],
      [3, 2],
    ];
    assert.equal(lossAt(c, 2), 3);
    assert.equal(lossAt(c, 1), 4);
    assert.equal(lossAt(c, 3), 2);
    assert.equal(lossAt(c, 0.5), undefined);
    assert.equal(lossAt(c, 3.5), undefined);
    assert.equal(lossAt([], 1), undefined);
  });

  it('samples at most max points, first and last kept', () => {
    const pts = Array.from({ length: 100 }, (_, i) => ({ elapsed: i, loss: 100 - i }));
    const s = samplePoints(pts, 10);
    assert.equal(s.length, 10);
    assert.deepEqual(s[0], [0, 100]);
    assert.deepEqual(s[9], [99, 1]);
    assert.deepEqual(samplePoints(pts.slice(0, 3), 10), [
      [0, 100],
      [1, 99],
      [2, 98],
    ]);
  });

  it('pools the spread over commits measured at least twice', () => {
    const single = [curve(5)]; // one run of another commit: no spread from it
    const other = [curve(0.1), curve(0.13)]; // spread of two runs 0.03 apart
    const { spread, df } = pooledSpread([BEST, single, other], 5);
    assert.equal(df, 3);
    // SS = 0.0002 (best) + 0.00045 (other)
    assert.ok(Math.abs(spread - Math.sqrt(0.00065 / 3)) < 1e-9, String(spread));
    assert.equal(referenceEnd({ curves: [curve(0, 10), curve(0, 8)], groups: [] }), 8);
  });
});

describe('compareAt', () => {
  it('calls a curve clearly above mean + k spreads worse, within it ok', () => {
    const worse = compareAt(REF, RULE, { elapsed: 5, loss: lossAt(curve(0), 5)! + 0.05 });
    assert.equal(worse.kind, 'worse');
    const near = compareAt(REF, RULE, { elapsed: 5, loss: lossAt(curve(0), 5)! + 0.03 });
    // threshold = 3 * 0.01 * sqrt(1 + 1/3) = 0.0346
    assert.equal(near.kind, 'ok');
    if (near.kind === 'ok') assert.ok(Math.abs(near.threshold - near.mean - 0.03 * Math.sqrt(4 / 3)) < 1e-9);
    assert.equal(compareAt(REF, RULE, { elapsed: 5, loss: 0 }).kind, 'ok', 'better is never worse');
  });

  it('does not compare before minFraction, past the reference, or without enough reference curves', () => {
    const bad = (t: number) => ({ elapsed: t, loss: 100 });
    assert.equal(compareAt(REF, RULE, bad(2.9)).kind, 'not-comparable');
    assert.equal(compareAt(REF, RULE, bad(3)).kind, 'worse');
    assert.equal(compareAt(REF, RULE, bad(10.5)).kind, 'not-comparable');
    const one = { curves: [curve(0)], groups: [[curve(0)], [curve(0), curve(0.01)]] };
    assert.equal(compareAt(one, RULE, bad(5)).kind, 'not-comparable', 'one reference curve');
    assert.equal(compareAt(REF, { ...RULE, minReferenceRuns: 4 }, bad(5)).kind, 'not-comparable');
    const same = [curve(0), curve(0)];
    assert.equal(compareAt({ curves: same, groups: [same] }, RULE, bad(5)).kind, 'not-comparable', 'no spread');
  });

  it('a relative floor widens the band when curves barely differ', () => {
    const p = { elapsed: 5, loss: lossAt(curve(0), 5)! + 0.05 };
    assert.equal(compareAt(REF, { ...RULE, minRelGap: 0.05 }, p).kind, 'ok');
  });
});

describe('CurveMonitor', () => {
  it('stops after patience worse points in a row; an ok point resets the streak', () => {
    const m = new CurveMonitor(REF, RULE);
    const at = (t: number, d: number) => ({ elapsed: t, loss: lossAt(curve(0), t)! + d });
    assert.equal(m.observe(at(1, 1)), null, 'too early: not counted');
    assert.equal(m.observe(at(4, 1)), null, 'first worse point');
    assert.equal(m.observe(at(5, 0)), null, 'ok: the streak resets');
    assert.equal(m.observe(at(6, 1)), null);
    const stop = m.observe(at(7, 1));
    assert.ok(stop);
    assert.match(stopReason(stop), /^stopped early \(loss \d+\.\d{4} at t=7\.0s vs best \d+\.\d{4} ± 0\.0100/);
  });

  it('never stops a run that prints no progress, or one as good as the best', () => {
    const m = new CurveMonitor(REF, RULE);
    for (let t = 0; t <= 10; t += 0.5) assert.equal(m.observe({ elapsed: t, loss: lossAt(curve(0.005), t)! }), null);
  });
});

describe('the same-step check', () => {
  /** A curve over 0..10 s at `rate` steps per second: loss falls with steps, not seconds. */
  const stepped = (offset: number, rate = 10): CurvePoints =>
    Array.from({ length: 11 }, (_, t) => [t, 2 + 3 * Math.exp(-(t * rate) / 30) + offset, t * rate]);
  const best = [stepped(-0.01), stepped(0), stepped(0.01)];
  const ref = withSteps({ curves: best, groups: [best] });
  const run = (m: CurveMonitor, c: CurvePoints) =>
    c
      .map(([elapsed, loss, step]) => m.observe({ elapsed, loss, ...(step !== undefined ? { step } : {}) }))
      .find(Boolean);

  it('does not stop a run slowed down by the machine (same loss per step, fewer steps)', () => {
    const slow = stepped(0, 6); // 40 % fewer steps per second
    assert.ok(run(new CurveMonitor(ref, RULE), slow) === undefined);
    assert.ok(run(new CurveMonitor(ref, { ...RULE, checkSteps: false }), slow), 'time alone would stop it');
  });

  it('stops a run worse at the same step and the same time; a run without steps by time alone', () => {
    assert.ok(run(new CurveMonitor(ref, RULE), stepped(0.2)));
    const noSteps = stepped(0, 6).map(([t, l]) => [t, l] as [number, number]);
    assert.ok(run(new CurveMonitor(ref, RULE), noSteps));
    assert.ok(
      run(new CurveMonitor(withSteps({ curves: [curve(0), curve(0.01)], groups: [] }), RULE), stepped(0.2)) ===
        undefined,
      'no spread',
    );
  });

  it('builds step curves only from points with increasing steps', () => {
    assert.deepEqual(
      overSteps([
        [0, 5, 0],
        [1, 4],
        [2, 3, 20],
        [3, 2.5, 20],
        [4, 2, 40],
      ]),
      [
        [0, 5],
        [20, 3],
        [40, 2],
      ],
    );
    assert.equal(withSteps(REF).bySteps, undefined, 'no steps, no twin');
  });
});
