import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Experiment, FinalStatus } from '../ledger/types.js';
import {
  prepareProgress,
  progressChartPng,
  progressChartSvg,
  resvgFontOptions,
  robustDomain,
  truncateLabel,
  writeProgressChart,
  type ProgressChartInput,
} from './index.js';

type Row = [FinalStatus | 'running', number | null, string?];

/** Experiments 0..n-1 from [status, value, description]; row 0 is the baseline. */
function exps(rows: Row[]): Experiment[] {
  return rows.map(
    ([status, value, description], number): Experiment => ({
      id: number + 1,
      studyId: 1,
      number,
      baseline: number === 0,
      status,
      parentCommit: 'abc',
      commit: null,
      description: description ?? (number === 0 ? 'baseline' : `change ${number}`),
      diff: '',
      change: null,
      proposer: number === 0 ? 'baseline' : 'search',
      value,
      metrics: value === null ? {} : ({ val_bpb: value } as Record<string, number>),
      reason: '',
      logPath: null,
      logTail: '',
      exitCode: 0,
      pgid: null,
      attempts: 1,
      usage: null,
      env: {},
      startedAt: 0,
      endedAt: 1,
      proposeMs: 1,
      runMs: 1,
      slot: null,
      evidence: null,
      repairs: [],
      host: null,
      leaseUntil: null,
    }),
  );
}

/** Deterministic 40-experiment minimize study, as a real run would look. */
function realistic(): Row[] {
  let seed = 7;
  const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const ideas = [
    'increase learning rate to 0.04',
    'use SwiGLU activation in MLP',
    'add QK-norm to attention',
    'halve the batch size and double the steps',
    'warmup 200 steps then cosine decay to zero over the run',
    'weight decay 0.1 on matrices only',
    'untie embedding and unembedding weights',
    'rotary base 50000',
    'depth 10 instead of 8',
    'Muon optimizer for hidden matrices',
    'logit soft-capping at 15',
    'remove dropout',
    'value embeddings on alternate layers',
    'sliding window attention 1024',
  ];
  const rows: Row[] = [['keep', 0.9979, 'baseline']];
  let best = 0.9979;
  for (let i = 1; i < 40; i++) {
    const idea = ideas[i % ideas.length]!;
    if (i === 9 || i === 23) rows.push(['crash', null, 'fused attention kernel (OOM)']);
    else if (i === 17) rows.push(['timeout', null, 'depth 16 with full attention']);
    else if (i === 30) rows.push(['rejected', null, 'edit prepare.py eval']);
    else if (rnd() < 0.3 || i === 38 || i === 39) {
      best -= 0.0005 + rnd() * rnd() * 0.01;
      rows.push(['keep', Number(best.toFixed(6)), idea]);
    } else rows.push(['discard', Number((best + 0.0005 + rnd() * 0.012).toFixed(6)), idea]);
  }
  return rows;
}

const input = (rows: Row[], extra: Partial<ProgressChartInput> = {}): ProgressChartInput => ({
  experiments: exps(rows),
  metric: 'val_bpb',
  direction: 'minimize',
  ...extra,
});

