/**
 * `autoresearch report` and `plot`'s axes on a real study (landscape, search proposer): the
 * report's tables hold the ledger's numbers (read back by parsing the file), ablation and
 * transfer records appear as tables, a hostile description stays text, and the HTML renders in
 * Chromium with its inline SVG chart (screenshot in test-artifacts/report/).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { SqliteLedger } from '../src/ledger/sqlite.js';
import type { Experiment } from '../src/ledger/types.js';
import { fmtNum } from '../src/report/report-html.js';
import { artifactsDir, launchBrowser } from '../src/test-support/browser.js';
import { cli } from '../src/test-support/cli.js';
import { makeLandscapeRepo } from '../src/test-support/landscape.js';

const XSS = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">| pipe';

/** Rows of the table marked data-table="id": cell texts, entities decoded. */
function tableRows(html: string, id: string): string[][] {
  const m = new RegExp(`<table data-table="${id}">([\\s\\S]*?)</table>`).exec(html);
  assert.ok(m, `no table ${id}`);
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(m[1]!)![1]!;
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((r) =>
    [...r[1]!.matchAll(/<td>([\s\S]*?)<\/td>/g)].map((c) =>
      c[1]!
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'")
        .replace(/&amp;/g, '&'),
    ),
  );
}

describe('report', () => {
  const dir = makeLandscapeRepo({ sandbox: 'none' });
  let all: Experiment[] = [];
  let browser: Browser;

  before(async () => {
    const r = cli(['run', dir, '-n', '8', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const ledger = SqliteLedger.open(join(dir, '.autoresearch', 'ledger.db'));
    try {
      const study = (await ledger.getStudy('test'))!;
      const first = (await ledger.listExperiments(study.id)).find((e) => !e.baseline && e.status === 'keep')!;
      await ledger.updateExperiment(first.id, {
        description: XSS,
        usage: { inputTokens: 1200, outputTokens: 300, costUsd: 0.0125 },
      });
      await ledger.putRecord(study.id, 'ablation', '01-first', {
        change: 'WIDTH 32 -> 64',
        without: 1.9,
        with: 1.77,
        effect: -0.13,
      });
      await ledger.putRecord(study.id, 'ablation', '02-second', {
        change: 'LR',
        without: 1.8,
        with: 1.7,
        effect: -0.1,
      });
      await ledger.putRecord(study.id, 'transfer', 'gpt-small', {
        target: 'gpt-small',
        baseline: 3.2,
        best: 3.1,
        note: XSS,
      });
      all = await ledger.listExperiments(study.id);
    } finally {
      await ledger.close();
    }
    browser = await launchBrowser();
  });
  after(async () => browser?.close());

  it('HTML: the kept chain, counts, cost and records hold the ledger numbers; the chart is inline SVG', async () => {
    const out = join(dir, 'r.html');
    const r = cli(['report', dir, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const html = readFileSync(out, 'utf8');
    assert.ok(!/<script/i.test(html), 'no script element at all (the hostile description is escaped)');
    assert.ok(!/src=["']?(https?:|\/\/)/.test(html), 'nothing loaded from elsewhere');
    assert.match(html, /<svg[\s\S]*<\/svg>/);
    const keeps = all.filter((e) => !e.baseline && e.status === 'keep');
    const kept = tableRows(html, 'kept');
    assert.deepEqual(
      kept.map((k) => [Number(k[0]), k[1], k[2], k[7]]),
      keeps.map((e) => [e.number, e.commit!.slice(0, 7), fmtNum(e.value), e.description]),
    );
    // gains chain: each is the value minus the best before it
    let best = all.find((e) => e.baseline)!.value!;
    for (const [i, e] of keeps.entries()) {
      assert.equal(Number(kept[i]![3]), Number(fmtNum(e.value! - best)));
      assert.equal(kept[i]![4], e.evidence!.runs.map(fmtNum).join(', '), 'the runs behind the decision');
      best = Math.min(best, e.value!);
    }
    const counts = Object.fromEntries(tableRows(html, 'counts').map(([k, v]) => [k, Number(v)]));
    for (const s of ['keep', 'discard', 'crash', 'timeout', 'rejected', 'conflict'])
      assert.equal(counts[s], all.filter((e) => !e.baseline && e.status === s).length, s);
    const byKind = tableRows(html, 'by-kind');
    assert.equal(
      byKind.reduce((t, r) => t + Number(r[2]), 0),
      all.filter((e) => !e.baseline && e.status !== 'keep').length,
    );
    const cost = Object.fromEntries(tableRows(html, 'cost'));
    assert.equal(cost['proposer cost (USD)'], '0.0125');
    assert.equal(cost['input tokens'], '1200');
    assert.deepEqual(tableRows(html, 'ablation'), [
      ['01-first', 'WIDTH 32 -> 64', '1.9', '1.77', '-0.13'],
      ['02-second', 'LR', '1.8', '1.7', '-0.1'],
    ]);
    assert.deepEqual(tableRows(html, 'transfer'), [['gpt-small', 'gpt-small', '3.2', '3.1', XSS]]);

    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    try {
      await page.goto(pathToFileURL(out).href);
      assert.equal(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned), undefined);
      assert.equal(await page.$('img[src="x"]'), null);
      const box = await page.$eval('.chart svg', (svg) => {
        const r = svg.getBoundingClientRect();
        return { w: r.width, h: r.height };
      });
      assert.ok(box.w > 500 && box.h > 250, `chart rendered ${box.w}x${box.h}`);
      assert.equal(await page.textContent('table[data-table="kept"] tbody tr td:nth-child(8)'), XSS);
      await page.screenshot({ path: join(artifactsDir('report'), 'report.png'), fullPage: true });
    } finally {
      await page.close();
    }
  });

  it('Markdown: report.md with the chart as a PNG next to it; cells escaped', () => {
    const r = cli(['report', dir, '--md']);
    assert.equal(r.code, 0, r.stderr);
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    assert.match(md, /!\[progress chart\]\(report-progress\.png\)/);
    const png = readFileSync(join(dir, 'report-progress.png'));
    assert.equal(png.subarray(1, 4).toString(), 'PNG');
    assert.ok(md.includes('&lt;script&gt;window.__pwned = 1&lt;/script&gt;'), 'HTML in a cell is escaped');
    assert.ok(md.includes('\\| pipe'), 'a pipe does not break the table');
    assert.match(md, /## Ablation\n\n\| key \| change \| without \| with \| effect \|/);
    assert.match(md, /## Transfer/);
    assert.equal(r.stdout.trim().split('\n').length, 2, 'both files are listed');
  });

  it('rejects an --out that does not match the format', () => {
    const r = cli(['report', dir, '--md', '--out', join(dir, 'x.html')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--md writes Markdown: --out must end in \.md/);
  });

  it('plot --x time --log draws on a time axis with a log scale; bad values are one-line errors', () => {
    const svg = join(dir, 'time.svg');
    const r = cli(['plot', dir, '--x', 'time', '--log', '-o', svg]);
    assert.equal(r.code, 0, r.stderr);
    const text = readFileSync(svg, 'utf8');
    assert.match(text, /minutes since the study started/);
    const byNumber = cli(['plot', dir, '--x', 'experiment', '-o', join(dir, 'n.svg')]);
    assert.equal(byNumber.code, 0, byNumber.stderr);
    assert.match(readFileSync(join(dir, 'n.svg'), 'utf8'), /experiment #/);
    const bad = cli(['plot', dir, '--x', 'wallclock', '-o', join(dir, 'bad.svg')]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--x must be "experiment" or "time", got "wallclock"/);
    assert.ok(!existsSync(join(dir, 'bad.svg')));
  });
});
