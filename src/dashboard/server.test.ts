/**
 * The dashboard's HTTP app in-process (Hono `app.request`) on a real SQLite ledger: read-only,
 * loopback Host check, CSP, assets from node_modules, experiment pages, the live feed's
 * snapshots (delta, running slot, queued, limits left), and SSE.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SqliteLedger } from '../ledger/sqlite.js';
import type { Study } from '../ledger/types.js';
import { experiment } from '../test-support/proposal-fixtures.js';
import { LiveFeed } from './feed.js';
import { createDashboardApp } from './server.js';
import { buildSnapshot } from './snapshot.js';

describe('dashboard app', () => {
  const root = mkdtempSync(join(tmpdir(), 'ar-dash-'));
  const ledger = SqliteLedger.open(join(root, 'ledger.db'));
  let study: Study;
  let feed: LiveFeed;
  let app: ReturnType<typeof createDashboardApp>;
  const req = (path: string, init: RequestInit = {}) =>
    app.request(`http://127.0.0.1:8686${path}`, { ...init, headers: { host: '127.0.0.1:8686', ...init.headers } });

  before(async () => {
    study = await ledger.openStudy({
      tag: 't',
      branch: 'autoresearch/t',
      metric: 'val_bpb',
      direction: 'minimize',
      baseCommit: 'a'.repeat(40),
      protectedHashes: {},
      config: { run: { timeout_s: 60 } },
    });
    const base = await ledger.createExperiment(study.id, {
      baseline: true,
      parentCommit: 'a'.repeat(40),
      proposer: 'baseline',
      description: 'baseline',
      slot: 0,
    });
    await ledger.finishExperiment(base.id, {
      status: 'keep',
      value: 2,
      metrics: { val_bpb: 2 },
      runMs: 1000,
      endedAt: Date.now(),
    });
    const e1 = await ledger.createExperiment(study.id, {
      baseline: false,
      parentCommit: 'a'.repeat(40),
      proposer: 'search',
      description: '<b>bold</b> change',
      diff: 'diff --git a/x b/x\n-a\n+b\n',
      slot: 0,
      usage: { inputTokens: 10, outputTokens: 5, costUsd: 0.5 },
    });
    await ledger.finishExperiment(e1.id, {
      status: 'keep',
      value: 1.5,
      metrics: { val_bpb: 1.5 },
      runMs: 1000,
      endedAt: Date.now(),
      evidence: { runs: [1.5], mean: 1.5, spread: 0, bestMean: 2, bestRuns: 1, threshold: 0.01 },
    });
    feed = new LiveFeed({ ledger, tag: 't', root, pollMs: 50 });
    app = createDashboardApp({
      ledger,
      tag: 't',
      feed,
      logRoot: join(root, 'logs'),
      allowedHosts: ['127.0.0.1', 'localhost', '::1'],
    });
  });
  after(async () => {
    feed.stop();
    await ledger.close();
  });

  it('serves the page, its assets (uPlot from node_modules) and a CSP without inline scripts', async () => {
    const page = await req('/');
    assert.equal(page.status, 200);
    const csp = page.headers.get('content-security-policy')!;
    assert.match(csp, /script-src 'self'/);
    assert.ok(!/script-src[^;]*unsafe-inline/.test(csp));
    assert.ok(!/<script>/.test(await page.text()), 'no inline script in the page');
    const up = await req('/assets/uplot.js');
    assert.equal(up.status, 200);
    assert.match(await up.text(), /uPlot/);
    assert.equal((await req('/assets/../../package.json')).status, 404);
    assert.equal((await req('/assets/secret.txt')).status, 404);
  });

  it('is read-only and answers only to loopback host names', async () => {
    assert.equal((await req('/api/state', { method: 'POST' })).status, 405);
    assert.equal((await req('/api/state', { method: 'DELETE' })).status, 405);
    const rebinding = await app.request('http://evil.example/api/state', { headers: { host: 'evil.example' } });
    assert.equal(rebinding.status, 403);
    assert.equal((await req('/api/state', { headers: { host: 'localhost:8686' } })).status, 200);
  });

  it('says which views it has: a local study and no hub study (dashboard without --hub)', async () => {
    assert.deepEqual(await (await req('/api/mode')).json(), { local: true, hub: false });
    const hub = await req('/api/hub');
    assert.equal(hub.status, 404);
    assert.match(((await hub.json()) as { error: string }).error, /no hub study/);
    assert.match(await (await req('/assets/hub.js')).text(), /export function renderHub/);
  });

  it('gives the state and an experiment page as JSON (text left as text for the page)', async () => {
    const state = (await (await req('/api/state')).json()) as ReturnType<typeof buildSnapshot> & { kind: string };
    assert.equal(state.kind, 'snapshot');
    assert.equal(state.experiments.length, 2);
    assert.equal(state.experiments[1]!.description, '<b>bold</b> change');
    assert.equal(state.experiments[1]!.delta, -0.5);
    assert.equal(state.totals.costUsd, 0.5);
    assert.equal(state.totals.tokens, 15);
    assert.equal(state.timeoutS, 60);
    const one = (await (await req('/api/experiments/1')).json()) as { diff: string; evidence: { threshold: number } };
    assert.match(one.diff, /^diff --git/);
    assert.equal(one.evidence.threshold, 0.01);
    assert.equal((await req('/api/experiments/9')).status, 404);
    // A row naming a file outside the log folder (a shared ledger is data) is not read.
    mkdirSync(join(root, 'logs'), { recursive: true });
    writeFileSync(join(root, 'logs', '0001.log'), 'training...\n');
    writeFileSync(join(root, 'secret.txt'), 'SECRET');
    symlinkSync(join(root, 'secret.txt'), join(root, 'logs', 'link.log'));
    const e1 = (await ledger.listExperiments(study.id))[1]!;
    const head = async (logPath: string) => {
      await ledger.updateExperiment(e1.id, { logPath });
      return ((await (await req('/api/experiments/1')).json()) as { logHead: string }).logHead;
    };
    assert.equal(await head(join(root, 'logs', '0001.log')), 'training...\n');
    assert.equal(await head(join(root, 'secret.txt')), '');
    assert.equal(await head(join(root, 'logs', '..', 'secret.txt')), '');
    assert.equal(await head(join(root, 'logs', 'link.log')), '');
    assert.equal((await req('/api/experiments/x')).status, 400);
  });

  it('streams snapshots over SSE, and a new experiment reaches an open stream', async () => {
    const res = await req('/api/events');
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    const until = async (re: RegExp) => {
      const end = Date.now() + 10_000;
      while (!re.test(text)) {
        if (Date.now() > end) throw new Error(`not seen ${re} in ${text.slice(-500)}`);
        const { value } = await reader.read();
        text += new TextDecoder().decode(value);
      }
    };
    feed.start();
    await until(/event: snapshot\ndata: \{/);
    await ledger.createExperiment(study.id, {
      baseline: false,
      parentCommit: 'a'.repeat(40),
      proposer: 'search',
      description: 'a new one',
      slot: 0,
    });
    await until(/"description":"a new one"/);
    await reader.cancel();
  });
});

describe('snapshot', () => {
  const study = {
    id: 1,
    tag: 't',
    branch: 'autoresearch/t',
    metric: 'val_bpb',
    direction: 'minimize',
    baseCommit: 'a',
    protectedHashes: {},
    config: {},
    createdAt: 0,
    bestCommit: 'a',
    bestValue: 1.4,
    bestNumber: 2,
    noise: null,
  } as Study;

  it('shows what each slot runs now, queued proposals, deltas and what is left under the limits', () => {
    const h = 3_600_000;
    const all = [
      experiment({ number: 0, baseline: true, value: 2, slot: 0, startedAt: 0, endedAt: 1000, runMs: 1000 }),
      experiment({ number: 1, status: 'discard', value: 2.1, slot: 1, startedAt: 1000, endedAt: 2000, runMs: 500 }),
      experiment({ number: 2, status: 'keep', value: 1.4, slot: 0, startedAt: 1000, endedAt: 3000, runMs: 2000 }),
      experiment({ number: 3, status: 'running', value: null, slot: 1, startedAt: 4000, endedAt: null, runMs: null }),
      experiment({
        number: 4,
        status: 'running',
        value: null,
        slot: null,
        startedAt: 4000,
        endedAt: null,
        runMs: null,
      }),
    ];
    const live = { pid: 1, since: 0 };
    const s = buildSnapshot(study, all, live, h, { maxExperiments: 10, maxHours: 2, since: 0 });
    assert.deepEqual(
      s.experiments.map((e) => [e.number, e.status, e.delta]),
      [
        [0, 'keep', null],
        [1, 'discard', 2.1 - 2],
        [2, 'keep', 1.4 - 2],
        [3, 'running', null],
        [4, 'queued', null],
      ],
    );
    assert.equal(s.slots.length, 2);
    assert.equal(s.slots[1]!.current!.number, 3);
    assert.equal(s.slots[0]!.current, null);
    assert.deepEqual(s.slots[1]!.timeline.at(-1), { number: 3, start: 4000, end: null, status: 'running' });
    assert.deepEqual(s.totals.left, { experiments: 8, hours: 1 });
    assert.equal(s.totals.perHour, 2);
    // a stopped study: nothing runs now, no limits
    const stopped = buildSnapshot(study, all, null, h);
    assert.equal(stopped.slots[1]!.current, null);
    assert.equal(stopped.totals.left, null);
  });
});