/** PNG signature + IHDR width/height. */
function pngSize(buf: Buffer): { width: number; height: number } {
  assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.equal(buf.subarray(12, 16).toString('ascii'), 'IHDR');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

test('SVG: well-formed, title counts, kept labels, axis title', async () => {
  const rows: Row[] = [
    ['keep', 1.0],
    ['discard', 1.01],
    ['keep', 0.98, 'use <SwiGLU> & RMSNorm'],
    ['crash', null],
    ['running', null],
    ['rejected', null],
  ];
  const svg = await progressChartSvg(input(rows, { title: 'mar5' }));
  assert.ok(svg.startsWith('<svg'), svg.slice(0, 50));
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  assert.ok(svg.includes('mar5: 4 experiments, 1 kept'), 'title');
  assert.ok(svg.includes('use &lt;SwiGLU&gt; &amp; RMSNorm'), 'kept description, escaped');
  assert.ok(svg.includes('val_bpb (lower is better)'));
  assert.ok(svg.includes('crash (no value)'), 'legend entry for crashes');
});

test('PNG: signature, ~1200 px wide, custom width', async () => {
  const svg = await progressChartSvg(input(realistic()));
  const a = pngSize(progressChartPng(svg));
  assert.equal(a.width, 1200);
  assert.ok(a.height > 400 && a.height < 1000, `height ${a.height}`);
  assert.equal(pngSize(progressChartPng(svg, { width: 600 })).width, 600);
});

test('text renders in PNGs (needs a system font, e.g. Debian fonts-dejavu-core)', () => {
  const { found } = resvgFontOptions();
  assert.ok(found, 'no sans-serif font found: install fonts-dejavu-core');
  const blank =
    '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40"><rect width="200" height="40" fill="white"/>';
  const withText = `${blank}<text x="5" y="28" font-family="sans-serif" font-size="20">val_bpb 0.99</text></svg>`;
  assert.notDeepEqual(progressChartPng(withText, { width: 200 }), progressChartPng(`${blank}</svg>`, { width: 200 }));
});

test('maximize: running max, y-axis says higher is better', async () => {
  const rows: Row[] = [
    ['keep', 0.5],
    ['keep', 0.6],
    ['discard', 0.55],
    ['keep', 0.7],
    ['discard', 0.4],
  ];
  const d = prepareProgress(exps(rows), 'maximize');
  assert.deepEqual(
    d.steps.map((s) => [s.n, s.y]),
    [
      [0, 0.5],
      [1, 0.6],
      [3, 0.7],
      [4, 0.7],
    ],
  );
  const svg = await progressChartSvg(input(rows, { metric: 'accuracy', direction: 'maximize' }));
  assert.ok(svg.includes('accuracy (higher is better)'));
  assert.ok(svg.includes('4 experiments, 2 kept'));
});

test('running best step line extends to the last experiment (minimize)', () => {
  const d = prepareProgress(
    exps([
      ['keep', 1],
      ['discard', 1.1],
      ['keep', 0.9],
      ['crash', null],
    ]),
    'minimize',
  );
  assert.deepEqual(
    d.steps.map((s) => [s.n, s.y]),
    [
      [0, 1],
      [2, 0.9],
      [3, 0.9],
    ],
  );
  assert.deepEqual(d.best, { n: 2, value: 0.9 });
  const crash = d.points.find((p) => p.kind === 'crash')!;
  assert.equal(crash.y, d.domain[1], 'valueless runs sit on the worse (top) edge');
});

test('edge cases render without throwing', async () => {
  const cases: Record<string, Row[]> = {
    empty: [],
    onlyBaseline: [['keep', 0.9979]],
    onlyRunning: [['running', null]],
    allCrashed: [
      ['crash', null],
      ['crash', null],
      ['timeout', null],
      ['rejected', null],
    ],
    flat: [
      ['keep', 1],
      ['discard', 1],
      ['discard', 1],
    ],
    zeroFlat: [
      ['keep', 0],
      ['discard', 0],
    ],
    outlier: [
      ['keep', 1],
      ['discard', 1.01],
      ['keep', 0.99],
      ['discard', 1e9],
      ['discard', -1e9],
      ['keep', 0.98],
    ],
  };
  for (const [name, rows] of Object.entries(cases)) {
    for (const direction of ['minimize', 'maximize'] as const) {
      const svg = await progressChartSvg(input(rows, { direction }));
      assert.ok(svg.startsWith('<svg'), name);
      pngSize(progressChartPng(svg, { width: 300 }));
    }
  }
  assert.ok((await progressChartSvg(input([]))).includes('no experiments yet'));
  assert.ok((await progressChartSvg(input([['keep', 1]]))).includes('0 experiments, 0 kept'));
});

test('outliers are clipped to the edge, not squashing the rest', () => {
  const rows: Row[] = [
    ['keep', 1],
    ['discard', 1.01],
    ['keep', 0.99],
    ['discard', 1e9],
    ['keep', 0.98],
  ];
  const d = prepareProgress(exps(rows), 'minimize');
  assert.ok(d.domain[1] < 1.1 && d.domain[0] > 0.9, `domain ${d.domain}`);
  const off = d.points.find((p) => p.n === 3)!;
  assert.equal(off.kind, 'off-scale');
  assert.equal(off.y, d.domain[1]);
  assert.equal(off.value, 1e9);
  const [lo, hi] = robustDomain([5, 5, 5], [5]);
  assert.ok(lo < 5 && hi > 5, 'flat range is widened');
});

test('truncateLabel', () => {
  assert.equal(truncateLabel('short'), 'short');
  const t = truncateLabel('x'.repeat(100));
  assert.equal(t.length, 40);
  assert.ok(t.endsWith('…'));
  assert.equal(truncateLabel('a\n  b'), 'a b');
});

test('writeProgressChart: .svg and .png by extension, usage error otherwise', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'progress-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const inp = input(realistic());
  await writeProgressChart(join(dir, 'p.svg'), inp);
  assert.ok((await readFile(join(dir, 'p.svg'), 'utf8')).startsWith('<svg'));
  await writeProgressChart(join(dir, 'p.PNG'), inp);
  assert.equal(pngSize(await readFile(join(dir, 'p.PNG'))).width, 1200);
  await assert.rejects(writeProgressChart(join(dir, 'p.jpg'), inp), /must end in \.svg or \.png/);
  // Set PROGRESS_SAMPLE_DIR to write sample charts for a visual check.
  const out = process.env.PROGRESS_SAMPLE_DIR;
  if (out) {
    await writeProgressChart(join(out, 'progress-sample.png'), { ...inp, title: 'autoresearch/mar5' });
    await writeProgressChart(join(out, 'progress-sample.svg'), { ...inp, title: 'autoresearch/mar5' });
    await writeProgressChart(
      join(out, 'progress-crash.png'),
      input([
        ['crash', null],
        ['crash', null],
        ['timeout', null],
        ['rejected', null],
      ]),
    );
    const outl: Row[] = [...realistic()];
    outl[12] = ['discard', 1e9, 'lr 10x (diverged)'];
    outl[25] = ['discard', 4.2, 'no warmup (diverged)'];
    await writeProgressChart(join(out, 'progress-outlier.png'), input(outl));
    const max = realistic().map(([s, v, desc]): Row => [s, v === null ? null : 2 - v, desc]);
    await writeProgressChart(join(out, 'progress-max.png'), input(max, { metric: 'accuracy', direction: 'maximize' }));
    await writeProgressChart(join(out, 'progress-empty.png'), input([]));
  }
});

test('label layout: room inside the plot, overlapping labels thinned by priority', async () => {
  const { fitLabels, labelPriority, thinLabels } = await import('./label-layout.js');
  const style = { fontSize: 11, angle: -30, dx: 8 };
  const plot = { width: 1000, height: 500, x: [-0.5, 10.5] as [number, number], y: [0, 1] as [number, number] };
  const long = { n: 10, y: 0.9, text: 'x'.repeat(40) };
  const room = fitLabels([long], plot, style);
  assert.ok(room.x[1] > 10.5 && room.y[1] > 1, 'grows right and up for a rising label');
  const labels = [
    { n: 0, y: 0.5, text: 'baseline' },
    { n: 5, y: 0.4, text: 'a' },
    { n: 5, y: 0.4, text: 'b' },
    { n: 9, y: 0.1, text: 'best' },
  ];
  const shown = thinLabels(labels, labelPriority(labels), plot, style).map((l) => l.text);
  assert.deepEqual(shown.filter((t) => t === 'a' || t === 'b').length, 1);
  assert.ok(shown.includes('baseline') && shown.includes('best'));
});
