/**
 * The dashboard in a real browser: a study runs in one process (`autoresearch run`), the
 * dashboard in another (`autoresearch dashboard`, polling the ledger); the page shows a running
 * experiment live, then its end, and an experiment's page with its diff. A description written
 * by the proposer with <script> and an onerror handler stays text. Screenshots go to
 * test-artifacts/dashboard/.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { SqliteLedger } from '../src/ledger/sqlite.js';
import { artifactsDir, launchBrowser } from '../src/test-support/browser.js';
import { cliAsync } from '../src/test-support/cli.js';
import { LANDSCAPE_TRAIN, makeLandscapeRepo } from '../src/test-support/landscape.js';

// Browser-side globals used inside page functions (the project's tsconfig has no DOM lib).
declare const document: { querySelector(selector: string): { textContent: string | null } | null };
const pwned = () => (globalThis as unknown as { __pwned?: number }).__pwned;

const XSS = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">LR tweak';

/** Resolves with the first match of `re` in the child's stdout. */
function waitForLine(child: ChildProcess, re: RegExp, ms = 60_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no ${re} in:\n${buf}`)), ms);
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = re.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    child.on('exit', (code) => reject(new Error(`exited (${code}) before ${re}:\n${buf}`)));
  });
}

describe('dashboard in Chromium', () => {
  let browser: Browser;
  let page: Page;
  const children: ChildProcess[] = [];
  const shots = artifactsDir('dashboard');
  const dir = makeLandscapeRepo({
    sandbox: 'none',
    // Each run takes ~2 s, long enough to be seen running.
    train: `await new Promise((r) => setTimeout(r, 2000));\n${LANDSCAPE_TRAIN}`,
  });
  let url = '';

  before(async () => {
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await browser?.close();
  });

  it('waits for the study, then follows a running experiment live (ledger polling)', async () => {
    const dash = cliAsync(['dashboard', dir, '--port', '0', '--poll-ms', '200']);
    children.push(dash);
    url = (await waitForLine(dash, /dashboard on (http:\/\/127\.0\.0\.1:\d+\/)/))[1]!;
    await page.goto(url);
    await page.waitForSelector('#waiting', { timeout: 20_000 });
    assert.match((await page.textContent('#waiting'))!, /waiting for study "test"/);

    const run = cliAsync(['run', dir, '-n', '3', '--json']);
    children.push(run);
    // A slot shows a running experiment (past the baseline) with its elapsed time: pushed by the
    // server, no reload.
    await page.waitForFunction(
      () => {
        const a = document.querySelector('.slot .current a');
        return a !== null && a.textContent !== '#0';
      },
      null,
      { timeout: 60_000 },
    );
    const running = Number(/#(\d+)/.exec((await page.textContent('.slot .current'))!)![1]);
    assert.ok(running >= 1);
    assert.match((await page.textContent('#live'))!, /running/);
    // The run's own limits (-n 3), recorded by that process, say what is left.
    assert.match((await page.textContent('[data-k="left under limits"] b'))!, /^[1-3] experiments$/);
    assert.match((await page.textContent('.slot .elapsed'))!, /^\d+:\d\d \/ 0:30$/);
    assert.equal(await page.textContent(`tr[data-n="${running}"] td:nth-child(2)`), 'running');
    await page.screenshot({ path: join(shots, 'running.png'), fullPage: true });
    // The same experiment finishes: its row changes status without a reload.
    await page.waitForFunction(
      (n) => {
        const td = document.querySelector(`tr[data-n="${n}"] td:nth-child(2)`);
        return td && td.textContent !== 'running' && td.textContent !== 'queued';
      },
      running,
      { timeout: 60_000 },
    );
    await new Promise<void>((resolve) => (run.exitCode !== null ? resolve() : run.once('exit', () => resolve())));
    assert.equal(run.exitCode, 0);
    await page.waitForFunction(() => document.querySelector('#live')?.textContent === 'not running', null, {
      timeout: 20_000,
    });
    const rows = await page.$$eval('#experiments tbody tr', (trs) => trs.length);
    assert.equal(rows, 4, 'baseline + 3 experiments');
    // The chart is drawn with uPlot from node_modules (served by the dashboard itself); hovering
    // shows an experiment's number, status, delta and description.
    assert.ok(await page.$('#chart .uplot canvas'), 'the progress chart is drawn');
    const over = (await (await page.$('#chart .u-over'))!.boundingBox())!;
    await page.mouse.move(over.x + over.width * 0.66, over.y + over.height / 2);
    await page.waitForSelector('#tip', { state: 'visible', timeout: 5_000 });
    assert.match(
      (await page.textContent('#tip'))!,
      /^#[1-3] (keep|discard|crash|timeout|rejected) .*\(Δ [−+±][\d.]+\)/,
    );
    await page.screenshot({ path: join(shots, 'finished.png'), fullPage: true });
  });

  it('keeps a hostile description as text, filters and sorts the table', async () => {
    const ledger = SqliteLedger.open(join(dir, '.autoresearch', 'ledger.db'));
    try {
      const study = (await ledger.getStudy('test'))!;
      const e1 = (await ledger.listExperiments(study.id)).find((e) => e.number === 1)!;
      await ledger.updateExperiment(e1.id, {
        description: XSS,
        // what an LLM agent's proposal records (src/proposer/llm/transcript.ts), hostile text included
        change: {
          agent: 'anthropic',
          transcript: {
            steps: [
              { turn: 1, said: 'Reading the script first.', tools: [{ name: 'read_file', target: 'train.mjs' }] },
              { turn: 2, said: XSS, tools: [{ name: 'edit_file', target: 'prepare.mjs', refused: true }] },
            ],
            omitted: 0,
          },
        },
      });
    } finally {
      await ledger.close();
    }
    await page.waitForFunction(
      (text) => document.querySelector('tr[data-n="1"] td:nth-child(5)')?.textContent === text,
      XSS,
      { timeout: 20_000 },
    );
    assert.equal(await page.evaluate(pwned), undefined);
    assert.equal(await page.$('img[src="x"]'), null, 'no element was made from the description');
    // filter by status
    await page.selectOption('#status-filter', 'keep');
    const statuses = await page.$$eval('#experiments tbody td:nth-child(2)', (tds) => tds.map((t) => t.textContent));
    assert.ok(statuses.length >= 1 && statuses.every((s) => s === 'keep'), statuses.join(','));
    await page.selectOption('#status-filter', 'all');
    // sort by number, ascending then descending
    await page.click('th[data-k="number"]');
    const nums = async () =>
      page.$$eval('#experiments tbody tr', (trs) => trs.map((t) => Number(t.getAttribute('data-n'))));
    const first = await nums();
    await page.click('th[data-k="number"]');
    assert.deepEqual(await nums(), [...first].reverse());
    assert.deepEqual(
      [...first].sort((a, b) => a - b),
      [0, 1, 2, 3],
    );
  });

  it("opens an experiment's page: diff highlighted, decision and evidence, log", async () => {
    await page.click('tr[data-n="1"]');
    await page.waitForSelector('#diff', { timeout: 10_000 });
    assert.match(page.url(), /#\/e\/1$/);
    const diff = (await page.textContent('#diff'))!;
    assert.match(diff, /diff --git a\/train\.mjs b\/train\.mjs/);
    assert.ok((await page.$$('#diff .add')).length >= 1, 'added lines are highlighted');
    assert.ok((await page.$$('#diff .del')).length >= 1, 'removed lines are highlighted');
    assert.equal(await page.textContent('#exp-title'), `#1 ${await page.textContent('#exp-title span')} — ${XSS}`);
    assert.equal(await page.evaluate(pwned), undefined);
    const evidence = (await page.textContent('#evidence'))!;
    assert.match(evidence, /runs\d/);
    assert.match(evidence, /mean\d/);
    assert.match((await page.textContent('#log-tail'))!, /val_bpb:/);
    assert.match((await page.textContent('#log-head'))!, /training\.\.\./);
    const session = (await page.textContent('#transcript'))!;
    assert.match(session, /turn 1: Reading the script first\. read_file train\.mjs/);
    assert.match(session, /edit_file prepare\.mjs \(refused\)/);
    assert.ok(session.includes(XSS), 'model-written text shown as text');
    assert.equal(await page.evaluate(pwned), undefined);
    assert.doesNotMatch(
      (await page.textContent('#proposer'))!,
      /Reading the script/,
      'not repeated in the change line',
    );
    await page.screenshot({ path: join(shots, 'experiment.png'), fullPage: true });
  });
});
