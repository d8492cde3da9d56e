/**
 * `dashboard --hub` in a real Chromium against a real hub listener over PostgreSQL: the page shows
 * the hub study (per-platform frontier chart, kept changes and whether they held elsewhere, recent
 * results, contributors), follows it live (a verification that moves a platform's best reaches the
 * page without a reload; a hub that goes down and comes back), never shows a claimed value before
 * it is verified, never receives the token, and keeps hostile descriptions as text. A joined
 * workspace gets a "hub" tab next to its own study. Screenshots: test-artifacts/dashboard-hub/.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { HubClient, type ResultInput } from '../hub/client.ts';
import { migrateHub } from '../hub/schema.ts';
import { type RunningHub, startHub } from '../hub/serve.ts';
import { createContributor } from '../hub/tokens.ts';
import { platformKey } from '../hub/wire.ts';
import { artifactsDir, launchBrowser } from '../test-support/browser.ts';
import { type CliResult, cli, cliAsync } from '../test-support/cli.ts';
import { CPU, fakeSha, GPU } from '../test-support/hub.ts';
import { type TestDatabase, testDatabase } from '../test-support/postgres.ts';

// Browser-side globals used inside page functions (the project's tsconfig has no DOM lib).
declare const document: { querySelector(selector: string): { textContent: string | null } | null };
const pwned = () => (globalThis as unknown as { __pwned?: number }).__pwned;
const XSS = '<img src=x onerror="window.__pwned = 1">miracle';

let db: TestDatabase;
let hub: RunningHub;
let hubPort = 0;
const tokens: Record<string, string> = {};
const tmp = mkdtempSync(join(tmpdir(), 'dash-hub-'));
let studyUrl = '';
let studyId = '';
let base = '';
let joined = '';
const children: ChildProcess[] = [];
let browser: Browser;
let page: Page;
const shots = artifactsDir('dashboard-hub');

function collect(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}
const env = (who: string) => ({ AUTORESEARCH_HUB_TOKEN: tokens[who]! });

/** Starts `autoresearch dashboard ...` and resolves with the URL it prints. */
function dashboard(args: string[]): Promise<string> {
  const child = cliAsync(['dashboard', ...args, '--port', '0', '--poll-ms', '200'], { env: env('carol') });
  children.push(child);
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no URL in: ${buf}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /dashboard on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (buf += d.toString()));
    child.once('exit', (code) => reject(new Error(`dashboard exited (${code}): ${buf}`)));
  });
}

const client = (who: string) => new HubClient({ url: `http://127.0.0.1:${hubPort}`, token: tokens[who]! });
async function post(who: string, r: Partial<ResultInput>) {
  const out = await client(who).postResult(studyId, {
    parent: base,
    commit: fakeSha(1),
    diff: '+x\n',
    value: 1,
    status: 'discard',
    platform: CPU,
    ...r,
  });
  assert.equal(out.kind, 'posted', JSON.stringify(out));
}
async function verify(who: string, value: number, platform = CPU) {
  const w = await client(who).getWork(studyId, platform);
  assert.ok(w.kind === 'ok' && w.value?.kind === 'verification', `${who}: ${JSON.stringify(w)}`);
  const work = w.value!;
  await post(who, { workId: work.id, parent: work.parent, commit: work.commit!, diff: work.diff, value, platform });
}

before(async () => {
  db = await testDatabase('dashhub');
  const pool = new pg.Pool({ connectionString: db.url, max: 1 });
  await migrateHub(pool);
  for (const n of ['alice', 'bob', 'carol', 'gina', 'hank', 'mallory']) {
    const t = await createContributor(pool, n, Date.now());
    assert.ok(t.kind === 'created');
    tokens[n] = t.token;
  }
  await pool.end();
  hub = await startHub({ db: db.url, port: 0 });
  hubPort = hub.port;
  const ws = join(tmp, 'ws');
  assert.equal(cli(['init', ws, '--template', 'landscape']).code, 0);
  const pub = await collect(
    cliAsync(['publish', ws, '--hub', hub.url, '--tolerance', '0.01', '--name', 'land', '--json'], {
      env: env('alice'),
    }),
  );
  assert.equal(pub.code, 0, pub.stderr);
  ({ url: studyUrl, id: studyId } = JSON.parse(pub.stdout));
  joined = join(tmp, 'joined');
  const j = await collect(cliAsync(['join', studyUrl, joined], { env: env('carol') }));
  assert.equal(j.code, 0, j.stderr);
  const st = await client('alice').study(studyId);
  assert.ok(st.kind === 'ok');
  base = st.value.baselineCommit as string;

  await post('alice', { status: 'baseline', commit: base, value: 1.0, description: 'baseline' });
  await verify('bob', 1.004);
  await post('alice', { commit: fakeSha(2), diff: '+lr = 0.2\n', value: 0.95, status: 'keep', description: 'lr up' });
  await verify('bob', 0.952);
  await post('gina', { status: 'baseline', commit: base, value: 0.8, platform: GPU, description: 'baseline' });
  await verify('hank', 0.801, GPU);
  // the same change on the GPU: claimed, not verified yet
  await post('gina', { commit: fakeSha(12), diff: '+lr = 0.2\n', value: 0.78, status: 'keep', platform: GPU });
  await post('mallory', { commit: fakeSha(3), value: 0.123456, status: 'keep', description: XSS });

  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
});
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  await browser?.close();
  await hub.close();
  await db.drop();
  rmSync(tmp, { recursive: true, force: true });
});

