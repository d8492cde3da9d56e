import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { experiment } from '../test-support/proposal-fixtures.js';
import { logDomain, logScaleProblem, onTimeAxis, timeUnit } from './progress-axes.js';
import { progressChartSpec } from './progress-chart.js';
import { prepareProgress } from './progress-data.js';

const MIN = 60_000;

describe('progress chart axes', () => {
  // #2 finishes before #1 (two slots): on the time axis the best follows finishing order.
  const all = [
    experiment({ number: 0, status: 'keep', value: 2, startedAt: 0, endedAt: 1 * MIN }),
    experiment({ number: 1, status: 'keep', value: 1.5, startedAt: 1 * MIN, endedAt: 10 * MIN }),
    experiment({ number: 2, status: 'keep', value: 1.8, startedAt: 1 * MIN, endedAt: 5 * MIN }),
    experiment({ number: 3, status: 'crash', value: null, startedAt: 10 * MIN, endedAt: 12 * MIN }),
  ];

  it('time axis: each experiment where it finished, the running best in finishing order', () => {
    const d = onTimeAxis(prepareProgress(all, 'minimize'), all, 'minimize', 'minutes');
    assert.deepEqual(
      d.points.map((p) => [p.number, p.n]),
      [
        [0, 1],
        [1, 10],
        [2, 5],
        [3, 12],
      ],
    );
    assert.deepEqual(
      d.steps.map((s) => [s.n, s.y]),
      [
        [1, 2],
        [5, 1.8],
        [10, 1.5],
        [12, 1.5],
      ],
    );
    assert.equal(d.lastN, 12);
    assert.equal(timeUnit(all), 'minutes');
    assert.equal(timeUnit([experiment({ number: 0, startedAt: 0, endedAt: 3 * 60 * MIN })]), 'hours');
  });

  it('the spec names the axis and the scale', () => {
    const spec = JSON.stringify(
      progressChartSpec({ experiments: all, metric: 'val_bpb', direction: 'minimize', x: 'time', logY: true }),
    );
    assert.match(spec, /"title":"minutes since the study started"/);
    assert.match(spec, /"type":"log"/);
    const plain = JSON.stringify(progressChartSpec({ experiments: all, metric: 'val_bpb', direction: 'minimize' }));
    assert.match(plain, /"title":"experiment #"/);
    assert.ok(!plain.includes('"type":"log"'));
  });

  it('log scale: values must be > 0; the domain stays above 0', () => {
    assert.equal(logScaleProblem(all), null);
    assert.match(
      logScaleProblem([...all, experiment({ number: 4, status: 'discard', value: -0.5 })])!,
      /a log scale needs values > 0, but experiment #4 has -0.5/,
    );
    const d = prepareProgress(
      [experiment({ number: 0, value: 0.001 }), experiment({ number: 1, value: 0.5 })],
      'minimize',
    );
    const [lo, hi] = logDomain({ ...d, domain: [-0.04, 0.54] });
    assert.ok(lo > 0 && lo <= 0.001, `lo ${lo}`);
    assert.equal(hi, 0.54);
  });
});