const gpuBest = `#hub-platforms tr[data-key="${platformKey(GPU)}"] td.best`;

describe('dashboard --hub in Chromium', () => {
  it('shows the hub study live: frontier per platform, kept changes, recent results, contributors', async () => {
    const url = await dashboard(['--hub', studyUrl]);
    await page.goto(url);
    await page.waitForSelector('#hub-platforms tbody tr', { timeout: 30_000 });
    assert.match((await page.textContent('#title'))!, /^hub: land — val_bpb \(minimize\)$/);
    assert.equal(await page.textContent('#live'), 'hub live');
    assert.equal(await page.textContent(`#hub-platforms tr[data-key="${platformKey(CPU)}"] td.best`), '0.952000');
    assert.equal(await page.textContent(gpuBest), '0.801000');
    assert.ok(await page.$('#hub-chart .uplot canvas'), 'the frontier chart is drawn');
    const legend = await page.$$eval('#hub-chart .u-legend .u-series', (s) => s.map((x) => x.textContent));
    assert.ok(legend.some((l) => /1x H200/.test(l!)) && legend.some((l) => /Test CPU 9000/.test(l!)));
    assert.match((await page.textContent(`#hub-kept tr[data-commit="${fakeSha(2)}"]`))!, /lr up.*pending on P\d/);
    assert.equal(await page.textContent('#hub-counts [data-k="claims waiting"] b'), '2');
    const rows = await page.$$eval('#hub-recent tbody tr', (trs) => trs.map((t) => t.textContent));
    assert.equal(rows.length, 8);
    assert.match(rows[0]!, /mallory.*keepprovisionalhidden<img src=x/, 'the forged value is hidden, the text is text');
    assert.equal(await page.evaluate(pwned), undefined);
    assert.equal(await page.$('img[src="x"]'), null);
    const html = await page.content();
    assert.ok(!html.includes('0.123456'), 'a claimed value is nowhere in the page');
    assert.ok(!html.includes(tokens.carol!), 'nor the token');
    const api = await (await fetch(`${url}api/hub`)).text();
    assert.ok(api.includes('"verificationsQueued":2') && !api.includes(tokens.carol!) && !api.includes('0.123456'));
    assert.match((await page.textContent('#hub-contributors tr[data-name="alice"]'))!, /^alice210no$/);
    await page.screenshot({ path: join(shots, 'hub.png'), fullPage: true });

    // hank verifies gina's GPU claim: the GPU best moves, the page follows without a reload
    await verify('hank', 0.781, GPU);
    await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === '0.781000', gpuBest, {
      timeout: 20_000,
    });
    assert.match((await page.textContent(`#hub-kept tr[data-commit="${fakeSha(2)}"]`))!, /held on P\d \(0\.781000\)/);
    assert.equal(await page.textContent('#hub-counts [data-k="claims waiting"] b'), '1');
    await page.screenshot({ path: join(shots, 'hub-moved.png'), fullPage: true });

    // the hub goes down: the page says so and keeps what it showed; it comes back: live again
    await hub.close();
    await page.waitForSelector('#hub-error', { timeout: 20_000 });
    assert.match(
      (await page.textContent('#hub-error'))!,
      /cannot reach the hub at http:\/\/127\.0\.0\.1:\d+ .*is it running/,
    );
    assert.equal(await page.textContent('#live'), 'hub unreachable');
    assert.equal(await page.textContent(gpuBest), '0.781000');
    hub = await startHub({ db: db.url, port: hubPort });
    await page.waitForFunction(() => document.querySelector('#live')?.textContent === 'hub live', null, {
      timeout: 20_000,
    });
    assert.equal(await page.$('#hub-error'), null);
  });

  it('in a joined workspace: the local study with a hub tab', async () => {
    const url = await dashboard(['--hub', joined]);
    await page.goto(url);
    await page.waitForSelector('#waiting', { timeout: 30_000 });
    assert.match((await page.textContent('#waiting'))!, /waiting for study/, 'the local study has not run yet');
    await page.click('#hub-tab');
    await page.waitForSelector('#hub-platforms tbody tr', { timeout: 20_000 });
    assert.match(page.url(), /#\/hub$/);
    assert.equal(await page.textContent(gpuBest), '0.781000');
    await page.screenshot({ path: join(shots, 'hub-tab.png'), fullPage: true });
  });

  it('refuses to start with a bad token or an unknown study, in one line', async () => {
    const bad = await collect(
      cliAsync(['dashboard', '--hub', studyUrl, '--port', '0'], { env: { AUTORESEARCH_HUB_TOKEN: 'arh_nope' } }),
    );
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^autoresearch: the hub at .* refused the token: unknown token.*\n$/);
    const unknown = await collect(
      cliAsync(['dashboard', '--hub', `${hub.url}/studies/00000000-0000-4000-8000-000000000000`, '--port', '0'], {
        env: env('carol'),
      }),
    );
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^autoresearch: the hub at .* has no study 00000000-0000-4000-8000-000000000000/);
  });
});
